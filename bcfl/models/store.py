"""A content-addressed model store: each file is named by the hash of its canonical bytes."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from bcfl.models.canonical import from_bytes, hash_bytes, to_bytes

SUFFIX = ".bcfl"


class ModelStoreError(Exception):
    """A model is missing from the store, or its file does not match its name."""


class ModelStore:
    """Models under ``root/<0x-hash>.bcfl``; writes are atomic and reads are verified."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def path_of(self, model_hash: bytes) -> Path:
        """Where the model with this hash lives."""
        return self.root / f"0x{model_hash.hex()}{SUFFIX}"

    def put(self, arrays: Mapping[str, np.ndarray]) -> bytes:
        """Store ``arrays`` (idempotent); returns their hash."""
        blob = to_bytes(arrays)
        digest = hash_bytes(blob)
        target = self.path_of(digest)
        if not target.exists():
            fd, tmp = tempfile.mkstemp(dir=self.root, suffix=".tmp")
            with os.fdopen(fd, "wb") as handle:
                handle.write(blob)
            os.replace(tmp, target)
        return digest

    def get(self, model_hash: bytes) -> dict[str, np.ndarray]:
        """The arrays stored under ``model_hash``, after checking the file still hashes to it."""
        path = self.path_of(model_hash)
        try:
            blob = path.read_bytes()
        except FileNotFoundError:
            raise ModelStoreError(f"no model 0x{model_hash.hex()} in {self.root}") from None
        if hash_bytes(blob) != model_hash:
            raise ModelStoreError(f"{path} does not hash to its name: the file was altered")
        return from_bytes(blob)

    def __contains__(self, model_hash: bytes) -> bool:
        return self.path_of(model_hash).exists()

    def hashes(self) -> list[bytes]:
        """Every stored hash."""
        return sorted(bytes.fromhex(p.name[2 : -len(SUFFIX)]) for p in self.root.glob(f"0x*{SUFFIX}"))
