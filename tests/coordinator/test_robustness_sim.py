"""The robustness benchmark's scenarios: the coordinator's round service on a real Anvil, checked."""

from __future__ import annotations

from bcfl.chain.client import ChainClient
from benchmarks.federated import TrainingPlan
from benchmarks.robustness import Defence, simulate
from benchmarks.sites import heart_sites, split_site


def test_a_free_rider_is_excluded_and_never_paid(client: ChainClient) -> None:
    sites = heart_sites(4)
    budget = Defence(budget=10_000)
    outcome = simulate(client, sites, {"switzerland": "free-ride"}, budget, TrainingPlan(rounds=3))
    assert all(s["switzerland"] == 0 for s in outcome.scores)
    assert outcome.paid["switzerland"] == 0 and outcome.excluded_after("switzerland") == 2
    assert sum(outcome.paid.values()) <= 3 * 10_000 * 10**18  # three rounds' budgets at most
    honest = [n for n in sites if n != "switzerland"]
    assert all(outcome.paid[n] > 0 for n in honest) and all(n in outcome.aggregated[-1] for n in honest)
    assert all(0 <= r <= 10_000 for rounds in outcome.reputation for r in rounds.values())


def test_splitting_a_site_keeps_its_patients_and_balance() -> None:
    cleveland = heart_sites(4)["cleveland"]
    parts = split_site("cleveland", cleveland, 3)
    assert list(parts) == ["cleveland-1", "cleveland-2", "cleveland-3"]
    assert sum(len(p.train) for p in parts.values()) == len(cleveland.train)
    assert sum(len(p.test) for p in parts.values()) == len(cleveland.test)
    rate = cleveland.train.labels.mean()
    assert all(abs(p.train.labels.mean() - rate) < 0.05 for p in parts.values())
