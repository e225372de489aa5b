"""Options and output shared by the ``bcfl audit`` commands: every one prints a table, JSON or CSV."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Mapping, Sequence
from enum import StrEnum
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from bcfl.cli.common import console, json_default
from bcfl.cli.settings import envvar


class AuditFormat(StrEnum):
    """How an audit command prints its result."""

    table = "table"
    json = "json"
    csv = "csv"


AuditFormatOpt = Annotated[AuditFormat, typer.Option("--format", help="Output format: table, json or csv.")]
IndexOpt = Annotated[
    str,
    typer.Option(
        "--index",
        envvar=envvar("audit_index"),
        help="The event index: a SQLite file, or a postgresql:// URL (`bcfl audit sync` builds it).",
    ),
]


def emit_audit(
    data: Any,
    fmt: AuditFormat,
    render: Callable[[Any], Table | str | Sequence[Table | str]],
    rows: Callable[[Any], Sequence[Mapping[str, Any]]],
) -> None:
    """Print ``data`` as JSON (complete), as CSV (``rows(data)``, one header) or through ``render``."""
    if fmt is AuditFormat.json:
        typer.echo(json.dumps(data, indent=2, default=json_default))
    elif fmt is AuditFormat.csv:
        typer.echo(to_csv(rows(data)), nl=False)
    else:
        rendered = render(data)
        print_parts([rendered] if isinstance(rendered, Table | str) else rendered)


def print_parts(parts: Sequence[Table | str], out: Console = console) -> None:
    """Rendered parts in order: tables fitted to the terminal, lines as they are (a line holding a
    whole hash is never folded)."""
    for part in parts:
        out.print(part, soft_wrap=isinstance(part, str))


def to_csv(rows: Sequence[Mapping[str, Any]]) -> str:
    """Rows as CSV with a header of every key seen, in first-seen order; nested values as JSON."""
    header: list[str] = []
    for row in rows:
        header.extend(k for k in row if k not in header)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(
            {
                k: json.dumps(v, default=json_default) if isinstance(v, dict | list | tuple) else v
                for k, v in row.items()
            }
        )
    return out.getvalue()
