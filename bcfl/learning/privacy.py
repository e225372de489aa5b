"""Differential privacy for a hospital's local training: DP-SGD with Opacus (per-example gradient
clipping, Gaussian noise, Poisson sampling) and its RDP accountant.

The noise is planned once for a run: the multiplier that spends the target ε at δ over all the run's
planned rounds (each ``epochs`` passes over the hospital's data). Each round's training is then one more
entry of the accountant's history, ``(noise multiplier, sample rate, steps)``, which the hospital keeps
between rounds (:class:`PrivacyHistory`), so its cumulative ε is the accountant's composition of every
round it trained, whatever the ClientApp processes in between.
"""

from __future__ import annotations

import logging
import math
import secrets
import warnings
from dataclasses import dataclass

import torch
from opacus import PrivacyEngine
from opacus.accountants import RDPAccountant
from opacus.accountants.utils import get_noise_multiplier
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from bcfl.learning.data.dataset import Examples
from bcfl.learning.task import loss_of

logger = logging.getLogger(__name__)
#: Opacus's note that a larger RDP order might give a tighter ε: the ε it reports is still an upper bound.
_LARGEST_ALPHA = "Optimal order is the largest alpha"


@dataclass(frozen=True)
class DpConfig:
    """A run's differential privacy, from its run config: spend at most ``epsilon`` at ``delta`` over
    ``rounds`` rounds, clipping each example's gradient to ``max_grad_norm``."""

    epsilon: float
    delta: float
    max_grad_norm: float
    rounds: int

    def __post_init__(self) -> None:
        if not (self.epsilon > 0 and math.isfinite(self.epsilon)):
            raise ValueError(f"dp-epsilon must be a positive number, got {self.epsilon}")
        if not 0 < self.delta < 1:
            raise ValueError(f"dp-delta must lie between 0 and 1, got {self.delta}")
        if not (self.max_grad_norm > 0 and math.isfinite(self.max_grad_norm)):
            raise ValueError(f"dp-max-grad-norm must be a positive number, got {self.max_grad_norm}")
        if self.rounds < 1:
            raise ValueError(f"the run must plan at least one round, got {self.rounds}")


@dataclass(frozen=True)
class PrivateStep:
    """One round's DP-SGD, as the accountant counts it."""

    noise_multiplier: float
    sample_rate: float
    steps: int


def plan_step(config: DpConfig, examples: int, batch_size: int, epochs: int) -> PrivateStep:
    """The noise that spends ``config``'s ε over its rounds, and one round's sampling: Poisson batches of
    expected size ``batch_size``, ``epochs`` passes a round (as Opacus's DP data loader draws them)."""
    if examples < 1:
        raise ValueError("differential privacy needs at least one training example")
    steps_per_epoch = math.ceil(examples / batch_size)
    sample_rate = 1 / steps_per_epoch
    steps = epochs * steps_per_epoch
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=_LARGEST_ALPHA)
        noise = get_noise_multiplier(
            target_epsilon=config.epsilon,
            target_delta=config.delta,
            sample_rate=sample_rate,
            steps=steps * config.rounds,
            accountant="rdp",
        )
    return PrivateStep(float(noise), sample_rate, steps)


def epsilon_of(history: list[PrivateStep], delta: float) -> float:
    """The RDP accountant's ε at ``delta`` after every step of ``history`` (0 for none)."""
    if not history:
        return 0.0
    accountant = RDPAccountant()
    accountant.history = [(s.noise_multiplier, s.sample_rate, s.steps) for s in history]
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=_LARGEST_ALPHA)
        return float(accountant.get_epsilon(delta))


def train_private(
    model: nn.Module,
    data: Examples,
    *,
    step: PrivateStep,
    max_grad_norm: float,
    lr: float,
    seed: int | None,
) -> float:
    """Train ``model`` in place with DP-SGD (Adam) for one round as ``step`` plans it; the mean loss of
    the last epoch's batches. The model's own parameters are trained (Opacus wraps, not copies, them).

    ``seed`` None (the hospital's case) draws the batches and the noise from fresh operating-system
    randomness: the guarantee needs both secret, and the run's seed is in its config document, for
    anyone to read. A seed makes a benchmark or a test repeatable, and is no privacy."""
    with warnings.catch_warnings():
        # The noise is seeded (reproducible runs), which Opacus warns is not its secure RNG; and a model
        # whose first layer's inputs need no gradient makes torch say so at every backward pass.
        warnings.filterwarnings("ignore", message="Secure RNG turned off")
        warnings.filterwarnings("ignore", message="Full backward hook is firing")
        secret = seed if seed is not None else secrets.randbits(62)
        return _train_private(model, data, step=step, max_grad_norm=max_grad_norm, lr=lr, seed=secret)


def _train_private(
    model: nn.Module, data: Examples, *, step: PrivateStep, max_grad_norm: float, lr: float, seed: int
) -> float:
    features, labels = torch.from_numpy(data.features), torch.from_numpy(data.labels)
    steps_per_epoch = round(1 / step.sample_rate)
    loader = DataLoader(
        TensorDataset(features, labels),
        batch_size=math.ceil(len(labels) / steps_per_epoch),
        generator=torch.Generator().manual_seed(seed),
    )
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    engine = PrivacyEngine(accountant="rdp")
    private, optimizer, loader = engine.make_private(
        module=model,
        optimizer=optimizer,
        data_loader=loader,
        noise_multiplier=step.noise_multiplier,
        max_grad_norm=max_grad_norm,
        poisson_sampling=True,
        noise_generator=torch.Generator().manual_seed(seed + 1),
    )
    epochs = step.steps // steps_per_epoch
    last = 0.0
    for _ in range(epochs):
        total, seen = 0.0, 0
        for batch_features, batch_labels in loader:
            # An empty Poisson batch still takes its noisy step, as the accountant counts it.
            optimizer.zero_grad()
            loss = loss_of(private(batch_features), batch_labels)
            loss.backward()  # type: ignore[no-untyped-call]
            optimizer.step()
            if len(batch_labels):
                total += loss.item() * len(batch_labels)
                seen += len(batch_labels)
        last = total / max(1, seen)
    private.remove_hooks()
    return last
