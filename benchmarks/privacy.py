"""Differential privacy's price and protection, on the heart, thyroid and imaging (IHC) consortia.

*Utility*: FedAvg in one process (the ClientApp's training, seeds and weighting, as
:func:`benchmarks.federated.fedavg_replica`), every hospital training with DP-SGD planned for the target
ε at δ over the run's rounds (:mod:`bcfl.learning.privacy`, what the hospital node runs), scored by the
accuracy and AUROC averaged over the hospitals' test sets; against the same run without DP, and the
pooled and local-only references (no DP, as many epochs in total). DP-SGD's learning rate is the best
of :data:`DP_LEARNING_RATES` for each ε (chosen on the same test sets, in DP's favour); every other
setting is the App's.

*Protection*: a loss-threshold membership-inference attack (Yeom et al., 2018) on one hospital's model:
it guesses "member" for an example whose loss is below a threshold; its advantage is the best
TPR - FPR over all thresholds, on the hospital's training patients (members) against as many of its
held-out patients (non-members). The best threshold is chosen with the answers known, so even a model
that leaks nothing shows some advantage on a few hundred patients: the same attack with the member
labels shuffled gives that chance level.
"""

from __future__ import annotations

import random
import statistics
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from bcfl.demo.consortia import CONSORTIA
from bcfl.demo.histology import prepare_ihc_hospitals
from bcfl.demo.thyroid import prepare_thyroid_hospitals
from bcfl.learning.data.dataset import Examples, LocalDataset
from bcfl.learning.data.loader import load_local_dataset, load_schema
from bcfl.learning.privacy import DpConfig, plan_step, train_private
from bcfl.learning.task import build_model, evaluate, get_arrays, loss_of, set_arrays, train
from benchmarks.federated import TrainingPlan, centre_datasets

#: The ε values measured (None: no differential privacy).
EPSILONS: tuple[float | None, ...] = (0.5, 1.0, 2.0, 4.0, 8.0, None)
DELTA = 1e-5
MAX_GRAD_NORM = 1.0
#: DP-SGD's learning rates, the best taken per ε (noise and clipping shrink the steps Adam takes).
DP_LEARNING_RATES = (0.01, 0.03)


@dataclass(frozen=True)
class Score:
    """Accuracy and AUROC, each averaged over the hospitals' test sets."""

    accuracy: float
    auroc: float


def consortium(name: str) -> dict[str, LocalDataset]:
    """The demo consortium's hospitals: the four heart centres, the five thyroid referral sources or
    the three IHC imaging sites."""
    if name == "heart":
        return centre_datasets()
    prepare = prepare_thyroid_hospitals if name == "thyroid" else prepare_ihc_hospitals
    folder = Path(tempfile.mkdtemp(prefix=f"bcfl-{name}-"))
    return {p.name: load_local_dataset(p.data, load_schema(p.schema)) for p in prepare(folder)}


def plan_of(name: str, *, private: bool = False) -> TrainingPlan:
    """The demo consortium's training: the App's settings with the consortium's own run settings (the
    imaging demo's ``local-epochs``; with ``private``, its DP runs' ``learning-rate``)."""
    settings = dict(item.split("=", 1) for item in CONSORTIA[name].run_settings(private=private))
    return TrainingPlan(
        local_epochs=int(settings.get("local-epochs", TrainingPlan.local_epochs)),
        learning_rate=float(settings.get("learning-rate", TrainingPlan.learning_rate)),
    )


def score(model: nn.Module, centres: Mapping[str, LocalDataset]) -> Score:
    """The model's mean accuracy and AUROC over the hospitals' test sets."""
    results = [evaluate(model, data.test) for data in centres.values()]
    return Score(
        float(np.mean([r["accuracy"] for r in results])), float(np.mean([r["auroc"] for r in results]))
    )


def local_round(
    model: nn.Module, data: Examples, plan: TrainingPlan, epsilon: float | None, lr: float, seed: int
) -> None:
    """One hospital's round, as the ClientApp trains it: DP-SGD planned for ``epsilon`` over the plan's
    rounds, or plain training."""
    if epsilon is None:
        train(model, data, epochs=plan.local_epochs, lr=lr, batch_size=plan.batch_size, seed=seed)
        return
    step = plan_step(
        DpConfig(epsilon, DELTA, MAX_GRAD_NORM, plan.rounds), len(data), plan.batch_size, plan.local_epochs
    )
    train_private(model, data, step=step, max_grad_norm=MAX_GRAD_NORM, lr=lr, seed=seed)


def dp_fedavg(
    centres: Mapping[str, LocalDataset], plan: TrainingPlan, epsilon: float | None, lr: float, seed: int
) -> tuple[nn.Module, dict[str, nn.Module]]:
    """FedAvg with every hospital at ``epsilon``: the global model and each hospital's last update."""
    spec = next(iter(centres.values())).spec
    global_model = build_model(spec, seed=seed)
    last: dict[str, nn.Module] = {}
    for round_number in range(1, plan.rounds + 1):
        updates, weights = [], []
        for name, data in centres.items():
            model = build_model(spec)
            set_arrays(model, get_arrays(global_model))
            local_round(model, data.train, plan, epsilon, lr, seed + round_number)
            updates.append(get_arrays(model))
            weights.append(len(data.train))
            last[name] = model
        total = sum(weights)
        averaged = {
            k: sum(w * u[k] for w, u in zip(weights, updates, strict=True)) / total for k in updates[0]
        }
        set_arrays(global_model, {k: np.asarray(v, dtype=np.float32) for k, v in averaged.items()})
    return global_model, last


def references(centres: Mapping[str, LocalDataset], plan: TrainingPlan, seed: int) -> tuple[Score, Score]:
    """Pooled (one model on every hospital's training data) and local-only (each hospital alone, the
    mean of their scores), without DP, as many epochs as the federation makes in total."""
    spec = next(iter(centres.values())).spec
    epochs = plan.rounds * plan.local_epochs
    pooled = Examples(
        np.vstack([c.train.features for c in centres.values()]),
        np.concatenate([c.train.labels for c in centres.values()]),
    )
    model = build_model(spec, seed=seed)
    train(model, pooled, epochs=epochs, lr=plan.learning_rate, batch_size=plan.batch_size, seed=seed)
    locals_ = []
    for data in centres.values():
        alone = build_model(spec, seed=seed)
        train(alone, data.train, epochs=epochs, lr=plan.learning_rate, batch_size=plan.batch_size, seed=seed)
        locals_.append(score(alone, centres))
    local = Score(statistics.fmean(s.accuracy for s in locals_), statistics.fmean(s.auroc for s in locals_))
    return score(model, centres), local


def example_losses(model: nn.Module, data: Examples) -> np.ndarray:
    """Each example's loss under ``model``."""
    model.eval()
    with torch.no_grad():
        logits = model(torch.from_numpy(data.features))
        return np.array(
            [
                float(loss_of(logits[i : i + 1], torch.from_numpy(data.labels[i : i + 1])))
                for i in range(len(data))
            ]
        )


def attack_advantage(member_losses: np.ndarray, other_losses: np.ndarray) -> float:
    """The loss-threshold attack's best TPR - FPR ("member" when the loss is at most the threshold)."""
    losses = np.concatenate([member_losses, other_losses])
    is_member = np.concatenate([np.ones(len(member_losses)), np.zeros(len(other_losses))])
    order = np.argsort(losses, kind="stable")
    tpr = np.cumsum(is_member[order]) / len(member_losses)
    fpr = np.cumsum(1 - is_member[order]) / len(other_losses)
    # A threshold cannot split equal losses (patients with the same record): only the last position
    # of each run of equal losses is a threshold the attack can choose.
    sorted_losses = losses[order]
    cut = np.append(sorted_losses[1:] != sorted_losses[:-1], True)
    return float(max(0.0, np.max((tpr - fpr)[cut])))


def membership_advantage(model: nn.Module, data: LocalDataset, seed: int) -> tuple[float, float]:
    """The attack's advantage on ``data``'s training patients against as many held-out ones, and its
    chance level (the same attack with the member labels shuffled)."""
    rng = random.Random(seed)
    count = min(len(data.train), len(data.test))
    members = rng.sample(range(len(data.train)), count)
    others = rng.sample(range(len(data.test)), count)
    member_losses = example_losses(model, Examples(data.train.features[members], data.train.labels[members]))
    other_losses = example_losses(model, Examples(data.test.features[others], data.test.labels[others]))
    pooled = np.concatenate([member_losses, other_losses])
    shuffled = np.random.default_rng(seed).permutation(len(pooled))
    chance = attack_advantage(pooled[shuffled[:count]], pooled[shuffled[count:]])
    return attack_advantage(member_losses, other_losses), chance


def overfit_hospital(
    data: LocalDataset, epochs: int, epsilon: float | None, lr: float, seed: int
) -> nn.Module:
    """One hospital's model trained ``epochs`` passes over its own data alone (where a model memorises
    its patients, and the attack has something to find), with DP-SGD at ``epsilon`` or without."""
    plan = TrainingPlan(rounds=1, local_epochs=epochs, learning_rate=lr)
    model = build_model(data.spec, seed=seed)
    local_round(model, data.train, plan, epsilon, lr, seed)
    return model
