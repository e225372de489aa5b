"""Federated versus pooled versus local-only training on the four UCI Heart Disease centres.

Protocol (after FLamby's Fed-Heart-Disease): the four real centres, each split 2/3 train and 1/3
test (stratified, seeded); a model's score is its accuracy averaged over the four centres' test
sets. *Pooled* trains one model on all train splits together. *Local-only* trains one model per
centre on its own train split; we report the mean of their scores. *Federated* is FedAvg
(weighted by examples) with the same model and optimiser.

The baselines are not handicapped: pooled and local-only each take their best mean score over a
grid of epochs and learning rates (:data:`BASELINE_GRID`), chosen on the same test sets, so the
comparison errs in the baselines' favour.

The deployed federation (Flower Deployment Engine + chain) runs once; an in-process FedAvg replica
with the same seeds gives the spread over several seeds.
"""

from __future__ import annotations

import statistics
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from bcfl.demo.heart import CENTRES, SCHEMA, prepare_heart_hospitals
from bcfl.learning.data.dataset import Examples, LocalDataset, ModelSpec
from bcfl.learning.data.table_schema import TableSchema
from bcfl.learning.data.tabular import load_table
from bcfl.learning.task import build_model, evaluate, get_arrays, set_arrays, train


@dataclass(frozen=True)
class TrainingPlan:
    """The shared training settings (those of the Flower App's run config)."""

    rounds: int = 5
    local_epochs: int = 2
    learning_rate: float = 0.01
    batch_size: int = 32


#: (epochs, learning rate) settings the pooled and local-only baselines each take their best of.
BASELINE_GRID = tuple((epochs, lr) for epochs in (10, 20, 30, 40) for lr in (0.01, 0.005))


def centre_datasets(root: Path | None = None) -> dict[str, LocalDataset]:
    """Each centre's train/test split, from the same files the demo hospitals hold."""
    schema = TableSchema.load(SCHEMA)
    folder = root or Path(tempfile.mkdtemp(prefix="bcfl-heart-"))
    return {h.name: load_table(h.data, schema) for h in prepare_heart_hospitals(folder, list(CENTRES))}


def mean_accuracy(model: torch.nn.Module, centres: Mapping[str, LocalDataset]) -> float:
    """Accuracy averaged over the centres' test sets."""
    return float(np.mean([evaluate(model, data.test)["accuracy"] for data in centres.values()]))


def _spec(centres: Mapping[str, LocalDataset]) -> ModelSpec:
    return next(iter(centres.values())).spec


def pooled_score(centres: Mapping[str, LocalDataset], plan: TrainingPlan, seed: int) -> float:
    """One model on all train data, as many passes as the federation makes in total."""
    pooled = Examples(
        np.vstack([c.train.features for c in centres.values()]),
        np.concatenate([c.train.labels for c in centres.values()]),
    )
    model = build_model(_spec(centres), seed=seed)
    train(
        model,
        pooled,
        epochs=plan.rounds * plan.local_epochs,
        lr=plan.learning_rate,
        batch_size=plan.batch_size,
        seed=seed,
    )
    return mean_accuracy(model, centres)


def local_scores(centres: Mapping[str, LocalDataset], plan: TrainingPlan, seed: int) -> dict[str, float]:
    """Each centre alone, scored on every centre's test set."""
    scores = {}
    for name, data in centres.items():
        model = build_model(_spec(centres), seed=seed)
        epochs = plan.rounds * plan.local_epochs
        train(model, data.train, epochs=epochs, lr=plan.learning_rate, batch_size=plan.batch_size, seed=seed)
        scores[name] = mean_accuracy(model, centres)
    return scores


def fedavg_replica(centres: Mapping[str, LocalDataset], plan: TrainingPlan, seed: int) -> float:
    """FedAvg in one process, with the ClientApp's per-round seeds (seed + round)."""
    global_model = build_model(_spec(centres), seed=seed)
    for round_number in range(1, plan.rounds + 1):
        updates, weights = [], []
        for data in centres.values():
            model = build_model(_spec(centres))
            set_arrays(model, get_arrays(global_model))
            train(
                model, data.train, epochs=plan.local_epochs, lr=plan.learning_rate,
                batch_size=plan.batch_size, seed=seed + round_number,
            )  # fmt: skip
            updates.append(get_arrays(model))
            weights.append(len(data.train))
        total = sum(weights)
        averaged = {
            k: sum(w * u[k] for w, u in zip(weights, updates, strict=True)) / total for k in updates[0]
        }
        set_arrays(global_model, {k: np.asarray(v, dtype=np.float32) for k, v in averaged.items()})
    return mean_accuracy(global_model, centres)


def spread(values: list[float]) -> tuple[float, float]:
    """Mean and sample standard deviation."""
    return statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else 0.0


def best_baseline(
    score: Callable[[TrainingPlan, int], float], seeds: list[int], batch_size: int = 32
) -> tuple[TrainingPlan, list[float]]:
    """The :data:`BASELINE_GRID` setting with the best mean score over ``seeds``, and its scores.

    ``score(plan, seed)`` trains for ``plan.rounds * plan.local_epochs`` epochs (here: one round).
    """
    best: tuple[TrainingPlan, list[float]] | None = None
    for epochs, lr in BASELINE_GRID:
        plan = TrainingPlan(rounds=1, local_epochs=epochs, learning_rate=lr, batch_size=batch_size)
        scores = [score(plan, seed) for seed in seeds]
        if best is None or statistics.fmean(scores) > statistics.fmean(best[1]):
            best = (plan, scores)
    assert best is not None
    return best
