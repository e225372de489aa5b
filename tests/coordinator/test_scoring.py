"""Contribution scores and the budget split: pure functions, real model updates."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bcfl.chain.reputation import MAX_SCORE
from bcfl.learning.data.dataset import LocalDataset
from bcfl.learning.privacy import DpConfig, plan_step, train_private
from bcfl.learning.task import build_model, get_arrays, set_arrays, train
from benchmarks.attacks import poison
from benchmarks.federated import centre_datasets
from coordinator.incentives import member_weight, split_budget
from coordinator.scoring import DEFAULT_RULE, LEGACY_RULE, flat_delta, score_round, scoring_of

Arrays = dict[str, np.ndarray]


@pytest.fixture(scope="module")
def round_one() -> tuple[Arrays, dict[int, Arrays], dict[int, LocalDataset]]:
    """The first round of the real heart-disease consortium: a global model and four honest updates."""
    centres = centre_datasets()
    spec = next(iter(centres.values())).spec
    global_arrays = dict(get_arrays(build_model(spec, seed=0)))
    updates: dict[int, Arrays] = {}
    for member, data in enumerate(centres.values(), start=1):
        model = build_model(spec)
        set_arrays(model, global_arrays)
        train(model, data.train, epochs=2, lr=0.01, batch_size=32, seed=1)
        updates[member] = dict(get_arrays(model))
    return global_arrays, updates, dict(enumerate(centres.values(), start=1))


def test_honest_updates_score_and_attacks_do_not(
    round_one: tuple[Arrays, dict[int, Arrays], dict[int, LocalDataset]],
) -> None:
    global_arrays, updates, _ = round_one
    honest = score_round(global_arrays, updates)
    assert all(c.score_bps > 0 and c.reason == "ok" for c in honest.values())
    rng = np.random.default_rng(0)
    for attack in ("sign-flip", "scale", "free-ride", "noise"):
        attacked = {**updates, 2: poison(attack, global_arrays, updates[2], rng=rng)}
        scores = score_round(global_arrays, attacked)
        # The same member scores less attacking than honest (how much less depends on the attack:
        # docs/contribution.md measures each against the whole defence).
        assert scores[2].score_bps < honest[2].score_bps, attack
    free = score_round(global_arrays, {**updates, 2: poison("free-ride", global_arrays, updates[2], rng=rng)})
    assert free[2].score_bps == 0 and free[2].reason.startswith("free rider")
    scaled = score_round(global_arrays, {**updates, 2: poison("scale", global_arrays, updates[2], rng=rng)})
    assert scaled[2].norm_ratio > 2 and "scaled down" in scaled[2].reason


def test_replay_and_inconsistent_updates_score_zero(
    round_one: tuple[Arrays, dict[int, Arrays], dict[int, LocalDataset]],
) -> None:
    global_arrays, updates, _ = round_one
    replayed = score_round(global_arrays, updates, replayed=[3])
    assert replayed[3].score_bps == 0 and "replays" in replayed[3].reason
    # A member whose delta points the other way from its own previous one (noise does) scores 0.
    previous = {m: flat_delta(global_arrays, u) for m, u in updates.items()}
    previous[4] = -previous[4]
    consistent = score_round(global_arrays, updates, previous=previous)
    assert consistent[4].score_bps == 0 and consistent[4].consistency < 0
    assert consistent[1].consistency == pytest.approx(1.0)


def test_scores_are_deterministic_and_bounded(
    round_one: tuple[Arrays, dict[int, Arrays], dict[int, LocalDataset]],
) -> None:
    global_arrays, updates, _ = round_one
    first = score_round(global_arrays, updates)
    # The same arrays in another memory layout and member order give the same scores.
    shuffled = {
        m: {k: np.asfortranarray(v) for k, v in updates[m].items()} for m in reversed(sorted(updates))
    }
    assert score_round(global_arrays, shuffled) == first
    assert all(0 <= c.score_bps <= MAX_SCORE for c in first.values())
    # Two updates: no robust consensus, every update counts fully.
    pair = score_round(global_arrays, {1: updates[1], 2: updates[2]})
    assert [c.score_bps for c in pair.values()] == [MAX_SCORE, MAX_SCORE]


@given(
    budget=st.integers(min_value=0, max_value=10**24),
    weights=st.dictionaries(st.integers(1, 50), st.integers(0, 10**12), max_size=12),
)
def test_the_budget_split_never_exceeds_the_budget(budget: int, weights: dict[int, int]) -> None:
    amounts = split_budget(budget, weights)
    assert set(amounts) == set(weights)
    assert sum(amounts.values()) <= budget
    assert all(amounts[m] == 0 for m, w in weights.items() if w == 0)
    total = sum(weights.values())
    if total:
        # Rounded down: each member within one base unit of its exact proportional share.
        assert all(0 <= budget * w - amounts[m] * total < total for m, w in weights.items())


def test_weights_combine_examples_score_and_reputation() -> None:
    assert member_weight(100, 5_000, 8_000) == 100 * 5_000 * 8_000
    assert member_weight(100, 0, 8_000) == 0
    with pytest.raises(ValueError, match="non-negative"):
        split_budget(-1, {1: 1})


def _private_round(global_arrays: Arrays, centres: dict[int, LocalDataset], seed: int) -> dict[int, Arrays]:
    """Each centre's update of one round trained with DP-SGD at ε = 4 over 5 rounds (the demo's)."""
    updates: dict[int, Arrays] = {}
    for member, data in centres.items():
        model = build_model(data.spec)
        set_arrays(model, global_arrays)
        step = plan_step(DpConfig(4.0, 1e-5, 1.0, 5), len(data.train), 32, 2)
        train_private(model, data.train, step=step, max_grad_norm=1.0, lr=0.03, seed=seed * 10 + member)
        updates[member] = dict(get_arrays(model))
    return updates


def test_noisy_private_updates_keep_their_scores_and_random_noise_does_not(
    round_one: tuple[Arrays, dict[int, Arrays], dict[int, LocalDataset]],
) -> None:
    """With DP-SGD an honest hospital's delta barely points as its previous one did (its noise is
    fresh each round): version 2 scores that consistency against the round's median, so honest
    hospitals keep their scores (version 1's absolute cosine let every reputation decay below the
    exclusion threshold), while a hospital sending random noise still scores nothing."""
    global_arrays, _, centres = round_one
    first = _private_round(global_arrays, centres, seed=1)
    after = {k: np.mean([u[k] for u in first.values()], axis=0).astype(np.float32) for k in global_arrays}
    second = _private_round(after, centres, seed=2)
    previous = {m: flat_delta(global_arrays, u) for m, u in first.items()}
    relative = score_round(after, second, previous=previous)
    absolute = score_round(after, second, previous=previous, rule=LEGACY_RULE)
    assert all(0 < c.consistency < 0.5 for c in relative.values()), relative  # noisy, not opposed
    assert min(c.score_bps for c in relative.values()) > 3 * max(c.score_bps for c in absolute.values())
    rng = np.random.default_rng(0)
    noise = {**second, 2: poison("noise", after, second[2], rng=rng)}
    noise_before = {
        **previous,
        2: flat_delta(global_arrays, poison("noise", global_arrays, first[2], rng=rng)),
    }
    attacked = score_round(after, noise, previous=noise_before)
    assert attacked[2].score_bps < min(c.score_bps for m, c in attacked.items() if m != 2) / 4, attacked


def test_each_round_is_scored_with_the_rule_its_config_document_names() -> None:
    assert scoring_of(None) == LEGACY_RULE and LEGACY_RULE.version == 1  # documents before version 2
    assert scoring_of(DEFAULT_RULE.to_document()) == DEFAULT_RULE and DEFAULT_RULE.version == 2
    bad: object
    for bad in (
        {**DEFAULT_RULE.to_document(), "version": 3},
        {**DEFAULT_RULE.to_document(), "min-consistency": "0.05"},
        {**DEFAULT_RULE.to_document(), "max-norm-ratio": 100.0},  # a coordinator's own, laxer rule
        {**DEFAULT_RULE.to_document(), "min-agreement": 0},
        {"version": 2},
        [],
    ):
        with pytest.raises(ValueError, match="is not the consortium's rule"):
            scoring_of(bad)  # type: ignore[arg-type]
