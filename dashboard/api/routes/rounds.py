"""The rounds: a summary each, and one round's whole record (what ``bcfl audit round`` shows)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path
from fastapi.responses import Response

from bcfl.audit.model import RoundView
from dashboard.api.deps import SnapshotDep
from dashboard.api.errors import UNAVAILABLE, problem
from dashboard.api.schemas import RoundSummary

router = APIRouter(prefix="/rounds", tags=["rounds"], responses=UNAVAILABLE)


@router.get("", response_model=list[RoundSummary])
async def list_rounds(snapshot: SnapshotDep) -> Response:
    """Every round, oldest first: status, models, updates, exclusions, metrics and tokens paid."""
    return Response(snapshot.rendered.rounds, media_type="application/json")


@router.get("/{round_number}", responses={404: problem("No such round")})
def get_round(round_number: Annotated[int, Path(ge=0, le=2**63 - 1)], snapshot: SnapshotDep) -> RoundView:
    """The round's models, config, every update with its signature's check, scores, reputation,
    exclusions, weights, signed evaluations and payouts."""
    chain_round = snapshot.rounds.get(round_number)
    if chain_round is None:
        last = max(snapshot.rounds, default=0)
        raise HTTPException(404, f"no round {round_number} on the chain yet (rounds: 1 to {last})")
    return chain_round
