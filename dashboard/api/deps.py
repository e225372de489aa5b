"""The routes' dependencies: the watcher the app started, and its current snapshot (503 until the
first one is taken, with why)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request

from dashboard.snapshot import Snapshot
from dashboard.watcher import LedgerWatcher


async def get_watcher(request: Request) -> LedgerWatcher:
    watcher: LedgerWatcher = request.app.state.watcher
    return watcher


WatcherDep = Annotated[LedgerWatcher, Depends(get_watcher)]


async def get_snapshot(watcher: WatcherDep) -> Snapshot:
    snapshot = watcher.snapshot
    if snapshot is None:
        why = watcher.chain.error or "the first read of the ledger is under way"
        raise HTTPException(503, f"no view of the ledger yet: {why}; retry in a few seconds")
    return snapshot


SnapshotDep = Annotated[Snapshot, Depends(get_snapshot)]
