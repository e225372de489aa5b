"""The report's plots: their data from an :class:`AuditReport`, the chart library inlined from the
package (uPlot, copied there by ``make setup``) and the script that draws them, all for an HTML page
that opens without a network.

Series labels carry member names (untrusted): they travel as JSON inside a ``<script>`` element with
``<``, ``>`` and ``&`` escaped, and uPlot writes labels with ``textContent``, never as HTML."""

from __future__ import annotations

import json
import re
from importlib import resources
from typing import Any

from bcfl.audit.model import AuditReport
from bcfl.chain.exceptions import ChainError

#: The chart library's files in ``bcfl/audit/assets`` (``make setup`` copies them from node_modules).
CHART_JS = "uPlot.iife.min.js"
CHART_CSS = "uPlot.min.css"
_BANNER = re.compile(r"\A/\*!.*?\*/\s*", re.DOTALL)
_LICENCE = "/* uPlot 1.6.32, (c) Leon Sorokin, MIT licence; the report's charts */\n"


class ReportAssetError(ChainError):
    """The chart library the report inlines is not installed."""


def chart_asset(name: str) -> str:
    """The text of a chart library file, ready to inline (its banner, which names a URL, removed)."""
    path = resources.files("bcfl.audit") / "assets" / name
    if not path.is_file():
        raise ReportAssetError(
            f"the report's chart library bcfl/audit/assets/{name} is missing: run `make setup`"
        )
    text = _BANNER.sub("", path.read_text(encoding="utf-8"))
    closing = "</script" if name.endswith(".js") else "</style"
    if closing in text.lower():
        raise ReportAssetError(
            f"bcfl/audit/assets/{name} cannot be inlined (it holds {closing}): run `make setup`"
        )
    return _LICENCE + text if name.endswith(".js") else text


def script_json(data: Any) -> str:
    """``data`` as JSON safe inside a ``<script>`` element: no ``<``, ``>`` or ``&`` stays literal."""
    text = json.dumps(data, separators=(",", ":"), allow_nan=False)
    for char, escape in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(char, escape)
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def member_label(member_id: int, name: str) -> str:
    return f"#{member_id} {name}" if name else f"#{member_id}"


def _series(label: str, values: list[float | None]) -> dict[str, Any]:
    return {"label": label, "values": values}


def _metric_series(report: AuditReport) -> list[dict[str, Any]]:
    keys = sorted({key for r in report.rounds for key in (r.aggregate_metrics or {})})
    return [_series(key, [(r.aggregate_metrics or {}).get(key) for r in report.rounds]) for key in keys]


def _reputation_series(report: AuditReport) -> list[dict[str, Any]]:
    rounds = [r.round for r in report.rounds]
    out = []
    for member in report.members:
        by_round: dict[int, float | None] = {n: float(rep) for n, rep in member.reputation}
        if any(n in by_round for n in rounds):
            out.append(
                _series(member_label(member.member_id, member.name), [by_round.get(n) for n in rounds])
            )
    return out


def _payout_series(report: AuditReport, names: dict[int, str]) -> list[dict[str, Any]]:
    scale = 10**report.token_decimals
    paid: dict[int, dict[int, float]] = {}
    for r in report.rounds:
        for payout in r.payouts:
            per_round = paid.setdefault(payout.member_id, {})
            per_round[r.round] = per_round.get(r.round, 0.0) + int(payout.amount) / scale
    return [
        _series(
            member_label(member_id, names.get(member_id, "")),
            [paid[member_id].get(r.round) for r in report.rounds],
        )
        for member_id in sorted(paid)
    ]


def member_names(report: AuditReport) -> dict[int, str]:
    """Each member's name as the report knows it (from the members, else from its updates)."""
    names = {u.member_id: u.member_name for r in report.rounds for u in r.updates}
    names.update({m.member_id: m.name for m in report.members})
    return names


def chart_data(report: AuditReport) -> dict[str, Any]:
    """The x values (rounds) and, per chart, its element id, title, unit and series."""
    return {
        "rounds": [r.round for r in report.rounds],
        "charts": [
            {
                "id": "chart-metrics",
                "title": "Aggregate metrics per round",
                "unit": "value",
                "series": _metric_series(report),
            },
            {
                "id": "chart-reputation",
                "title": "Reputation per member after each round",
                "unit": "bps",
                "series": _reputation_series(report),
            },
            {
                "id": "chart-payouts",
                "title": f"Payouts per member per round ({report.token_symbol})",
                "unit": report.token_symbol,
                "series": _payout_series(report, member_names(report)),
            },
        ],
    }


#: Draws every chart of ``chart_data`` with uPlot; marks ``<body data-charts="drawn">`` when done.
CHART_SCRIPT = """
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("bcfl-chart-data").textContent);
  var palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2",
                 "#7f7f7f", "#bcbd22", "#17becf"];
  var drawn = 0;
  data.charts.forEach(function (chart) {
    var host = document.getElementById(chart.id);
    if (!chart.series.length || !data.rounds.length) {
      host.textContent = "No data for this chart.";
      return;
    }
    var opts = {
      title: chart.title,
      width: Math.max(320, Math.min(host.clientWidth || 900, 960)),
      height: 260,
      scales: { x: { time: false } },
      axes: [
        { label: "round", incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000] },
        { label: chart.unit }
      ],
      series: [{ label: "round" }].concat(chart.series.map(function (s, i) {
        return { label: s.label, stroke: palette[i % palette.length], width: 2,
                 points: { show: true, size: 6 } };
      }))
    };
    new uPlot(opts, [data.rounds].concat(chart.series.map(function (s) { return s.values; })), host);
    drawn += 1;
  });
  document.body.setAttribute("data-charts", "drawn:" + drawn);
})();
"""
