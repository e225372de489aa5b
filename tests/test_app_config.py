"""The product App's run config states the coordinator's defaults; the test-only apps state the same."""

from __future__ import annotations

import tomllib
from pathlib import Path

from coordinator.aggregation import DEFAULT_AGGREGATION
from coordinator.strategy import ROUND_TIMEOUT_S

REPO = Path(__file__).resolve().parent.parent
SHARED = (
    "aggregation",
    "num-malicious",
    "fraction-evaluate",
    "round-timeout",
    "learning-rate",
    "batch-size",
    "seed",
    "schema-name",
)


def _config(pyproject: Path) -> dict[str, object]:
    config: dict[str, object] = tomllib.loads(pyproject.read_text())["tool"]["flwr"]["app"]["config"]
    return config


def test_the_product_config_states_the_coordinator_default_rule_and_timeout() -> None:
    config = _config(REPO / "pyproject.toml")
    assert config["aggregation"] == DEFAULT_AGGREGATION
    assert config["round-timeout"] == ROUND_TIMEOUT_S


def test_test_only_apps_state_the_product_defaults() -> None:
    product = _config(REPO / "pyproject.toml")
    for app in ("tests/attack_app", "tests/federation/fault_app"):
        config = _config(REPO / app / "pyproject.toml")
        assert {k: config.get(k) for k in SHARED} == {k: product[k] for k in SHARED}, app
