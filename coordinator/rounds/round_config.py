"""A round's config document: everything the coordinator runs the round with, canonical and explicit.

Its document hash (:func:`bcfl.models.canonical.document_hash`) is the ``configHash`` the round is
opened with on chain; the document itself is stored in the model store beside the models
(:meth:`bcfl.models.store.ModelStore.put_document`) and journaled, so an auditor holding the store
reads the aggregation rule every round used and recomputes its model
(:mod:`coordinator.rounds.audit`)::

    {"document": "bcfl/round-config/v1",
     "aggregation": {"rule": "trimmed-mean", "num-malicious": 1, "version": 1},
     "scoring": {"version": 2, "free-rider-ratio": 0.1, "max-norm-ratio": 2.0,
                 "min-agreement": 0.05, "min-consistency": 0.05},  # none before 2026-12-05: version 1
     "min-valid-updates": 2,
     "learning": {"local-epochs": 2, "learning-rate": 0.01, "batch-size": 32, "seed": 0,
                  "dp-epsilon": 4.0, "dp-delta": 1e-05, "dp-max-grad-norm": 1.0, "dp-rounds": 5},
     "app-hash": "0x…"}  # only when the run names the approved app's hash
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from coordinator.aggregation import AggregationConfig
from coordinator.errors import CoordinatorError
from coordinator.rounds.state import RoundSettings
from coordinator.scoring import DEFAULT_RULE, LEGACY_RULE, ScoringRule

SCHEMA = "bcfl/round-config/v1"
#: The run config's learning settings the hospitals train with, and their types.
LEARNING: dict[str, type[int] | type[float]] = {
    "local-epochs": int,
    "learning-rate": float,
    "batch-size": int,
    "seed": int,
}
#: The differential-privacy settings, all or none (``dp-epsilon`` 0.0: off): the ε each hospital spends
#: at most over ``dp-rounds`` rounds at ``dp-delta``, each example's gradient clipped to the norm.
PRIVACY: dict[str, type[int] | type[float]] = {
    "dp-epsilon": float,
    "dp-delta": float,
    "dp-max-grad-norm": float,
    "dp-rounds": int,
}


def _typed(key: str, value: Any, kind: type[int] | type[float]) -> int | float:
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if not number or (kind is int and not float(value).is_integer()):
        raise CoordinatorError(f"run config {key} is {value!r}: set it to a number of type {kind.__name__}")
    return kind(value)


def learning_settings(config: Mapping[str, Any]) -> dict[str, int | float]:
    """The learning settings of a round's train config, typed; a clear error for a missing or
    unknown key (every setting the hospitals get must be in the document)."""
    expected = LEARNING | PRIVACY if set(PRIVACY) & set(config) else LEARNING
    if set(config) != set(expected):
        raise CoordinatorError(
            f"the round's train config has {sorted(config)}; it must have exactly {sorted(LEARNING)}, "
            f"with all or none of {sorted(PRIVACY)}"
        )
    return {key: _typed(key, config[key], kind) for key, kind in expected.items()}


def privacy_settings(run: Mapping[str, Any]) -> dict[str, int | float]:
    """The train config's differential-privacy settings from the run config (none when it names no
    ``dp-epsilon``; the App's pyproject.toml names all three): the hospitals plan their noise over the
    run's ``num-server-rounds``."""
    if "dp-epsilon" not in run:
        return {}
    settings = {
        "dp-epsilon": run["dp-epsilon"],
        "dp-delta": run["dp-delta"],
        "dp-max-grad-norm": run["dp-max-grad-norm"],
        "dp-rounds": run["num-server-rounds"],
    }
    typed = {key: _typed(key, settings[key], kind) for key, kind in PRIVACY.items()}
    epsilon, delta, norm = (float(typed[k]) for k in ("dp-epsilon", "dp-delta", "dp-max-grad-norm"))
    if epsilon < 0 or not 0 < delta < 1 or norm <= 0:
        raise CoordinatorError(
            f"run config dp-epsilon {epsilon}, dp-delta {delta}, dp-max-grad-norm {norm}: set dp-epsilon "
            "to 0.0 (no differential privacy) or above, dp-delta between 0 and 1, dp-max-grad-norm above 0"
        )
    return typed


def round_config_document(
    settings: RoundSettings, learning: Mapping[str, Any], rule: ScoringRule = DEFAULT_RULE
) -> dict[str, Any]:
    """The config document of a round run with ``settings``, the train config ``learning`` and the
    scoring ``rule``, naming the app the round runs (the FAB's sha256, approved on chain)."""
    document: dict[str, Any] = {
        "document": SCHEMA,
        "aggregation": settings.aggregation_config().to_document(),
        "min-valid-updates": settings.min_valid_updates,
        "learning": learning_settings(learning),
    }
    if rule not in (DEFAULT_RULE, LEGACY_RULE):
        raise CoordinatorError(f"scoring rule {rule} is not the consortium's: score with the default rule")
    if rule == DEFAULT_RULE:  # version 1's documents name no rule (they predate the entry)
        document["scoring"] = rule.to_document()
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
