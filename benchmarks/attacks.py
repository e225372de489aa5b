"""Adversarial hospitals, for tests and benchmarks only.

Nothing in the product calls this module: the hospital's ClientApp (``hospital_node.client_app``)
has no attack code. The test-only Flower App in ``tests/attack_app/`` applies these functions, and
only on a SuperNode started with both the node config ``test-attack`` and the environment
variable ``BCFL_TEST_ATTACKS=enable``.

Each attack returns the arrays the hospital then signs and sends; it is a legitimate member with a
valid key, so its signature verifies and only the contents are hostile.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from bcfl.learning.data.dataset import Examples

Arrays = Mapping[str, np.ndarray]
ATTACKS = ("label-flip", "sign-flip", "scale", "noise", "free-ride", "replay")
#: Boost of the ``scale`` attack.
SCALE = 10.0
#: Relative size of the perturbation a ``free-ride`` adds so its update is not byte-identical.
FREE_RIDE_JITTER = 1e-6


def flip_labels(examples: Examples, num_classes: int) -> Examples:
    """The ``label-flip`` attack's training data: every label moved to another class."""
    labels = 1.0 - examples.labels if num_classes == 2 else (examples.labels + 1) % num_classes
    return Examples(examples.features, labels.astype(np.float32))


def poison(
    attack: str,
    global_arrays: Arrays,
    honest: Arrays,
    *,
    rng: np.random.Generator,
    previous: Arrays | None = None,
) -> dict[str, np.ndarray]:
    """The update an attacker sends instead of ``honest`` (its own honestly trained update).

    ``label-flip`` happens in training (:func:`flip_labels`), so here it passes ``honest`` through;
    ``replay`` sends ``previous`` (its update of an earlier round) once it has one.
    """
    out: dict[str, np.ndarray] = {}
    for name, g in global_arrays.items():
        g64, u64 = np.asarray(g, np.float64), np.asarray(honest[name], np.float64)
        delta = u64 - g64
        if attack in ("label-flip",):
            value = u64
        elif attack == "sign-flip":
            value = g64 - delta
        elif attack == "scale":
            value = g64 + SCALE * delta
        elif attack == "noise":
            # Random noise as large as an honest update, so a norm check alone cannot catch it.
            std = float(np.sqrt(np.mean(delta**2))) if delta.size else 0.0
            value = g64 + rng.normal(0.0, std, size=delta.shape)
        elif attack == "free-ride":
            value = g64 + rng.normal(0.0, FREE_RIDE_JITTER, size=delta.shape)
        elif attack == "replay":
            value = np.asarray(previous[name], np.float64) if previous is not None else u64
        else:
            raise ValueError(f"unknown attack {attack!r}; choose one of {', '.join(ATTACKS)}")
        out[name] = value.astype(np.asarray(g).dtype)
    return out
