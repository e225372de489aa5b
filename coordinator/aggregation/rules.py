"""The rules of :mod:`coordinator.aggregation`, in plain numpy (see its docstring for what each does
and why the result is the same on every machine)."""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from coordinator.aggregation.config import AggregationConfig
from coordinator.errors import CoordinatorError
from coordinator.scoring import flat_delta, norm

Arrays = Mapping[str, np.ndarray]


@dataclass(frozen=True)
class Candidate:
    """A member's update that may enter the round's model."""

    member_id: int
    arrays: Arrays
    num_examples: int
    #: ``examples x score x reputation`` (:func:`coordinator.incentives.member_weight`).
    contribution_weight: int


@dataclass(frozen=True)
class Aggregation:
    """The new model (the global model's names, order and dtypes) and each candidate's weight in it."""

    arrays: dict[str, np.ndarray]
    weights: dict[int, int]


def _ids(candidates: Sequence[Candidate]) -> list[int]:
    return [c.member_id for c in candidates]


def _copy(arrays: Arrays) -> dict[str, np.ndarray]:
    return {name: np.array(array, copy=True) for name, array in arrays.items()}


def _cast(value: np.ndarray, like: np.ndarray) -> np.ndarray:
    dtype = np.asarray(like).dtype
    return np.asarray(value if dtype.kind == "f" else np.rint(value), dtype=dtype).reshape(np.shape(like))


def _stack(candidates: Sequence[Candidate], name: str) -> np.ndarray:
    return np.stack([np.asarray(c.arrays[name], np.float64) for c in candidates])


def _median(ordered: np.ndarray) -> np.ndarray:
    """The median along axis 0 of values sorted along it (``+ 0.0`` makes a ``-0.0`` middle ``0.0``,
    whichever of two equal zeros the sort put there)."""
    mid = ordered.shape[0] // 2
    middle: np.ndarray = (
        ordered[mid] + 0.0 if ordered.shape[0] % 2 else (ordered[mid - 1] + ordered[mid]) / 2.0
    )
    return middle


def _weighted_mean(
    global_arrays: Arrays, candidates: Sequence[Candidate], weights: Sequence[int]
) -> dict[str, np.ndarray]:
    total = sum(weights)
    if total <= 0:
        return _copy(global_arrays)
    result = {}
    for name, like in global_arrays.items():
        acc = np.zeros(np.shape(like), np.float64)
        for candidate, weight in zip(candidates, weights, strict=True):
            if weight:
                acc += np.asarray(candidate.arrays[name], np.float64) * float(weight)
        result[name] = _cast(acc / float(total), like)
    return result


def _coordinatewise(
    global_arrays: Arrays, candidates: Sequence[Candidate], reduce: Callable[[np.ndarray], np.ndarray]
) -> dict[str, np.ndarray]:
    return {
        name: _cast(reduce(np.sort(_stack(candidates, name), axis=0)), like)
        for name, like in global_arrays.items()
    }


def _trimmed_mean(f: int, global_arrays: Arrays, candidates: Sequence[Candidate]) -> Aggregation:
    n = len(candidates)
    k = min(max(1, f), (n - 1) // 2)

    def trimmed(ordered: np.ndarray) -> np.ndarray:
        acc = np.zeros(ordered.shape[1:], np.float64)
        for rank in range(k, n - k):
            acc += ordered[rank]
        return acc / float(n - 2 * k)

    return Aggregation(
        _coordinatewise(global_arrays, candidates, trimmed), dict.fromkeys(_ids(candidates), 1)
    )


def _median_rule(f: int, global_arrays: Arrays, candidates: Sequence[Candidate]) -> Aggregation:
    return Aggregation(
        _coordinatewise(global_arrays, candidates, _median), dict.fromkeys(_ids(candidates), 1)
    )


def _krum_order(global_arrays: Arrays, candidates: Sequence[Candidate], f: int) -> list[int]:
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


def _krum(f: int, global_arrays: Arrays, candidates: Sequence[Candidate]) -> Aggregation:
    best = _krum_order(global_arrays, candidates, f)[0]
    weights = [int(i == best) for i in range(len(candidates))]
    return _selected(global_arrays, candidates, weights)


def _multikrum(f: int, global_arrays: Arrays, candidates: Sequence[Candidate]) -> Aggregation:
    chosen = set(_krum_order(global_arrays, candidates, f)[: max(1, len(candidates) - f)])
    weights = [c.num_examples if i in chosen else 0 for i, c in enumerate(candidates)]
    return _selected(global_arrays, candidates, weights)


def _selected(global_arrays: Arrays, candidates: Sequence[Candidate], weights: list[int]) -> Aggregation:
    return Aggregation(
        _weighted_mean(global_arrays, candidates, weights),
        dict(zip(_ids(candidates), weights, strict=True)),
    )


def _bulyan(f: int, global_arrays: Arrays, candidates: Sequence[Candidate]) -> Aggregation:
    n = len(candidates)
    if n < 3:
        raise CoordinatorError(f"bulyan needs at least 3 updates, got {n}: choose another aggregation")
    told = min(f, (n - 3) // 4)
    chosen = sorted(_krum_order(global_arrays, candidates, told)[: n - 2 * told])
    selected = [candidates[i] for i in chosen]
    beta = n - 4 * told
    result = {}
    for name, like in global_arrays.items():
        stack = _stack(selected, name)
        centre = _median(np.sort(stack, axis=0))
        rank = np.argsort(np.abs(stack - centre), axis=0, kind="stable")[:beta]
        nearest = np.take_along_axis(stack, rank, axis=0)
        acc = np.zeros(stack.shape[1:], np.float64)
        for r in range(beta):
            acc += nearest[r]
        result[name] = _cast(acc / float(beta), like)
    return Aggregation(result, {c.member_id: int(i in chosen) for i, c in enumerate(candidates)})


def _reputation(f: int, global_arrays: Arrays, candidates: Sequence[Candidate]) -> Aggregation:
    weights = {c.member_id: c.contribution_weight for c in candidates}
    total = sum(weights.values())
    if total <= 0:
        return Aggregation(_copy(global_arrays), weights)
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
        result[name] = _cast(np.asarray(like, np.float64) + step, like)
        offset += size
    return Aggregation(result, weights)


def _fedavg(f: int, global_arrays: Arrays, candidates: Sequence[Candidate]) -> Aggregation:
    return _selected(global_arrays, candidates, [c.num_examples for c in candidates])


_RULES: dict[str, Callable[[int, Arrays, Sequence[Candidate]], Aggregation]] = {
    "fedavg": _fedavg,
    "reputation": _reputation,
    "trimmed-mean": _trimmed_mean,
    "median": _median_rule,
    "krum": _krum,
    "multikrum": _multikrum,
    "bulyan": _bulyan,
}


def _check(global_arrays: Arrays, candidates: Sequence[Candidate]) -> None:
    ids = _ids(candidates)
    if len(set(ids)) != len(ids):
        raise CoordinatorError(f"two candidates of the same member in {ids}: give one update per member")
    for candidate in candidates:
        for name, like in global_arrays.items():
            if np.shape(candidate.arrays[name]) != np.shape(like):
                raise CoordinatorError(
                    f"member {candidate.member_id}'s array {name!r} is shaped "
                    f"{np.shape(candidate.arrays[name])}, the global model's {np.shape(like)}"
                )


def aggregate(
    config: AggregationConfig, global_arrays: Arrays, candidates: Sequence[Candidate]
) -> Aggregation:
    """``config``'s rule over ``candidates`` (any order: they are taken by member id)."""
    ordered = sorted(candidates, key=lambda c: c.member_id)
    _check(global_arrays, ordered)
    if not ordered:
        return Aggregation(_copy(global_arrays), {})
    return _RULES[config.rule](config.num_malicious, global_arrays, ordered)
