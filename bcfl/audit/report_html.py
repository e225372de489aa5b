"""The chain-of-custody report as one self-contained HTML page: no network is needed to open it (the
styles, the chart library and the data are inline; no URL appears) and it prints for filing.

Every value from the chain or a hospital (names, reasons, metrics keys, config documents) is
escaped: a cell takes either :class:`Html` built here or plain text, which :func:`text` escapes."""

from __future__ import annotations

import html
import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from bcfl.audit.model import AuditReport, CheckResult, LineageView, MemberView, RoundView
from bcfl.audit.privacy import epsilon_text, left_text
from bcfl.audit.report_charts import (
    CHART_CSS,
    CHART_JS,
    CHART_SCRIPT,
    chart_asset,
    chart_data,
    member_names,
    script_json,
)
from bcfl.text import printable

#: Untrusted text is shown up to this many characters (then an ellipsis).
TEXT_LIMIT = 500


class Html(str):
    """Markup built by this module; any other ``str`` is text and gets escaped."""

    __slots__ = ()


def text(value: object, limit: int = TEXT_LIMIT) -> Html:
    """Untrusted ``value`` as HTML text: hidden characters made visible, then escaped."""
    return Html(html.escape(printable(value, limit), quote=True))


def lines(value: str) -> Html:
    """Untrusted multi-line text (a JSON document) for a ``<pre>``: each line escaped."""
    return Html("\n".join(text(line) for line in value.splitlines()))


def _cell(value: object) -> Html:
    return value if isinstance(value, Html) else text(value)


def tag(name: str, content: object = "", cls: str = "") -> Html:
    attr = f' class="{cls}"' if cls else ""
    return Html(f"<{name}{attr}>{_cell(content)}</{name}>")


def join(parts: Iterable[object]) -> Html:
    return Html("".join(_cell(p) for p in parts))


def table(headers: Sequence[str], rows: Iterable[Sequence[object]], cls: str = "") -> Html:
    """A table; an empty one reads "none"."""
    body = [join(tag("td", cell) for cell in row) for row in rows]
    if not body:
        return tag("p", "none", "none")
    head = join(tag("th", h) for h in headers)
    rows_html = join(tag("tr", row) for row in body)
    return tag("table", join([tag("thead", tag("tr", head)), tag("tbody", rows_html)]), cls)


def fields(pairs: Iterable[tuple[str, object]]) -> Html:
    """A two-column table of named values."""
    return tag("table", join(tag("tr", join([tag("th", k), tag("td", v)])) for k, v in pairs), "fields")


def code(value: object) -> Html:
    """A hash, address or other long token, in monospace and wrapping anywhere."""
    return tag("code", "—" if value is None else value)


def when(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def tokens(amount: str | None, report: AuditReport) -> str:
    """Base units as whole tokens, exactly (no rounding), at least two decimals: ``417.333333 BCFL``."""
    if amount is None:
        return "—"
    places = report.token_decimals
    whole, rest = divmod(int(amount), 10**places)
    frac = str(rest).zfill(places).rstrip("0").ljust(min(2, places), "0")
    return f"{whole:,}.{frac} {report.token_symbol}" if frac else f"{whole:,} {report.token_symbol}"


def yes_no(ok: bool) -> Html:
    return tag("span", "valid" if ok else "INVALID", "ok" if ok else "bad")


def _lineages(lineages: Sequence[LineageView]) -> Html:
    rows = [
        (str(v.lineage), code(v.model_hash), code(v.started_by), v.reason, str(v.block_number))
        for v in lineages
    ]
    return table(["lineage", "start model", "started by", "reason", "block"], rows)


def _metrics(metrics: dict[str, float] | None) -> Html:
    if not metrics:
        return text("—")
    return join(tag("div", f"{k} = {v:.6g}") for k, v in sorted(metrics.items()))


def _round(r: RoundView, report: AuditReport, names: dict[int, str]) -> Html:
    def who(member_id: int) -> str:
        return f"#{member_id} {names.get(member_id, '')}".rstrip()

    parts: list[object] = [
        tag("h3", f"Round {r.round} ({r.status})"),
        fields(
            [
                ("lineage / parent round", f"{r.lineage} / {r.parent_round}"),
                ("global model", code(r.global_model_hash)),
                ("aggregated model", code(r.aggregated_model_hash)),
                ("config hash", code(r.config_hash)),
                ("app hash", code(r.app_hash)),
                ("metrics hash", code(r.metrics_hash)),
                ("opened", f"block {r.opened_block}, {when(r.opened_at)}"),
                ("finalized", "—" if r.finalized_block is None else f"block {r.finalized_block}"),
                ("budget / paid", f"{tokens(r.budget, report)} / {tokens(r.total_paid, report)}"),
                ("aggregate metrics", _metrics(r.aggregate_metrics)),
            ]
        ),
    ]
    if r.config is not None:
        parts += [
            tag("h4", "Config document"),
            tag("pre", lines(json.dumps(r.config, indent=2, sort_keys=True))),
        ]
    update_rows = [
        (
            who(u.member_id),
            join([code(u.signer), Html("<br>"), code(u.update_hash)]),
            str(u.num_examples),
            epsilon_text(u.epsilon),
            yes_no(u.signature_valid),
            join([text(f"block {u.block_number} "), code(u.tx_hash)]),
        )
        for u in r.updates
    ]
    skipped_rows = [(str(s.index), code(s.signer), code(s.update_hash), s.reason) for s in r.skipped]
    score_rows = [
        (
            who(s.member_id),
            str(s.contribution),
            str(s.reputation_before),
            str(s.reputation_after),
            "yes" if s.excluded_before else "no",
        )
        for s in r.scores
    ]
    parts += [
        tag("h4", "Updates"),
        table(
            ["member", "signer / update hash", "examples", "ε spent", "signature", "registered"], update_rows
        ),
        tag("h4", "Skipped entries"),
        table(["index", "signer", "update hash", "reason"], skipped_rows),
        tag("h4", "Scores and reputation (bps)"),
        table(["member", "contribution", "reputation before", "after", "excluded before"], score_rows),
        tag("h4", "Exclusions"),
        tag("p", ", ".join(who(m) for m in r.excluded) or "none"),
        tag("h4", "Participants and weights"),
        table(["member", "weight"], [(who(w.member_id), str(w.weight)) for w in r.participants]),
        tag("h4", "Signed evaluations"),
        table(
            ["member", "signer", "metrics", "signature"],
            [
                (who(e.member_id), code(e.signer), _metrics(e.metrics), yes_no(e.signature_valid))
                for e in r.evaluations
            ],
        ),
        tag("h4", "Payouts"),
        table(
            ["member", "account", "amount"],
            [(who(p.member_id), code(p.account), tokens(p.amount, report)) for p in r.payouts],
        ),
    ]
    return tag("section", join(parts), "round")


def _member(m: MemberView, report: AuditReport) -> Html:
    history = [
        (str(e.block_number), when(e.timestamp), e.event, e.detail, code(e.tx_hash)) for e in m.history
    ]
    return tag(
        "section",
        join(
            [
                tag("h3", f"Member #{m.member_id} {m.name}"),
                fields(
                    [
                        ("status", m.status),
                        ("signer", code(m.signer)),
                        ("paid in total", tokens(m.paid_total, report)),
                        ("balance", tokens(m.balance, report)),
                    ]
                ),
                tag("h4", "Membership history"),
                table(["block", "time", "event", "detail", "transaction"], history),
                tag("h4", "Updates"),
                table(
                    ["round", "update hash", "examples"], [(str(n), code(h), str(x)) for n, h, x in m.updates]
                ),
                tag("h4", "Differential privacy per lineage"),
                table(
                    ["lineage", "updates", "ε spent", "ε left"],
                    [
                        (
                            str(p.lineage),
                            str(p.updates),
                            epsilon_text(p.epsilon_spent),
                            left_text(p.epsilon_left),
                        )
                        for p in m.privacy
                    ],
                ),
                tag("h4", "Reputation (bps) after each round and payouts"),
                table(["round", "reputation"], [(str(n), str(rep)) for n, rep in m.reputation]),
                table(["round", "payout"], [(str(n), tokens(a, report)) for n, a in m.payouts]),
            ]
        ),
        "member",
    )


def _check(c: CheckResult) -> tuple[object, ...]:
    result = tag("span", "ok" if c.ok else "FAILED", "ok" if c.ok else "bad")
    problems = tag("ul", join(tag("li", p) for p in c.problems)) if c.problems else text("—")
    return (c.name, result, problems, c.proves)


def render_html(report: AuditReport) -> str:
    """The whole page (:class:`~bcfl.audit.report_charts.ReportAssetError` without the chart library)."""
    chart_js, chart_css = chart_asset(CHART_JS), chart_asset(CHART_CSS)
    names = member_names(report)
    charts = chart_data(report)
    rounds = f"rounds {report.from_round} to {report.to_round}"
    header = fields(
        [
            ("chain id", str(report.chain_id)),
            ("registry", code(report.registry)),
            ("rounds", f"{report.from_round} to {report.to_round}"),
            ("indexed to block", str(report.indexed_to_block)),
            ("generated", when(report.generated_at)),
            ("report schema", report.schema_id),
        ]
    )
    verdict = tag("p", f"Verdict: {report.verdict}", "verdict " + ("clean" if report.clean else "failed"))
    body = join(
        [
            tag("h1", f"Chain-of-custody audit report, {rounds}"),
            header,
            verdict,
            tag("h2", "Plots"),
            join(Html(f'<div class="chart" id="{c["id"]}"></div>') for c in charts["charts"]),
            tag("h2", "Lineages"),
            _lineages(report.lineages),
            tag("h2", "Privacy budget"),
            tag(
                "p",
                "Each member's cumulative ε per lineage at most: "
                + (report.privacy_budget.text if report.privacy_budget else "no bound"),
            ),
            tag("h2", "Rounds"),
            join(_round(r, report, names) for r in report.rounds) or tag("p", "none"),
            tag("h2", "Members"),
            join(_member(m, report) for m in report.members) or tag("p", "none"),
            tag("h2", "Checks"),
            verdict,
            table(["check", "result", "problems", "what passing proves"], [_check(c) for c in report.checks]),
        ]
    )
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="en"><head><meta charset="utf-8"><title>{text(f"BCFL audit report, {rounds}")}</title>\n'
        f"<style>{chart_css}\n{PAGE_CSS}</style></head>\n<body>\n{body}\n"
        f'<script type="application/json" id="bcfl-chart-data">{script_json(charts)}</script>\n'
        f"<script>{chart_js}</script>\n<script>{CHART_SCRIPT}</script>\n</body></html>\n"
    )


PAGE_CSS = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 2em auto; max-width: 1000px; padding: 0 1em; }
h1 { font-size: 1.5em; } h2 { border-bottom: 2px solid #333; margin-top: 2em; } h4 { margin: 1em 0 .3em; }
table { border-collapse: collapse; width: 100%; margin: .3em 0 .8em; }
th, td { border: 1px solid #bbb; padding: 3px 6px; text-align: left; vertical-align: top; }
thead th, table.fields th { background: #eee; } table.fields th { width: 12em; white-space: nowrap; }
code, pre { font: 12px/1.3 ui-monospace, monospace; word-break: break-all; white-space: pre-wrap; }
.verdict { font-size: 1.3em; font-weight: bold; padding: .6em 1em; border: 3px solid; }
.verdict.clean { color: #0a5c1f; border-color: #0a5c1f; background: #e8f5ec; }
.verdict.failed { color: #8b0000; border-color: #8b0000; background: #fdecec; }
.ok { color: #0a5c1f; font-weight: bold; } .bad { color: #8b0000; font-weight: bold; }
.none { color: #666; font-style: italic; } .chart { margin: 1em 0; min-height: 40px; }
section.round, section.member { border-top: 1px solid #999; margin-top: 1.5em; }
@media print {
  body { margin: 0; max-width: none; font-size: 10pt; }
  .verdict { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  h2 { break-after: avoid; } h3, h4 { break-after: avoid; }
  tr, .chart, .verdict { break-inside: avoid; }
  section.round, section.member { break-before: auto; }
  .chart canvas { max-width: 100% !important; height: auto !important; }
  .u-cursor-x, .u-cursor-y, .u-cursor-pt, .u-select { display: none !important; }
}
"""
