"""The consortium at a glance: the chain's state as last seen, the index, the verdict."""

from __future__ import annotations

from fastapi import APIRouter

from dashboard.api.deps import WatcherDep
from dashboard.api.schemas import ChainOut, NodesOut, StatusOut

router = APIRouter(tags=["status"])


@router.get("/status")
def status(watcher: WatcherDep) -> StatusOut:
    """Whether the chain answers, how far the index and the dashboard's view have got, the verdict."""
    snapshot, chain, manifest, nodes = watcher.snapshot, watcher.chain, watcher.manifest, watcher.nodes_answer
    report = snapshot.report if snapshot else None
    return StatusOut(
        chain_id=manifest.chain_id,
        registry=manifest.address("ConsortiumRegistry"),
        token_symbol=report.token_symbol if report else None,
        token_decimals=report.token_decimals if report else None,
        chain=ChainOut(
            reachable=chain.reachable,
            error=chain.error,
            head_block=chain.head_block,
            checked_at=chain.checked_at,
        ),
        nodes=NodesOut(
            reachable=nodes.reachable, error=nodes.error, checked_at=nodes.checked_at, online=nodes.online
        ),
        indexed_block=watcher.indexed_block,
        snapshot_block=snapshot.block if snapshot else None,
        verdict=report.verdict if report else None,
        clean=report.clean if report else None,
    )
