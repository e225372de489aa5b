"""``bcfl node check``: validate a hospital's extract against the consortium schema before joining."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bcfl.cli.common import Format, OutputFormat, emit, err_console
from hospital_node.data.schema import TableSchema
from hospital_node.data.tabular import load_local_dataset
from hospital_node.errors import HospitalNodeError


def check(
    data: Annotated[Path, typer.Option(help="The hospital's CSV or Parquet extract.")],
    schema: Annotated[Path, typer.Option(help="The consortium's table schema (JSON).")],
    fmt: Format = OutputFormat.table,
) -> None:
    """Report whether DATA can train under SCHEMA: counts only, never patient values."""
    try:
        dataset = load_local_dataset(data, TableSchema.load(schema))
    except HospitalNodeError as exc:
        err_console.print(f"[bold red]error:[/] {exc}")
        raise typer.Exit(1) from None
    result = {
        "train_rows": len(dataset.train),
        "test_rows": len(dataset.test),
        "features": len(dataset.feature_names),
        "positive_fraction": round(float(dataset.train.labels.mean()), 3),
    }
    emit(
        result,
        fmt,
        lambda r: f"ok: {r['train_rows']} train / {r['test_rows']} test rows, {r['features']} features",
    )
