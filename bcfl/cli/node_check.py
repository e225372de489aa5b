"""``bcfl node check``: validate a hospital's extract against the consortium schema before joining."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import numpy as np
import typer

from bcfl.cli.common import Format, OutputFormat, emit, err_console
from bcfl.learning.data.loader import load_local_dataset, load_schema
from bcfl.learning.errors import LearningError
from bcfl.text import markup_escaped


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
        dataset = load_local_dataset(data, load_schema(schema))
    except LearningError as exc:
        err_console.print(f"[bold red]error:[/] {markup_escaped(exc, limit=400)}")
        raise typer.Exit(1) from None
    counts = np.bincount(dataset.train.labels.astype(np.int64), minlength=dataset.spec.num_classes)
    result = {
        "train_examples": len(dataset.train),
        "test_examples": len(dataset.test),
        "input_shape": list(dataset.spec.input_shape),
        "classes": dataset.spec.num_classes,
        "train_class_fractions": [round(float(c) / max(1, len(dataset.train)), 3) for c in counts],
    }
    emit(
        result,
        fmt,
        lambda r: (
            f"ok: {r['train_examples']} train / {r['test_examples']} test examples, "
            f"input {'x'.join(map(str, r['input_shape']))}, {r['classes']} classes"
        ),
    )
