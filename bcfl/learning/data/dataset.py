"""What every data loader hands to training, whatever the modality: examples, splits, model shape."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ModelSpec:
    """The shape of the consortium's model: one input example's shape and the number of classes.

    ``input_shape`` is ``(features,)`` for an EHR table and ``(channels, height, width)`` for images.
    Two classes train one logit with binary cross-entropy; more train one logit per class.
    """

    input_shape: tuple[int, ...]
    num_classes: int


@dataclass(frozen=True)
class Examples:
    """Model-ready inputs (float32, first axis = example) and labels (class index, float32)."""

    features: np.ndarray
    labels: np.ndarray

    def __len__(self) -> int:
        return len(self.labels)


@dataclass(frozen=True)
class LocalDataset:
    """A hospital's train and held-out test split, and the model shape they need."""

    train: Examples
    test: Examples
    spec: ModelSpec


def split_indices(labels: np.ndarray, test_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A stratified train/test split, the same for the same labels and seed on every machine."""
    rng = np.random.default_rng(seed)
    train: list[np.ndarray] = []
    test: list[np.ndarray] = []
    for value in np.unique(labels):
        members = np.flatnonzero(labels == value)
        rng.shuffle(members)
        n_test = round(len(members) * test_fraction)
        test.append(members[:n_test])
        train.append(members[n_test:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(test))


def split_dataset(examples: Examples, spec: ModelSpec, test_fraction: float, seed: int) -> LocalDataset:
    """Split ``examples`` with :func:`split_indices`."""
    train, test = split_indices(examples.labels, test_fraction, seed)
    return LocalDataset(
        train=Examples(examples.features[train], examples.labels[train]),
        test=Examples(examples.features[test], examples.labels[test]),
        spec=spec,
    )
