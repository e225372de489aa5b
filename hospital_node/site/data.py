"""Whether a hospital's extract can train under the consortium schema: counts only, never values."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from bcfl.learning.data.loader import load_local_dataset, load_schema


def data_report(data: Path, schema: Path) -> dict[str, Any]:
    """Example counts, input shape and class fractions of ``data`` under ``schema`` (LearningError if it
    cannot train: the message says what is wrong)."""
    dataset = load_local_dataset(data, load_schema(schema))
    counts = np.bincount(dataset.train.labels.astype(np.int64), minlength=dataset.spec.num_classes)
    return {
        "train_examples": len(dataset.train),
        "test_examples": len(dataset.test),
        "input_shape": list(dataset.spec.input_shape),
        "classes": dataset.spec.num_classes,
        "train_class_fractions": [round(float(c) / max(1, len(dataset.train)), 3) for c in counts],
    }


def data_line(report: dict[str, Any]) -> str:
    """The report as one line."""
    return (
        f"{report['train_examples']} train / {report['test_examples']} test examples, "
        f"input {'x'.join(map(str, report['input_shape']))}, {report['classes']} classes"
    )
