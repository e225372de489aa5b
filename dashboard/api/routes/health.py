"""Liveness and readiness, for compose healthchecks and orchestrators."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from dashboard.api.deps import WatcherDep

router = APIRouter(tags=["health"])


class Alive(BaseModel):
    status: Literal["ok"]


class Ready(BaseModel):
    status: Literal["ready"]
    #: The block the served view of the ledger was taken at.
    block: int


class Starting(BaseModel):
    status: Literal["starting"]
    #: Why there is no view yet (the chain unreachable, say), if known.
    error: str | None


@router.get("/healthz")
def healthz() -> Alive:
    """The process serves requests."""
    return Alive(status="ok")


@router.get(
    "/readyz",
    response_model=Ready,
    responses={503: {"model": Starting, "description": "No view of the ledger yet"}},
)
def readyz(watcher: WatcherDep) -> Ready | JSONResponse:
    """Ready once the ledger has been read (a later outage of the chain keeps it ready: the page
    serves the last view and says the chain is unreachable)."""
    snapshot = watcher.snapshot
    if snapshot is None:
        starting = Starting(status="starting", error=watcher.chain.error)
        return JSONResponse(starting.model_dump(), status_code=503)
    return Ready(status="ready", block=snapshot.block)
