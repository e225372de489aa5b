"""The data of every chart on the page."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from dashboard.api.deps import SnapshotDep
from dashboard.api.errors import UNAVAILABLE
from dashboard.api.schemas import ChartsOut

router = APIRouter(tags=["charts"], responses=UNAVAILABLE)


@router.get("/charts", response_model=ChartsOut)
async def get_charts(snapshot: SnapshotDep) -> Response:
    """Per round: metrics (overall and per hospital), reputation (with the exclusion threshold),
    contribution scores, exclusions, and payouts by hospital."""
    return Response(snapshot.rendered.charts, media_type="application/json")
