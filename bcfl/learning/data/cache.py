"""A hospital's prepared dataset, kept ready to load: the loaded, checked, split and encoded arrays in
one file, so that a ClientApp (a fresh process for every Flower message) reads arrays instead of
parsing and preprocessing the source again.

A cache file is used only when everything it was built from is unchanged, and only if its own bytes
are intact. Its key is the SHA-256 of the format version, the loaders' own code (the bytes of this package's
modules, so a change in how data is read, checked or split never reuses a file made by the old code),
the source data's bytes (every file of an image folder, with its relative name), the schema file's
bytes and the split seed; the file holds its key and the SHA-256 of its payload, and both are checked
on every read. A mismatch, a truncated or corrupted file rebuilds it (written to a temporary file,
then renamed over: a reader never sees half a file).

Layout: ``MAGIC | key (32 bytes) | sha256(payload) (32 bytes) | payload`` where the payload is an
uncompressed ``.npz`` (no pickles) of ``train_x, train_y, test_x, test_y, input_shape, num_classes``.
"""

from __future__ import annotations

import functools
import hashlib
import io
import logging
from pathlib import Path

import numpy as np

from bcfl.atomic import replace_atomically
from bcfl.learning.data.dataset import Examples, LocalDataset, ModelSpec
from bcfl.learning.data.loader import Schema, load_local_dataset
from bcfl.learning.errors import LearningError

logger = logging.getLogger(__name__)

#: The cache file's layout (the loaders' code is in the key on its own: :func:`loader_code_hash`).
FORMAT_VERSION = 1
MAGIC = b"BCFL-DATASET\x00v1\n"
_DIGEST = 32
_CHUNK = 1 << 20
_ARRAYS = ("train_x", "train_y", "test_x", "test_y", "input_shape", "num_classes")


class DataChangedError(LearningError):
    """The source data changed between its hash and its read: part old, part new, never used."""


class CacheFileError(ValueError):
    """A cache file that is not an intact prepared dataset for the expected key."""


def _hash_file(digest: hashlib._Hash, path: Path) -> None:
    with path.open("rb") as stream:
        while chunk := stream.read(_CHUNK):
            digest.update(chunk)


@functools.cache
def loader_code_hash() -> bytes:
    """SHA-256 of the data package's modules (name and bytes): what turns a source into arrays."""
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(b"%s\x00" % path.name.encode())
        _hash_file(digest, path)
    return digest.digest()


def dataset_key(data_path: Path, schema_path: Path, seed: int) -> bytes:
    """The cache key of the dataset ``data_path`` prepared under the schema ``schema_path`` and split
    with ``seed``; OSError if the source or the schema cannot be read."""
    digest = hashlib.sha256(b"bcfl-dataset-cache\x00%d\x00%d\x00" % (FORMAT_VERSION, seed))
    digest.update(loader_code_hash())
    digest.update(hashlib.sha256(schema_path.read_bytes()).digest())
    if data_path.is_dir():
        for path in sorted(p for p in data_path.rglob("*") if p.is_file()):
            name = path.relative_to(data_path).as_posix().encode()
            digest.update(b"file\x00%d\x00%s\x00" % (len(name), name))
            _hash_file(digest, path)
    else:
        digest.update(b"data\x00")
        _hash_file(digest, data_path)
    return digest.digest()


def cache_path(cache_dir: Path, key: bytes) -> Path:
    """The file that holds the dataset of ``key``."""
    return cache_dir / f"dataset-{key.hex()}.bin"


def encode(key: bytes, data: LocalDataset) -> bytes:
    """The cache file's bytes for ``data`` under ``key``."""
    payload = io.BytesIO()
    np.savez(
        payload,
        train_x=data.train.features,
        train_y=data.train.labels,
        test_x=data.test.features,
        test_y=data.test.labels,
        input_shape=np.asarray(data.spec.input_shape, dtype=np.int64),
        num_classes=np.asarray(data.spec.num_classes, dtype=np.int64),
    )
    body = payload.getvalue()
    return MAGIC + key + hashlib.sha256(body).digest() + body


def decode(key: bytes, blob: bytes) -> LocalDataset:
    """The dataset in a cache file's bytes; :class:`CacheFileError` unless they are intact and for ``key``."""
    head = len(MAGIC)
    if blob[:head] != MAGIC:
        raise CacheFileError("not a prepared dataset of this format")
    if blob[head : head + _DIGEST] != key:
        raise CacheFileError("prepared for other data, schema or seed")
    body = blob[head + 2 * _DIGEST :]
    if hashlib.sha256(body).digest() != blob[head + _DIGEST : head + 2 * _DIGEST]:
        raise CacheFileError("its contents do not match their hash (truncated or corrupted)")
    try:
        with np.load(io.BytesIO(body), allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in _ARRAYS}
    except (OSError, ValueError, KeyError) as exc:
        raise CacheFileError(f"unreadable arrays ({type(exc).__name__})") from None
    spec = ModelSpec(tuple(int(n) for n in arrays["input_shape"]), int(arrays["num_classes"]))
    data = LocalDataset(
        train=Examples(arrays["train_x"], arrays["train_y"]),
        test=Examples(arrays["test_x"], arrays["test_y"]),
        spec=spec,
    )
    for part in (data.train, data.test):
        if part.features.shape[1:] != spec.input_shape or len(part.features) != len(part.labels):
            raise CacheFileError("its arrays do not fit together")
    return data


def load_prepared_dataset(
    data_path: Path, schema_path: Path, schema: Schema, seed: int, cache_dir: Path
) -> LocalDataset:
    """The dataset :func:`load_local_dataset` prepares, read from ``cache_dir`` when an intact file of
    the same source, schema and seed is there, else prepared and kept there. A cache that cannot be
    read or written costs time only: the data is then prepared from the source."""
    try:
        key = dataset_key(data_path, schema_path, seed)
    except OSError:
        return load_local_dataset(data_path, schema, seed=seed)  # the loader names what is missing
    path = cache_path(cache_dir, key)
    try:
        return decode(key, path.read_bytes())
    except FileNotFoundError:
        if cache_dir.is_dir() and any(cache_dir.glob("dataset-*.bin")):
            logger.info("the data, its schema or the split seed changed since the dataset was last prepared")
        logger.info("preparing the local dataset once (kept in %s)", cache_dir)
    except (OSError, CacheFileError) as exc:
        logger.warning("rebuilding the prepared dataset %s: %s", path, exc)
    data = load_local_dataset(data_path, schema, seed=seed)
    try:
        changed = dataset_key(data_path, schema_path, seed) != key
    except OSError:  # a file moved or removed during the read
        changed = True
    if changed:
        raise DataChangedError(
            f"the data at {data_path} changed while it was read (a file still being written?): "
            "nothing was trained on it; the next round reads it again"
        )
    try:
        replace_atomically(path, encode(key, data))
    except OSError as exc:
        logger.warning("could not keep the prepared dataset in %s: %s", cache_dir, exc)
    return data
