"""The consortium's defences in one process: attacks, scores, reputation, aggregation and payouts.

Each round mirrors the deployed coordinator with the same functions (scoring, the contract's
reputation arithmetic, the aggregation rules, the budget split); only Flower transport, signatures
and the chain are left out, so many scenarios run in minutes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
from flwr.app import Array, ArrayRecord, Message, MetricRecord, RecordDict
from flwr.supercore.task_identity import TaskIdentity

from bcfl.chain.deploy import DEFAULT_PARAMETERS
from bcfl.chain.reputation import next_reputation
from bcfl.learning.data.dataset import LocalDataset
from bcfl.learning.task import build_model, get_arrays, set_arrays, train
from bcfl.models.canonical import model_hash
from benchmarks.attacks import flip_labels, poison
from benchmarks.federated import TrainingPlan, mean_accuracy
from coordinator.aggregation import DEFAULT_AGGREGATION, flower_strategy, reputation_weighted
from coordinator.incentives import good_standing_weights, split_budget
from coordinator.scoring import flat_delta, score_round

Arrays = Mapping[str, np.ndarray]


@dataclass(frozen=True)
class Defence:
    """The consortium's settings (the deployment's defaults unless a scenario changes them)."""

    aggregation: str = DEFAULT_AGGREGATION
    num_malicious: int = 1
    use_reputation: bool = True
    initial_reputation: int = DEFAULT_PARAMETERS.initial_reputation
    smoothing: int = DEFAULT_PARAMETERS.smoothing
    exclusion_threshold: int = DEFAULT_PARAMETERS.exclusion_threshold
    budget: int = DEFAULT_PARAMETERS.round_budget // 10**18


@dataclass
class Outcome:
    """What a scenario did, round by round."""

    #: Mean accuracy over the honest hospitals' test sets, after each round.
    accuracy: list[float] = field(default_factory=list)
    scores: list[dict[str, int]] = field(default_factory=list)
    reputation: list[dict[str, int]] = field(default_factory=list)
    aggregated: list[list[str]] = field(default_factory=list)
    paid: dict[str, int] = field(default_factory=dict)

    def excluded_after(self, name: str) -> int | None:
        """The first round from which ``name`` was never aggregated again, or None."""
        rounds = len(self.aggregated)
        for start in range(1, rounds + 1):
            if all(name not in self.aggregated[r - 1] for r in range(start, rounds + 1)):
                return start
        return None

    def share(self, name: str) -> float:
        """``name``'s share of everything paid."""
        total = sum(self.paid.values())
        return self.paid.get(name, 0) / total if total else 0.0


def _messages(updates: list[tuple[Arrays, int]]) -> list[Message]:
    try:
        TaskIdentity.run_id  # noqa: B018  (set by the Flower runtime, when there is one)
    except RuntimeError:  # no Flower runtime in this process: an in-process run 0
        TaskIdentity.run_id, TaskIdentity.node_id, TaskIdentity.task_id = 0, 0, 0
    return [
        Message(
            content=RecordDict(
                {
                    "arrays": ArrayRecord({k: Array(np.asarray(v)) for k, v in arrays.items()}),
                    "metrics": MetricRecord({"num-examples": examples}),
                }
            ),
            dst_node_id=0,
            message_type="train",
        )
        for arrays, examples in updates
    ]


def _flower_aggregate(
    method: str, updates: list[tuple[Arrays, int]], num_malicious: int
) -> dict[str, np.ndarray]:
    strategy = flower_strategy(method, len(updates), num_malicious)
    record, _ = strategy.aggregate_train(1, _messages(updates))
    assert record is not None
    return {k: record[k].numpy() for k in updates[0][0]}


def simulate(
    centres: Mapping[str, LocalDataset],
    attackers: Mapping[str, str],
    defence: Defence,
    plan: TrainingPlan,
    seed: int = 0,
) -> Outcome:
    """Run ``plan.rounds`` rounds with ``attackers`` (hospital name -> attack)."""
    spec = next(iter(centres.values())).spec
    model = build_model(spec, seed=seed)
    names = sorted(centres)
    reputation = dict.fromkeys(names, defence.initial_reputation)
    seen: set[bytes] = set()
    previous: dict[str, Arrays] = {}
    last_delta: dict[int, np.ndarray] = {}
    outcome = Outcome(paid=dict.fromkeys(names, 0))
    rng = np.random.default_rng(seed)
    for round_number in range(1, plan.rounds + 1):
        global_arrays = get_arrays(model)
        updates: dict[str, Arrays] = {}
        for name in names:
            local = build_model(spec)
            set_arrays(local, global_arrays)
            attack = attackers.get(name)
            data = centres[name].train
            if attack == "free-ride":
                honest: Arrays = global_arrays
            else:
                examples = flip_labels(data, spec.num_classes) if attack == "label-flip" else data
                train(local, examples, epochs=plan.local_epochs, lr=plan.learning_rate,
                      batch_size=plan.batch_size, seed=seed + round_number)  # fmt: skip
                honest = get_arrays(local)
            updates[name] = (
                poison(attack, global_arrays, honest, rng=rng, previous=previous.get(name))
                if attack
                else honest
            )
            previous.setdefault(name, updates[name])
        hashes = {name: model_hash(updates[name]) for name in names}
        ids = {name: i for i, name in enumerate(names)}
        replayed = [ids[n] for n in names if hashes[n] in seen]
        seen.update(hashes.values())
        contributions = score_round(
            global_arrays, {ids[n]: updates[n] for n in names}, previous=last_delta, replayed=replayed
        )
        last_delta = {ids[n]: flat_delta(global_arrays, updates[n]) for n in names}
        scores = {n: contributions[ids[n]].score_bps for n in names}
        before = dict(reputation)
        for n in names:
            reputation[n] = next_reputation(reputation[n], scores[n], defence.smoothing)
        weights = good_standing_weights(
            {n: len(centres[n].train) for n in names},
            scores,
            before,
            reputation,
            defence.exclusion_threshold if defence.use_reputation else 0,
        )
        included = list(weights)
        if defence.aggregation == "reputation":
            new = reputation_weighted(global_arrays, [(updates[n], weights[n]) for n in included])
        else:
            batch = [(updates[n], len(centres[n].train)) for n in included]
            new = (
                _flower_aggregate(defence.aggregation, batch, defence.num_malicious)
                if batch
                else global_arrays
            )
        set_arrays(model, {k: np.asarray(v, np.float32) for k, v in new.items()})
        for n, amount in split_budget(defence.budget, weights).items():
            outcome.paid[n] += amount
        honest_sites = {n: centres[n] for n in names if n not in attackers}
        outcome.accuracy.append(mean_accuracy(model, honest_sites))
        outcome.scores.append(scores)
        outcome.reputation.append(dict(reputation))
        outcome.aggregated.append(included)
    return outcome
