"""The audit's checks over the whole history, and the report to file."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from bcfl.audit.report_files import report_json
from bcfl.audit.report_html import render_html
from dashboard.api.deps import SnapshotDep
from dashboard.api.errors import UNAVAILABLE
from dashboard.api.schemas import ChecksOut

router = APIRouter(tags=["audit"], responses=UNAVAILABLE)


@router.get("/checks", response_model=ChecksOut)
async def get_checks(snapshot: SnapshotDep) -> Response:
    """Every check's result with what passing proves, the checks not run, and the verdict."""
    return Response(snapshot.rendered.checks, media_type="application/json")


@router.get("/report.json", response_class=Response)
def report_as_json(snapshot: SnapshotDep) -> Response:
    """The audit's report (as ``bcfl audit report --format json`` prints it), to download."""
    return Response(
        report_json(snapshot.report),
        media_type="application/json",
        headers={"Content-Disposition": 'attachment; filename="report.json"'},
    )


@router.get("/report.html", response_class=Response)
def report_as_html(snapshot: SnapshotDep) -> Response:
    """The audit's self-contained HTML report, to download and file (it opens offline)."""
    return Response(
        render_html(snapshot.report),
        media_type="text/html",
        headers={"Content-Disposition": 'attachment; filename="report.html"'},
    )
