"""A round's config document: canonical, explicit, and refusing what it cannot describe."""

from __future__ import annotations

import dataclasses

import pytest

from bcfl.models.canonical import document_hash
from coordinator.aggregation import AggregationConfig
from coordinator.errors import CoordinatorError
from coordinator.rounds.round_config import (
    aggregation_of,
    learning_settings,
    privacy_settings,
    round_config_document,
)
from coordinator.rounds.state import RoundSettings

APP = bytes.fromhex("ab" * 32)
SETTINGS = RoundSettings(min_valid_updates=2, aggregation="krum", num_malicious=2, app_hash=APP)
LEARNING = {"local-epochs": 2, "learning-rate": 0.01, "batch-size": 32, "seed": 0}


def test_the_document_holds_the_rule_and_the_learning_settings_typed() -> None:
    document = round_config_document(SETTINGS, {**LEARNING, "learning-rate": 1, "local-epochs": 2.0})
    assert document == {
        "document": "bcfl/round-config/v1",
        "aggregation": {"rule": "krum", "num-malicious": 2, "version": 1},
        "scoring": {
            "version": 2,
            "free-rider-ratio": 0.1,
            "max-norm-ratio": 2.0,
            "min-agreement": 0.05,
            "min-consistency": 0.05,
        },
        "min-valid-updates": 2,
        "learning": {"local-epochs": 2, "learning-rate": 1.0, "batch-size": 32, "seed": 0},
        "app-hash": "0x" + "ab" * 32,
    }
    # The same settings, however typed or ordered, give the same hash.
    same = round_config_document(SETTINGS, dict(reversed(list({**LEARNING, "learning-rate": 1.0}.items()))))
    assert document_hash(same) == document_hash(document)
    assert aggregation_of(document) == AggregationConfig("krum", 2)


def test_the_app_hash_is_part_of_the_document() -> None:
    other = dataclasses.replace(SETTINGS, app_hash=bytes.fromhex("cd" * 32))
    assert round_config_document(other, LEARNING)["app-hash"] == "0x" + "cd" * 32
    assert document_hash(round_config_document(other, LEARNING)) != document_hash(
        round_config_document(SETTINGS, LEARNING)
    )
    with pytest.raises(CoordinatorError, match="is not 32 bytes"):
        round_config_document(dataclasses.replace(SETTINGS, app_hash=b"\x12\x34"), LEARNING)


def test_settings_the_document_cannot_describe_are_refused() -> None:
    with pytest.raises(CoordinatorError, match="must have exactly"):
        learning_settings({**LEARNING, "proximal-mu": 0.1})
    with pytest.raises(CoordinatorError, match="must have exactly"):
        learning_settings({"local-epochs": 2})
    with pytest.raises(CoordinatorError, match=r"batch-size is 32\.5"):
        learning_settings({**LEARNING, "batch-size": 32.5})
    with pytest.raises(CoordinatorError, match="seed is True"):
        learning_settings({**LEARNING, "seed": True})
    with pytest.raises(CoordinatorError, match="unknown aggregation"):
        round_config_document(RoundSettings(2, "mean-of-vibes", 1, APP), LEARNING)
    with pytest.raises(CoordinatorError, match="not a round config document"):
        aggregation_of({"aggregation": {"rule": "krum", "num-malicious": 1, "version": 1}})


def test_the_differential_privacy_settings_are_all_or_none_and_in_the_document() -> None:
    run = {"dp-epsilon": 4, "dp-delta": 1e-5, "dp-max-grad-norm": 1, "num-server-rounds": 5}
    dp = privacy_settings(run)
    assert dp == {"dp-epsilon": 4.0, "dp-delta": 1e-5, "dp-max-grad-norm": 1.0, "dp-rounds": 5}
    assert privacy_settings({"num-server-rounds": 5}) == {}
    document = round_config_document(SETTINGS, {**LEARNING, **dp})
    assert document["learning"] == {**LEARNING, **dp}
    assert document_hash(document) != document_hash(round_config_document(SETTINGS, LEARNING))
    with pytest.raises(CoordinatorError, match="with all or none of"):
        learning_settings({**LEARNING, "dp-epsilon": 4.0})
    for bad in ({"dp-epsilon": -1}, {"dp-delta": 1.0}, {"dp-max-grad-norm": 0}):
        with pytest.raises(CoordinatorError, match=r"set dp-epsilon to 0\.0"):
            privacy_settings({**run, **bad})
