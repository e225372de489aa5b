"""``bcfl node doctor``: every preflight check, one line each, exit 1 if any failed."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import typer
from rich.table import Table

from bcfl.cli.common import Format, OutputFormat, PasswordFileOpt, emit
from bcfl.cli.node_common import NodeDir, node_errors, optional_password
from bcfl.text import markup_escaped
from hospital_node.site.config import NodeFolder
from hospital_node.site.doctor import Status, failed
from hospital_node.site.preflight import doctor as run_doctor

STYLE = {Status.ok: "green", Status.warn: "yellow", Status.fail: "bold red"}


def doctor(folder: NodeDir, password_file: PasswordFileOpt = None, fmt: Format = OutputFormat.table) -> None:
    """Check the node before it starts: chain, contracts, keys, membership, SuperLink, apps, data, disk."""
    with node_errors():
        config = NodeFolder(folder).load()
        report = run_doctor(folder, optional_password(password_file or config.password_file))
    bad = failed(report)
    emit({"ok": not bad, "checks": [asdict(c) for c in report]}, fmt, lambda _d: _table(report))
    if bad:
        raise typer.Exit(1)


def _table(report: list[Any]) -> Table:
    table = Table(show_header=False, box=None)
    for check in report:
        table.add_row(
            f"[{STYLE[check.status]}]{check.status.value}[/]",
            check.name,
            markup_escaped(check.detail, limit=600),
        )
    return table
