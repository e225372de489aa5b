"""The privacy benchmark's attack and report (the benchmark itself runs in ``make bench``)."""

from __future__ import annotations

import numpy as np
import pytest

from bcfl.demo.consortia import CONSORTIA
from bcfl.learning.data.dataset import Examples, LocalDataset, ModelSpec
from benchmarks.federated import TrainingPlan
from benchmarks.privacy import EPSILONS, attack_advantage, plan_of
from scripts.bench_privacy import majority_accuracy, render


def test_the_attack_scores_separation_not_ties() -> None:
    assert attack_advantage(np.array([0.1, 0.2]), np.array([0.5, 0.6])) == 1.0
    assert attack_advantage(np.array([0.5, 0.6]), np.array([0.1, 0.2])) == 0.0
    # Patients with the same record have the same loss: a threshold cannot tell them apart.
    assert attack_advantage(np.ones(5), np.ones(5)) == 0.0
    assert attack_advantage(np.array([0.1, 1.0, 1.0]), np.array([1.0, 1.0, 2.0])) == pytest.approx(1 / 3)


def test_the_report_has_a_row_per_epsilon_and_reference() -> None:
    labels = ["no DP" if e is None else f"ε = {e:g}" for e in EPSILONS]
    utility = {label: {"lr": 0.01, "accuracy": [0.8, 0.82], "auroc": [0.85, 0.86]} for label in labels}
    attacks = {label: {"update": [(0.1, 0.05)] * 2, "overfit": [(0.2, 0.04)] * 2} for label in labels}
    reference = {"accuracy": [0.83, 0.84], "auroc": [0.87, 0.88]}
    result = {
        "hospitals": {"a": 100, "b": 50},
        "target": "a",
        "rounds": 5,
        "local_epochs": 2,
        "demo_rounds": 3,
        "demo": {"ε = 4": {"lr": 0.03, "accuracy": [0.7, 0.72], "auroc": [0.8, 0.8]}},
        "majority": 0.6111,
        "utility": utility,
        "pooled": reference,
        "local": reference,
        "attacks": attacks,
    }
    section = render({"heart": result}, [0, 1], 0.5, 120.0)
    assert "| federated | 0.5 | 0.01 | 0.810 ± 0.014 | 0.855 ± 0.007 |" in section
    assert "| federated | ∞ (no DP) |" in section and "| pooled (all data in one place) |" in section
    assert "| heart (a) | no DP | 0.100 ± 0.000 | 0.050 ± 0.000 | 0.200 ± 0.000 | 0.040 ± 0.000 |" in section
    assert section.count("| heart (a) |") == len(EPSILONS)
    assert "| always the commonest class | | | 0.611 | 0.500 |" in section
    assert (
        "As the demo trains (3 rounds" in section
        and "| 4 | 0.03 | 0.710 ± 0.014 | 0.800 ± 0.000 |" in section
    )
    assert "### Heart (2 hospitals; training examples: a 100, b 50; 5 rounds x 2 local epochs)" in section


def test_each_consortium_trains_as_its_demo_does() -> None:
    assert plan_of("heart").local_epochs == plan_of("thyroid").local_epochs == TrainingPlan().local_epochs
    assert plan_of("ihc").local_epochs == 5  # the imaging demo's run config
    # Under DP, the tabular demos train at their private runs' learning rate; the imaging demo has none.
    for name in ("heart", "thyroid"):
        assert plan_of(name).learning_rate == TrainingPlan().learning_rate
        assert plan_of(name, private=True).learning_rate == CONSORTIA[name].dp_learning_rate
    assert plan_of("ihc", private=True) == plan_of("ihc")


def test_a_model_that_learned_nothing_scores_the_commonest_class() -> None:
    spec = ModelSpec(input_shape=(1,), num_classes=2)
    train = Examples(np.zeros((4, 1), np.float32), np.array([1, 1, 1, 0], np.float32))
    centres = {
        "a": LocalDataset(train, Examples(np.zeros((2, 1), np.float32), np.array([1, 0], np.float32)), spec),
        "b": LocalDataset(train, Examples(np.zeros((4, 1), np.float32), np.ones(4, np.float32)), spec),
    }
    assert majority_accuracy(centres) == pytest.approx((0.5 + 1.0) / 2)
