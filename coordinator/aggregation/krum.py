"""The selecting rules: Krum, Multi-Krum and Bulyan."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from coordinator.aggregation.base import Aggregation, Arrays, Candidate, cast, median, stack, weighted
from coordinator.errors import CoordinatorError


def krum_order(global_arrays: Arrays, candidates: Sequence[Candidate], f: int) -> list[int]:
    """Candidate indices by Krum score, lowest first (ties: the lower member id)."""
    flat = [
        np.concatenate([np.asarray(c.arrays[name], np.float64).ravel() for name in global_arrays])
        for c in candidates
    ]
    n = len(flat)
    distance = [[0.0] * n for _ in range(n)]
    for i in range(n):
        for j in range(i + 1, n):
            diff = flat[i] - flat[j]
            distance[i][j] = distance[j][i] = math.fsum((diff * diff).tolist())
    closest = max(1, n - f - 2)
    scores = [math.fsum(sorted(distance[i][j] for j in range(n) if j != i)[:closest]) for i in range(n)]
    return sorted(range(n), key=lambda i: (scores[i], i))


def krum(f: int, global_arrays: Arrays, candidates: Sequence[Candidate]) -> Aggregation:
    """The update with the lowest Krum score."""
    best = krum_order(global_arrays, candidates, f)[0]
    weights = [int(i == best) for i in range(len(candidates))]
    return weighted(global_arrays, candidates, weights)


def multikrum(f: int, global_arrays: Arrays, candidates: Sequence[Candidate]) -> Aggregation:
    """The mean weighted by examples of the ``max(1, n - f)`` lowest Krum scores."""
    chosen = set(krum_order(global_arrays, candidates, f)[: max(1, len(candidates) - f)])
    weights = [c.num_examples if i in chosen else 0 for i, c in enumerate(candidates)]
    return weighted(global_arrays, candidates, weights)


def bulyan(f: int, global_arrays: Arrays, candidates: Sequence[Candidate]) -> Aggregation:
    """Told ``b = min(f, (n - 3) // 4)`` attackers: the ``n - 2b`` lowest Krum scores, then per
    coordinate the mean of the ``n - 4b`` of their values nearest the median (ties: member id)."""
    n = len(candidates)
    if n < 3:
        raise CoordinatorError(f"bulyan needs at least 3 updates, got {n}: choose another aggregation")
    told = min(f, (n - 3) // 4)
    chosen = sorted(krum_order(global_arrays, candidates, told)[: n - 2 * told])
    selected = [candidates[i] for i in chosen]
    beta = n - 4 * told
    result = {}
    for name, like in global_arrays.items():
        layers = stack(selected, name)
        centre = median(np.sort(layers, axis=0))
        rank = np.argsort(np.abs(layers - centre), axis=0, kind="stable")[:beta]
        nearest = np.take_along_axis(layers, rank, axis=0)
        acc = np.zeros(layers.shape[1:], np.float64)
        for r in range(beta):
            acc += nearest[r]
        result[name] = cast(acc / float(beta), like)
    return Aggregation(result, {c.member_id: int(i in chosen) for i, c in enumerate(candidates)})
