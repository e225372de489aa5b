"""A round's config document: everything the coordinator runs the round with, canonical and explicit.

Its document hash (:func:`bcfl.models.canonical.document_hash`) is the ``configHash`` the round is
opened with on chain; the document itself is stored in the model store beside the models
(:meth:`bcfl.models.store.ModelStore.put_document`) and journaled, so an auditor holding the store
reads the aggregation rule every round used and recomputes its model
(:mod:`coordinator.rounds.audit`)::

    {"document": "bcfl/round-config/v1",
     "aggregation": {"rule": "trimmed-mean", "num-malicious": 1, "version": 1},
     "min-valid-updates": 2,
     "learning": {"local-epochs": 2, "learning-rate": 0.01, "batch-size": 32, "seed": 0},
     "app-hash": "0x…"}  # only when the run names the approved app's hash
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from coordinator.aggregation import AggregationConfig
from coordinator.errors import CoordinatorError
from coordinator.rounds.state import RoundSettings

SCHEMA = "bcfl/round-config/v1"
#: The run config's learning settings the hospitals train with, and their types.
LEARNING: dict[str, type[int] | type[float]] = {
    "local-epochs": int,
    "learning-rate": float,
    "batch-size": int,
    "seed": int,
}


def _typed(key: str, value: Any, kind: type[int] | type[float]) -> int | float:
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if not number or (kind is int and not float(value).is_integer()):
        raise CoordinatorError(f"run config {key} is {value!r}: set it to a number of type {kind.__name__}")
    return kind(value)


def learning_settings(config: Mapping[str, Any]) -> dict[str, int | float]:
    """The learning settings of a round's train config, typed; a clear error for a missing or
    unknown key (every setting the hospitals get must be in the document)."""
    if set(config) != set(LEARNING):
        raise CoordinatorError(
            f"the round's train config has {sorted(config)}; it must have exactly {sorted(LEARNING)}"
        )
    return {key: _typed(key, config[key], kind) for key, kind in LEARNING.items()}


def round_config_document(settings: RoundSettings, learning: Mapping[str, Any]) -> dict[str, Any]:
    """The config document of a round run with ``settings`` and the train config ``learning``,
    naming the app the round runs (the FAB's sha256, approved on chain)."""
    document: dict[str, Any] = {
        "document": SCHEMA,
        "aggregation": settings.aggregation_config().to_document(),
        "min-valid-updates": settings.min_valid_updates,
        "learning": learning_settings(learning),
    }
    if len(settings.app_hash) != 32:
        raise CoordinatorError(f"app hash 0x{settings.app_hash.hex()} is not 32 bytes: pass the FAB's sha256")
    document["app-hash"] = "0x" + settings.app_hash.hex()
    return document


def aggregation_of(document: Mapping[str, Any]) -> AggregationConfig:
    """The aggregation config a round's config document names; a clear error for another document."""
    if document.get("document") != SCHEMA:
        raise CoordinatorError(
            f"not a round config document ({document.get('document')!r}, expected {SCHEMA!r})"
        )
    return AggregationConfig.from_document(document["aggregation"])
