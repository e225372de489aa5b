"""Files written whole or not at all: a temporary file beside the target, flushed to disk, renamed
over it, and the folder flushed. A crash at any moment leaves the old file or the new one, whole,
and at most a stray hidden ``.tmp`` beside it."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def replace_atomically(path: Path, content: bytes, mode: int | None = None) -> None:
    """Make ``path`` hold ``content`` (with permission bits ``mode``, else mkstemp's 0600)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        if mode is not None:
            os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)
