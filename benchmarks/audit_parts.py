"""The audit report's parts timed one by one, so that its slowest part shows: each check, the views
and each of its three files."""

from __future__ import annotations

import time
from collections.abc import Callable

from bcfl.audit import checks
from bcfl.audit.context import AuditContext
from bcfl.audit.report import build_report
from bcfl.audit.report_files import report_json
from bcfl.audit.report_html import render_html
from bcfl.audit.report_prov import provenance
from bcfl.audit.source import AuditSource
from bcfl.audit.store_checks import recompute, store_files
from bcfl.audit.views import lineage_views, member_view, round_view
from bcfl.models.store import ModelStore


def _seconds(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def report_parts(source: AuditSource, store: ModelStore) -> tuple[tuple[str, float], ...]:
    """(part, seconds) of ``build_report`` and ``write_report`` on a freshly loaded context, in report
    order: the checks (the signatures check first: the views reuse its findings, as in the report),
    the views, then rendering each file (not writing it)."""
    context = AuditContext.load(source, store)
    timed: list[tuple[str, Callable[[], object]]] = [
        *((check.__name__.replace("_", "-"), _bind(check, context)) for check in checks.CHAIN_CHECKS),
        ("store-files", lambda: store_files(context)),
        ("recompute", lambda: recompute(context)),
        ("evaluations", lambda: checks.evaluations(context)),
        (
            "views",
            lambda: (
                lineage_views(context.history),
                [round_view(context, n) for n in sorted(context.history.rounds)],
                [member_view(context, m) for m in sorted(context.history.membership)],
            ),
        ),
    ]
    parts = [(name, _seconds(fn)) for name, fn in timed]
    report = build_report(context)
    parts += [
        ("report.html", _seconds(lambda: render_html(report))),
        ("report.json", _seconds(lambda: report_json(report))),
        ("provenance.json", _seconds(lambda: provenance(report))),
    ]
    return tuple(parts)


def _bind(check: checks.Check, context: AuditContext) -> Callable[[], object]:
    return lambda: check(context)
