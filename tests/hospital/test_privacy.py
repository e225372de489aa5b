"""Differential privacy at the hospital: DP-SGD on the real heart data with the planned noise, the RDP
accountant's ε, and the node's budget check (here over a fake ledger; tests/federation runs it on
chain)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import numpy as np
import pytest
from flwr.app import ConfigRecord

from bcfl.chain.privacy import NO_BUDGET, NOT_PRIVATE, PrivacyBudget, epsilon_units
from bcfl.chain.rounds import RoundRecord, RoundStatus
from bcfl.demo.heart import SCHEMA, prepare_heart_hospitals
from bcfl.learning.data.dataset import Examples, LocalDataset
from bcfl.learning.data.table_schema import TableSchema
from bcfl.learning.data.tabular import load_table
from bcfl.learning.privacy import DpConfig, epsilon_of, plan_step, train_private
from bcfl.learning.task import build_model, evaluate, get_arrays
from hospital_node.node import HospitalNode
from hospital_node.privacy import (
    NOT_PRIVATE_ROUND,
    PrivacyBudgetError,
    dp_config,
    history_path,
    plan_round,
)

DELTA = 1e-5


@pytest.fixture(scope="module")
def cleveland(tmp_path_factory: pytest.TempPathFactory) -> LocalDataset:
    hospitals = {h.name: h.data for h in prepare_heart_hospitals(tmp_path_factory.mktemp("hospitals"))}
    return load_table(hospitals["cleveland"], TableSchema.load(SCHEMA))


def test_the_planned_noise_spends_the_target_over_the_planned_rounds(cleveland: LocalDataset) -> None:
    config = DpConfig(4.0, DELTA, 1.0, rounds=5)
    step = plan_step(config, len(cleveland.train), batch_size=32, epochs=2)
    assert step.steps == 2 * step.steps // 2 == 2 * round(1 / step.sample_rate)
    assert 3.9 < epsilon_of([step] * 5, DELTA) <= 4.0
    assert epsilon_of([step], DELTA) < epsilon_of([step] * 2, DELTA) < epsilon_of([step] * 5, DELTA)
    assert epsilon_of([], DELTA) == 0.0
    tighter = plan_step(DpConfig(1.0, DELTA, 1.0, rounds=5), len(cleveland.train), batch_size=32, epochs=2)
    assert tighter.noise_multiplier > step.noise_multiplier


def test_dp_sgd_learns_the_heart_data_at_epsilon_4(cleveland: LocalDataset) -> None:
    step = plan_step(DpConfig(4.0, DELTA, 1.0, rounds=5), len(cleveland.train), batch_size=32, epochs=2)
    model = build_model(cleveland.spec)
    before = evaluate(model, cleveland.test)["auroc"]
    for round_number in range(5):
        loss = train_private(model, cleveland.train, step=step, max_grad_norm=1.0, lr=0.02, seed=round_number)
        assert np.isfinite(loss)
    after = evaluate(model, cleveland.test)
    assert after["auroc"] > max(0.75, before), after


def test_dp_sgd_is_reproducible_from_its_seed_and_takes_empty_batches(cleveland: LocalDataset) -> None:
    tiny = Examples(cleveland.train.features[:10], cleveland.train.labels[:10])
    # One expected example a batch: Poisson sampling draws empty batches, which still take their step.
    step = plan_step(DpConfig(2.0, DELTA, 1.0, rounds=3), len(tiny), batch_size=1, epochs=2)
    assert step.sample_rate == pytest.approx(0.1)
    runs = []
    for seed in (7, 7, 8, None, None):
        model = build_model(cleveland.spec)  # the same start every time
        train_private(model, tiny, step=step, max_grad_norm=1.0, lr=0.02, seed=seed)
        runs.append(get_arrays(model))
    assert all(np.isfinite(a).all() for a in runs[0].values())
    assert all(np.array_equal(runs[0][k], runs[1][k]) for k in runs[0])
    assert any(not np.array_equal(runs[0][k], runs[2][k]) for k in runs[0])
    # The hospital's case, no seed: batches and noise from fresh OS randomness, different every time.
    assert any(not np.array_equal(runs[3][k], runs[4][k]) for k in runs[3])


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ((0.0, DELTA, 1.0, 5), "dp-epsilon"),
        ((4.0, 1.0, 1.0, 5), "dp-delta"),
        ((4.0, DELTA, 0.0, 5), "dp-max-grad-norm"),
        ((4.0, DELTA, 1.0, 0), "at least one round"),
    ],
)
def test_settings_out_of_range_are_named(arguments: tuple[float, float, float, int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        DpConfig(*arguments)


# -- the node's budget check, over a fake ledger ---------------------------------------------------
@dataclass
class FakeLedger:
    """What plan_round reads: the budget, a round's lineage and the member's ε on chain."""

    budget: PrivacyBudget
    spent: dict[int, int] = field(default_factory=dict)
    address: str = "0x" + "ab" * 20

    def privacy_budget(self) -> PrivacyBudget:
        return self.budget

    def get_round(self, round_number: int) -> RoundRecord:
        return RoundRecord(round_number, b"", b"", b"", RoundStatus.OPEN, 0, 0, 0, 0, 0, 1)

    def epsilon_spent(self, lineage: int, member_id: int) -> int:
        return self.spent.get(lineage, 0)


def _node(cleveland: LocalDataset, ledger: FakeLedger, proofs: Path) -> HospitalNode:
    fake: Any = SimpleNamespace(
        consortium=SimpleNamespace(ledger=ledger), data=cleveland, member_id=1, proofs=proofs
    )
    return cast(HospitalNode, fake)


def _dp(epsilon: float = 4.0, delta: float = DELTA) -> ConfigRecord:
    return ConfigRecord({"dp-epsilon": epsilon, "dp-delta": delta, "dp-max-grad-norm": 1.0, "dp-rounds": 3})


def test_without_dp_the_update_declares_no_privacy_unless_the_budget_demands_it(
    cleveland: LocalDataset, tmp_path: Path
) -> None:
    free = _node(cleveland, FakeLedger(NO_BUDGET), tmp_path)
    assert plan_round(free, ConfigRecord({}), 1, batch_size=32, epochs=2) == NOT_PRIVATE_ROUND
    assert plan_round(free, _dp(epsilon=0.0), 1, batch_size=32, epochs=2) == NOT_PRIVATE_ROUND
    bounded = _node(cleveland, FakeLedger(PrivacyBudget.of(8.0, DELTA)), tmp_path)
    with pytest.raises(PrivacyBudgetError, match=r"needs differential privacy.*dp-epsilon above 0"):
        plan_round(bounded, ConfigRecord({}), 1, batch_size=32, epochs=2)


def test_each_round_declares_its_increment_and_the_history_is_kept(
    cleveland: LocalDataset, tmp_path: Path
) -> None:
    ledger = FakeLedger(PrivacyBudget.of(4.0, DELTA))
    node = _node(cleveland, ledger, tmp_path)
    first = plan_round(node, _dp(), 1, batch_size=32, epochs=2)
    assert first.step is not None and first.delta_spent == 10**13
    assert first.epsilon_spent == epsilon_units(epsilon_of([first.step], DELTA))
    kept = json.loads(history_path(node, 1).read_text())
    assert [s["round"] for s in kept["steps"]] == [1]
    ledger.spent[1] = first.epsilon_spent  # registered
    second = plan_round(node, _dp(), 2, batch_size=32, epochs=2)
    total = epsilon_units(epsilon_of([first.step, first.step], DELTA))
    assert second.epsilon_spent == total - first.epsilon_spent
    # Round 2's update was never registered: round 3 declares what brings the chain up to its accountant.
    third = plan_round(node, _dp(), 3, batch_size=32, epochs=2)
    assert third.epsilon_spent == epsilon_units(epsilon_of([first.step] * 3, DELTA)) - first.epsilon_spent
    assert first.epsilon_spent + third.epsilon_spent <= ledger.budget.epsilon


def test_the_hospital_refuses_a_round_past_the_budget_and_spends_nothing(
    cleveland: LocalDataset, tmp_path: Path
) -> None:
    ledger = FakeLedger(PrivacyBudget.of(4.0, DELTA), spent={1: 3_000_000})
    node = _node(cleveland, ledger, tmp_path)
    with pytest.raises(PrivacyBudgetError, match=r"past the consortium's budget \(ε ≤ 4 at δ ≤ 1e-05\)"):
        plan_round(node, _dp(epsilon=4.0), 1, batch_size=32, epochs=2)
    assert not history_path(node, 1).exists()
    ledger.spent[1] = NOT_PRIVATE  # an update without differential privacy was registered earlier
    with pytest.raises(PrivacyBudgetError, match="past the consortium's budget"):
        plan_round(node, _dp(epsilon=0.5), 1, batch_size=32, epochs=2)
    with pytest.raises(PrivacyBudgetError, match=r"dp-delta 0\.001 is above the consortium's budget"):
        plan_round(node, _dp(delta=1e-3), 1, batch_size=32, epochs=2)


def test_a_damaged_history_is_refused_never_reset(cleveland: LocalDataset, tmp_path: Path) -> None:
    node = _node(cleveland, FakeLedger(PrivacyBudget.of(4.0, DELTA)), tmp_path)
    path = history_path(node, 1)
    path.parent.mkdir(parents=True)
    for text, message in (("{", "cannot read"), ('{"document": "other", "steps": []}', "malformed")):
        path.write_text(text)
        with pytest.raises(PrivacyBudgetError, match=f"{message}.*restore it from a backup"):
            plan_round(node, _dp(), 1, batch_size=32, epochs=2)
        assert path.read_text() == text, "the evidence is left as it was"


def test_the_run_config_settings_all_or_none() -> None:
    assert dp_config(ConfigRecord({})) is None
    assert dp_config(_dp()) == DpConfig(4.0, DELTA, 1.0, 3)
    with pytest.raises(PrivacyBudgetError, match="give all of"):
        dp_config(ConfigRecord({"dp-epsilon": 4.0}))
    with pytest.raises(PrivacyBudgetError, match="dp-delta must lie"):
        dp_config(_dp(delta=2.0))
