"""The rounds: a summary each, and one round's whole record (what ``bcfl audit round`` shows)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path

from bcfl.audit.model import RoundView
from dashboard.api.deps import SnapshotDep
from dashboard.api.errors import UNAVAILABLE, problem
from dashboard.api.schemas import RoundSummary

router = APIRouter(prefix="/rounds", tags=["rounds"], responses=UNAVAILABLE)


@router.get("")
def list_rounds(snapshot: SnapshotDep) -> list[RoundSummary]:
    """Every round, oldest first: status, models, updates, exclusions, metrics and tokens paid."""
    return [
        RoundSummary(
            round=r.round,
            status=r.status,
            lineage=r.lineage,
            parent_round=r.parent_round,
            global_model_hash=r.global_model_hash,
            aggregated_model_hash=r.aggregated_model_hash,
            opened_at=r.opened_at,
            updates=len(r.updates),
            excluded=list(r.excluded),
            participants=len(r.participants),
            accuracy=(r.aggregate_metrics or {}).get("accuracy"),
            auroc=(r.aggregate_metrics or {}).get("auroc"),
            total_paid=r.total_paid,
        )
        for r in snapshot.rounds.values()
    ]


@router.get("/{round_number}", responses={404: problem("No such round")})
def get_round(round_number: Annotated[int, Path(ge=0, le=2**63 - 1)], snapshot: SnapshotDep) -> RoundView:
    """The round's models, config, every update with its signature's check, scores, reputation,
    exclusions, weights, signed evaluations and payouts."""
    chain_round = snapshot.rounds.get(round_number)
    if chain_round is None:
        last = max(snapshot.rounds, default=0)
        raise HTTPException(404, f"no round {round_number} on the chain yet (rounds: 1 to {last})")
    return chain_round
