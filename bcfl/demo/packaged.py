"""Find a data file shipped inside an installed Python distribution (the demo's real data sets)."""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

from bcfl.learning.errors import LearningError


def packaged_file(distribution: str, relative: str, what: str) -> Path:
    """``relative`` inside ``distribution``; a clear error names ``what`` is missing and how to fix it."""
    try:
        dist = importlib.metadata.distribution(distribution)
    except importlib.metadata.PackageNotFoundError:
        raise LearningError(
            f"the {distribution} package ({what}) is not installed: run `make setup`"
        ) from None
    path = Path(str(dist.locate_file(relative)))
    if not path.exists():
        raise LearningError(f"{Path(relative).name} is missing from the {distribution} package at {path}")
    return path
