"""A content-addressed model store: each file is named by the hash of its canonical bytes. Models
are ``<0x-hash>.bcfl`` (:func:`bcfl.models.canonical.to_bytes`); JSON documents whose hash goes on
chain (a round's config document) are ``<0x-hash>.json`` (:func:`bcfl.models.canonical.document_bytes`)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from bcfl.atomic import replace_atomically
from bcfl.models.canonical import document_bytes, from_bytes, hash_bytes, to_bytes

SUFFIX = ".bcfl"
DOCUMENT_SUFFIX = ".json"


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

    def document_path_of(self, document_hash: bytes) -> Path:
        """Where the JSON document with this hash lives."""
        return self.root / f"0x{document_hash.hex()}{DOCUMENT_SUFFIX}"

    def _write(self, blob: bytes, target: Path) -> None:
        """``blob`` to ``target`` atomically, unless it is there already (never rewritten). A write
        that fails (a full disk) leaves no file, not even a partial one, and says so in one line."""
        if target.exists():
            return
        try:
            replace_atomically(target, blob)
        except OSError as exc:
            raise ModelStoreError(
                f"cannot write {target.name} to the model store {self.root}: {exc.strerror or exc}: free "
                "space there and start the coordinator again (nothing was written; it resumes from the chain)"
            ) from None

    def _read(self, target: Path, digest: bytes, what: str) -> bytes:
        """The bytes of ``target``, after checking they still hash to ``digest``."""
        try:
            blob = target.read_bytes()
        except FileNotFoundError:
            raise ModelStoreError(f"no {what} 0x{digest.hex()} in {self.root}") from None
        if hash_bytes(blob) != digest:
            raise ModelStoreError(f"{target} does not hash to its name: the file was altered")
        return blob

    def put(self, arrays: Mapping[str, np.ndarray]) -> bytes:
        """Store ``arrays`` (idempotent); returns their hash."""
        blob = to_bytes(arrays)
        digest = hash_bytes(blob)
        self._write(blob, self.path_of(digest))
        return digest

    def get(self, model_hash: bytes) -> dict[str, np.ndarray]:
        """The arrays stored under ``model_hash``, after checking the file still hashes to it."""
        return from_bytes(self._read(self.path_of(model_hash), model_hash, "model"))

    def put_document(self, document: Mapping[str, Any]) -> bytes:
        """Store a JSON document in its canonical form (idempotent); returns its document hash."""
        blob = document_bytes(document)
        digest = hash_bytes(blob)
        self._write(blob, self.document_path_of(digest))
        return digest

    def get_document(self, document_hash: bytes) -> dict[str, Any]:
        """The document stored under ``document_hash``, after checking the file still hashes to it."""
        document: dict[str, Any] = json.loads(
            self._read(self.document_path_of(document_hash), document_hash, "document")
        )
        return document

    def __contains__(self, model_hash: bytes) -> bool:
        return self.path_of(model_hash).exists()

    def hashes(self) -> list[bytes]:
        """Every stored hash."""
        return sorted(bytes.fromhex(p.name[2 : -len(SUFFIX)]) for p in self.root.glob(f"0x*{SUFFIX}"))
