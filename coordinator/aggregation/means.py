"""The averaging rules: FedAvg, reputation weighting, the trimmed mean and the median."""

from __future__ import annotations

import statistics
from collections.abc import Sequence

import numpy as np

from coordinator.aggregation.base import (
    Aggregation,
    Arrays,
    Candidate,
    cast,
    coordinatewise,
    copy,
    ids,
    median,
    weighted,
)
from coordinator.scoring import flat_delta, norm


def fedavg(f: int, global_arrays: Arrays, candidates: Sequence[Candidate]) -> Aggregation:
    """The mean weighted by examples."""
    return weighted(global_arrays, candidates, [c.num_examples for c in candidates])


def reputation(f: int, global_arrays: Arrays, candidates: Sequence[Candidate]) -> Aggregation:
    """``G + sum(w_i * clip(d_i)) / sum(w_i)`` by contribution weight, each delta clipped to the
    median delta norm (norms exactly rounded); ``G`` itself when no candidate has a weight."""
    weights = {c.member_id: c.contribution_weight for c in candidates}
    total = sum(weights.values())
    if total <= 0:
        return Aggregation(copy(global_arrays), weights)
    deltas = [flat_delta(global_arrays, c.arrays) for c in candidates]
    norms = [norm(d) for d in deltas]
    bound = statistics.median(norms)
    moved = np.zeros_like(deltas[0])
    for delta, length, candidate in zip(deltas, norms, candidates, strict=True):
        scale = min(1.0, bound / length) if length > 0 else 0.0
        moved += (candidate.contribution_weight / total) * scale * delta
    result = {}
    offset = 0
    for name, like in global_arrays.items():
        size = int(np.asarray(like).size)
        step = moved[offset : offset + size].reshape(np.shape(like))
        result[name] = cast(np.asarray(like, np.float64) + step, like)
        offset += size
    return Aggregation(result, weights)


def trimmed_mean(f: int, global_arrays: Arrays, candidates: Sequence[Candidate]) -> Aggregation:
    """The coordinate-wise mean without the ``min(max(1, f), (n - 1) // 2)`` lowest and highest."""
    n = len(candidates)
    k = min(max(1, f), (n - 1) // 2)

    def trimmed(ordered: np.ndarray) -> np.ndarray:
        acc = np.zeros(ordered.shape[1:], np.float64)
        for rank in range(k, n - k):
            acc += ordered[rank]
        return acc / float(n - 2 * k)

    return Aggregation(coordinatewise(global_arrays, candidates, trimmed), dict.fromkeys(ids(candidates), 1))


def median_rule(f: int, global_arrays: Arrays, candidates: Sequence[Candidate]) -> Aggregation:
    """The coordinate-wise median."""
    return Aggregation(coordinatewise(global_arrays, candidates, median), dict.fromkeys(ids(candidates), 1))
