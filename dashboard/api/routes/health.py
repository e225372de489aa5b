"""Liveness and readiness, for compose healthchecks and orchestrators."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from dashboard.api.deps import WatcherDep

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process serves requests."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "No view of the ledger yet"}})
def readyz(watcher: WatcherDep) -> JSONResponse:
    """Ready once the ledger has been read (a later outage of the chain keeps it ready: the page
    serves the last view and says the chain is unreachable)."""
    if watcher.snapshot is None:
        return JSONResponse({"status": "starting", "error": watcher.chain.error}, status_code=503)
    return JSONResponse({"status": "ready", "block": watcher.snapshot.block})
