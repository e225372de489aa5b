"""Private files: written once, mode 0600, never overwritten."""

from __future__ import annotations

import os
from pathlib import Path

from bcfl.chain.exceptions import ChainError


class KeyFileError(ChainError):
    """A key or certificate file exists but cannot be used as it is (its message says what to do)."""


def write_private(path: Path, data: bytes) -> None:
    """Create ``path`` with ``data``, readable by its owner only; refuses to replace an existing file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise KeyFileError(f"{path} exists already; it is never overwritten") from None
    os.fchmod(fd, 0o600)  # whatever the umask
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def write_public(path: Path, data: bytes) -> None:
    """Write a public file (a certificate, a public key), replacing it atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_bytes(data)
    os.chmod(partial, 0o644)
    partial.replace(path)
