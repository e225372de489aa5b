"""The data of every chart on the page."""

from __future__ import annotations

from fastapi import APIRouter

from dashboard.api.deps import SnapshotDep
from dashboard.api.errors import UNAVAILABLE
from dashboard.api.schemas import ChartsOut
from dashboard.charts import charts

router = APIRouter(tags=["charts"], responses=UNAVAILABLE)


@router.get("/charts")
def get_charts(snapshot: SnapshotDep) -> ChartsOut:
    """Per round: metrics (overall and per hospital), reputation (with the exclusion threshold),
    contribution scores, exclusions, and payouts by hospital."""
    return charts(snapshot)
