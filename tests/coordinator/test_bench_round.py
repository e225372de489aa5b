"""The round-latency benchmark's reference app and arithmetic (scripts/bench_round.py)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from bcfl.apps import app_hash
from bcfl.paths import REPO_ROOT
from benchmarks.round_latency import CLIENT_PARTS, RoundResult, round_times
from benchmarks.round_parts import PLAIN_APP

TRAINING_KEYS = (
    "num-server-rounds",
    "local-epochs",
    "learning-rate",
    "batch-size",
    "seed",
    "fraction-evaluate",
)


def _app_config(folder: Path) -> dict[str, object]:
    config: dict[str, object] = tomllib.loads((folder / "pyproject.toml").read_text())["tool"]["flwr"]["app"][
        "config"
    ]
    return config


def test_the_plain_reference_is_a_flower_app_trained_like_the_product() -> None:
    assert len(app_hash(PLAIN_APP)) == 32  # Flower's own builder bundles it
    plain, product = _app_config(PLAIN_APP), _app_config(REPO_ROOT)
    assert {k: plain[k] for k in TRAINING_KEYS} == {k: product[k] for k in TRAINING_KEYS}


def _result(**changes: object) -> RoundResult:
    values: dict[str, object] = dict(
        date="d", rounds=2, hospitals=4, cores=2,
        plain_round_s=[10.0, 12.0], bcfl_round_s=[14.0, 16.0],
        server_s={"chain": 0.5, "assess": 0.2, "verify": 0.1, "aggregate": 0.0},
        plain_train_s=[1.0, 1.0], plain_evaluate_s=[0.1, 0.3], bcfl_train_s=[1.0, 1.2],
        client_s={key: 0.25 for _, _, products, plain in CLIENT_PARTS for key in (*products, plain) if key},
    )  # fmt: skip
    values.update(changes)
    return RoundResult(**values)  # type: ignore[arg-type]


def test_every_part_of_a_round_adds_up_to_the_round() -> None:
    result = _result()
    assert result.ratio == pytest.approx(15.0 / 11.0)
    assert result.slowest == pytest.approx(1.3)  # BCFL's training, the plain app's evaluation
    for product, total in ((False, result.plain), (True, result.bcfl)):
        parts = result.parts(product)
        per_hospital = [v for k, v in parts.items() if k.startswith("one hospital:")]
        on_path = parts["ClientApp work on the round's path (one hospital's x hospitals per core)"]
        assert on_path == pytest.approx(sum(per_hospital) * 2)  # 4 hospitals on 2 cores
        assert sum(v for k, v in parts.items() if not k.startswith("one hospital:")) == pytest.approx(total)
    # The plain ClientApp has no key, chain or signing parts; the product's are counted per process.
    key = "one hospital: key: keystore unlock (before) or signing agent's identity (x2)"
    assert result.parts(False)[key] == 0.0
    assert result.parts(True)[key] == pytest.approx(0.5)
    # A result saved before the signing agent (its keystore unlock) reads into the same row.
    before = _result(client_s={"keystore unlock (scrypt)": 1.5})
    assert before.parts(True)[key] == pytest.approx(3.0)


def test_round_times_skip_a_round_never_closed() -> None:
    assert round_times([{"opened_at": 1.0, "closed_at": 3.5}, {"opened_at": 4.0}]) == [2.5]
