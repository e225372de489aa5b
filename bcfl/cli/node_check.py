"""``bcfl node check``: validate a hospital's extract against the consortium schema before joining."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bcfl.cli.common import Format, OutputFormat, emit, err_console
from bcfl.learning.errors import LearningError
from bcfl.text import markup_escaped
from hospital_node.site.data import data_line, data_report


def check(
    data: Annotated[
        Path,
        typer.Option(
            help="The hospital's CSV or Parquet extract, image folder (with its labels CSV) or MedMNIST .npz."
        ),
    ],
    schema: Annotated[Path, typer.Option(help="The consortium's table or image schema (JSON).")],
    fmt: Format = OutputFormat.table,
) -> None:
    """Report whether DATA can train under SCHEMA: counts only, never patient values."""
    try:
        result = data_report(data, schema)
    except LearningError as exc:
        err_console.print(f"[bold red]error:[/] {markup_escaped(exc, limit=400)}")
        raise typer.Exit(1) from None
    emit(result, fmt, lambda r: f"ok: {data_line(r)}")
