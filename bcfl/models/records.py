"""Model arrays to and from Flower's ArrayRecord, keeping names and order (so hashes agree)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from typing import TypeVar

import numpy as np
from flwr.app import Array, ArrayRecord, ConfigRecord, MetricRecord, RecordDict


def to_record(arrays: Mapping[str, np.ndarray]) -> ArrayRecord:
    """An ArrayRecord with the same names, order and bytes."""
    return ArrayRecord(OrderedDict((name, Array(np.asarray(a))) for name, a in arrays.items()))


def from_record(record: ArrayRecord) -> OrderedDict[str, np.ndarray]:
    """Named numpy arrays, in record order."""
    return OrderedDict((name, array.numpy()) for name, array in record.items())


R = TypeVar("R", ArrayRecord, ConfigRecord, MetricRecord)


class RecordFormatError(ValueError):
    """A Flower message lacks a record or value, or has one of the wrong type."""


def _record(content: RecordDict, key: str, kind: type[R]) -> R:
    record = content.get(key)
    if not isinstance(record, kind):
        raise RecordFormatError(f"the message has no {kind.__name__} {key!r}")
    return record


def array_record(content: RecordDict, key: str) -> ArrayRecord:
    """The ArrayRecord ``key`` of a message's content."""
    return _record(content, key, ArrayRecord)


def config_record(content: RecordDict, key: str) -> ConfigRecord:
    """The ConfigRecord ``key`` of a message's content."""
    return _record(content, key, ConfigRecord)


def metric_record(content: RecordDict, key: str) -> MetricRecord:
    """The MetricRecord ``key`` of a message's content."""
    return _record(content, key, MetricRecord)


def get_int(record: ConfigRecord | MetricRecord, key: str) -> int:
    """An integer value."""
    value = record.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise RecordFormatError(f"{key!r} must be an integer")
    return value


def get_float(record: ConfigRecord | MetricRecord, key: str) -> float:
    """A number."""
    value = record.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise RecordFormatError(f"{key!r} must be a number")
    return float(value)


def get_bytes(record: ConfigRecord, key: str) -> bytes:
    """A bytes value."""
    value = record.get(key)
    if not isinstance(value, bytes):
        raise RecordFormatError(f"{key!r} must be bytes")
    return value


def uint64_bytes(value: int) -> bytes:
    """An unsigned 64-bit integer as 8 big-endian bytes (Flower's records hold signed 64-bit integers)."""
    return value.to_bytes(8, "big")


def get_uint64(record: ConfigRecord, key: str) -> int:
    """An unsigned 64-bit integer sent as :func:`uint64_bytes`."""
    value = record.get(key)
    if not isinstance(value, bytes) or len(value) != 8:
        raise RecordFormatError(f"{key!r} must be an unsigned 64-bit integer as 8 bytes")
    return int.from_bytes(value, "big")


def get_str(record: ConfigRecord, key: str) -> str:
    """A string value."""
    value = record.get(key)
    if not isinstance(value, str):
        raise RecordFormatError(f"{key!r} must be a string")
    return value
