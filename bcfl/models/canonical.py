"""The canonical serialization of named model arrays, and the hash registered on chain.

Layout (all integers little-endian, unsigned 64-bit unless noted):

    b"BCFL-ARRAYS\\x00v1" | count | for each array, in the given order:
        len(name) | name (UTF-8) | len(dtype) | dtype (numpy str, e.g. "<f4") | ndim | dims... |
        len(data) | data (C order, little-endian)

The hash is keccak256 of these bytes, so the same arrays give the same hash on every machine,
and anyone can recompute it from a stored model file.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Mapping

import numpy as np
from eth_utils.crypto import keccak

MAGIC = b"BCFL-ARRAYS\x00v1"
_U64 = struct.Struct("<Q")


class CanonicalFormatError(ValueError):
    """Bytes that are not a canonical array file."""


def _little_endian(array: np.ndarray) -> np.ndarray:
    dtype = array.dtype.newbyteorder("<") if array.dtype.byteorder == ">" else array.dtype
    return np.asarray(array, dtype=dtype, order="C")  # keeps 0-d arrays 0-d


def to_bytes(arrays: Mapping[str, np.ndarray]) -> bytes:
    """Canonical bytes of ``arrays`` (name → array, in mapping order)."""
    parts = [MAGIC, _U64.pack(len(arrays))]
    for name, raw in arrays.items():
        array = _little_endian(np.asarray(raw))
        if array.dtype.hasobject:
            raise CanonicalFormatError(f"array {name!r} has object dtype; only numeric arrays are hashed")
        encoded_name, dtype = name.encode(), array.dtype.str.encode()
        data = array.tobytes(order="C")
        parts += [
            _U64.pack(len(encoded_name)),
            encoded_name,
            _U64.pack(len(dtype)),
            dtype,
            _U64.pack(array.ndim),
        ]
        parts += [_U64.pack(dim) for dim in array.shape]
        parts += [_U64.pack(len(data)), data]
    return b"".join(parts)


def from_bytes(blob: bytes) -> dict[str, np.ndarray]:
    """Arrays from canonical bytes (the inverse of :func:`to_bytes`)."""
    if not blob.startswith(MAGIC):
        raise CanonicalFormatError("not a canonical array file (bad magic)")
    offset = len(MAGIC)

    def u64() -> int:
        nonlocal offset
        if offset + 8 > len(blob):
            raise CanonicalFormatError("truncated canonical array file")
        (value,) = _U64.unpack_from(blob, offset)
        offset += 8
        return int(value)

    def take(size: int) -> bytes:
        nonlocal offset
        if offset + size > len(blob):
            raise CanonicalFormatError("truncated canonical array file")
        chunk = blob[offset : offset + size]
        offset += size
        return chunk

    arrays: dict[str, np.ndarray] = {}
    for _ in range(u64()):
        name = take(u64()).decode()
        dtype = np.dtype(take(u64()).decode())
        shape = tuple(u64() for _ in range(u64()))
        data = take(u64())
        arrays[name] = np.frombuffer(data, dtype=dtype).reshape(shape).copy()
    if offset != len(blob):
        raise CanonicalFormatError("trailing bytes after the last array")
    return arrays


def hash_bytes(blob: bytes) -> bytes:
    """keccak256 of canonical bytes: the hash registered on chain."""
    return keccak(blob)


def model_hash(arrays: Mapping[str, np.ndarray]) -> bytes:
    """The on-chain hash of ``arrays``."""
    return hash_bytes(to_bytes(arrays))


def document_bytes(document: Mapping[str, object]) -> bytes:
    """A JSON document's canonical form: sorted keys, no spaces, ASCII (UTF-8 bytes)."""
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()


def document_hash(document: Mapping[str, object]) -> bytes:
    """keccak256 of a JSON document's canonical form (:func:`document_bytes`): metrics and records
    whose hash goes on chain or into a signature."""
    return keccak(document_bytes(document))
