"""``bcfl audit report``: the chain-of-custody report of a run or a range of rounds: as a table, the
run's summary (a row per round and per member) that ``bcfl demo`` closes with; as JSON, complete
(the HTML and PROV-JSON renderings are made from the same report); ending with its verdict and
every check."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from bcfl.audit.report import build_report
from bcfl.audit.report_files import report_json, write_report
from bcfl.cli.audit_common import AuditFormat, AuditFormatOpt, IndexOpt, emit_audit
from bcfl.cli.audit_context import StoreOpt, audit_errors, checks_table, finish, load_audit
from bcfl.cli.audit_member import members_table, privacy_table
from bcfl.cli.audit_round import model_lines, rounds_table
from bcfl.cli.common import ManifestPath, RpcUrl, err_console
from bcfl.cli.settings import DEFAULTS
from bcfl.text import markup_escaped

FromOpt = Annotated[int | None, typer.Option("--from", help="First round (default: the first).", min=1)]
ToOpt = Annotated[int | None, typer.Option("--to", help="Last round (default: the last).", min=1)]
OutOpt = Annotated[
    Path | None,
    typer.Option(
        "--out",
        help="Also write report.html (self-contained, to read and file), report.json and "
        "provenance.json (W3C PROV-JSON) into this directory.",
        file_okay=False,
    ),
]


def report(
    manifest: ManifestPath,
    rpc_url: RpcUrl = DEFAULTS.rpc_url,
    index: IndexOpt = DEFAULTS.audit_index,
    store: StoreOpt = None,
    from_round: FromOpt = None,
    to_round: ToOpt = None,
    out: OutOpt = None,
    fmt: AuditFormatOpt = AuditFormat.table,
) -> None:
    """The run's chain-of-custody report and its verdict; --out files it as HTML, JSON and PROV.

    JSON output holds every record."""
    with audit_errors():
        context = load_audit(rpc_url, manifest, store, index)
        built = build_report(context, from_round, to_round)
        written = write_report(built, out) if out is not None else None
    emit_audit(json.loads(report_json(built)), fmt, render_report, report_rows)
    if written is not None:
        err_console.print(f"report written: {written.html}, {written.json}, {written.provenance}")
    finish(built.checks)


def render_report(data: Mapping[str, Any]) -> list[Table | str]:
    """The run's summary, whole at 80 columns: a row per round and per member, each round's models
    (hashes whole), then the checks and the verdict. ``bcfl demo`` closes with the same."""
    token = {"symbol": data["token_symbol"], "decimals": data["token_decimals"]}
    lines: list[Table | str] = [
        f"[bold]Audit[/] of rounds {data['from_round']} to {data['to_round']} on chain {data['chain_id']}",
        f"registry {data['registry']}",
        rounds_table(data["rounds"], token),
    ]
    for r in data["rounds"]:
        lines += [f"[bold]round {r['round']}[/] models:", *model_lines(r)]
    lines.append(members_table(data["members"], token))
    budget = data.get("privacy_budget")
    privacy = privacy_table(data["members"], markup_escaped(budget["text"], 60) if budget else None)
    if privacy is not None:
        lines.append(privacy)
    lines += [
        checks_table(data["checks"], data["not_run"]),
        f"[bold]verdict:[/] {data['verdict']}",
    ]
    return lines


def report_rows(data: Mapping[str, Any]) -> Sequence[Mapping[str, Any]]:
    return [
        {"check": c["name"], "ok": c["ok"], "problems": c["problems"], "proves": c["proves"]}
        for c in data["checks"]
    ] + [
        {"check": line.partition(": ")[0], "ok": "", "problems": [line.partition(": ")[2]], "proves": ""}
        for line in data["not_run"]
    ]
