"""The demo's closing summary: ``bcfl audit report``'s rendering of the run (a row per round and
per member, each round's models, the checks and the verdict, whole at 80 columns), the nodes the
coordinator rejected, and how to print it again."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.console import Console
from rich.table import Table

from bcfl.cli.audit_common import print_parts
from bcfl.cli.audit_report import render_report
from bcfl.text import markup_escaped


def summary_parts(summary: Mapping[str, Any]) -> list[Table | str]:
    """The summary's tables and lines, in print order."""
    parts = render_report(summary)
    parts += [
        f"[yellow]round {r['round']}: node {r['node_id']} rejected:[/] {markup_escaped(r['reason'], 300)}"
        for r in summary["rejected"]
    ]
    return parts


def again_lines(summary: Mapping[str, Any]) -> list[str]:
    """How to print the summary again: while the chain runs, and later from its saved state."""
    run_dir = summary["run_dir"]
    return [
        f"print this summary again (summary.json holds it whole) with `bcfl audit report --manifest "
        f"{run_dir}/deployment.json --store {run_dir}/models --index {summary['index']} --rpc-url "
        f"{summary['rpc_url']}`; once the "
        f"chain has stopped, reopen it read-only first (`bcfl chain start --load-state "
        f"{run_dir}/chain/state.json`) and leave --rpc-url out",
    ]


def print_summary(summary: Mapping[str, Any], out: Console) -> None:
    print_parts(summary_parts(summary), out)
    for line in again_lines(summary):
        out.print(markup_escaped(line, 4000))
