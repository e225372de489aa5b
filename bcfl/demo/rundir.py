"""Run directories: ``runs/<run-id>/``, with ``runs/latest`` pointing at the newest."""

from __future__ import annotations

import time
from pathlib import Path


def new_run_dir(runs_root: Path) -> Path:
    """A fresh ``runs/<run-id>/`` (run id = UTC timestamp), with ``runs/latest`` pointing at it."""
    run_id = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    run_dir = runs_root / run_id
    suffix = 1
    while run_dir.exists():
        suffix += 1
        run_dir = runs_root / f"{run_id}-{suffix}"
    run_dir.mkdir(parents=True)
    latest = runs_root / "latest"
    if latest.is_symlink() or latest.exists():
        latest.unlink()
    latest.symlink_to(run_dir.name)
    return run_dir
