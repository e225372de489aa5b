"""What the rules of :mod:`coordinator.aggregation` share: the candidates, the result, and the
deterministic arithmetic (float64, candidate by candidate, sort-based medians)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

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


def ids(candidates: Sequence[Candidate]) -> list[int]:
    """The candidates' member ids, in their order."""
    return [c.member_id for c in candidates]


def copy(arrays: Arrays) -> dict[str, np.ndarray]:
    """A copy of ``arrays`` (names, order, dtypes, bits)."""
    return {name: np.array(array, copy=True) for name, array in arrays.items()}


def cast(value: np.ndarray, like: np.ndarray) -> np.ndarray:
    """A float64 result in ``like``'s dtype and shape (rounded to the nearest for integer arrays)."""
    dtype = np.asarray(like).dtype
    return np.asarray(value if dtype.kind == "f" else np.rint(value), dtype=dtype).reshape(np.shape(like))


def stack(candidates: Sequence[Candidate], name: str) -> np.ndarray:
    """The candidates' array ``name`` in float64, one row per candidate."""
    return np.stack([np.asarray(c.arrays[name], np.float64) for c in candidates])


def median(ordered: np.ndarray) -> np.ndarray:
    """The median along axis 0 of values sorted along it (``+ 0.0`` makes a ``-0.0`` middle ``0.0``,
    whichever of two equal zeros the sort put there)."""
    mid = ordered.shape[0] // 2
    middle: np.ndarray = (
        ordered[mid] + 0.0 if ordered.shape[0] % 2 else (ordered[mid - 1] + ordered[mid]) / 2.0
    )
    return middle


def weighted_mean(
    global_arrays: Arrays, candidates: Sequence[Candidate], weights: Sequence[int]
) -> dict[str, np.ndarray]:
    """``sum(w_i * U_i) / sum(w_i)``, summed candidate by candidate; the global model without weight."""
    total = sum(weights)
    if total <= 0:
        return copy(global_arrays)
    result = {}
    for name, like in global_arrays.items():
        acc = np.zeros(np.shape(like), np.float64)
        for candidate, weight in zip(candidates, weights, strict=True):
            if weight:
                acc += np.asarray(candidate.arrays[name], np.float64) * float(weight)
        result[name] = cast(acc / float(total), like)
    return result


def coordinatewise(
    global_arrays: Arrays, candidates: Sequence[Candidate], reduce: Callable[[np.ndarray], np.ndarray]
) -> dict[str, np.ndarray]:
    """``reduce`` of each array's values sorted along the candidate axis."""
    return {
        name: cast(reduce(np.sort(stack(candidates, name), axis=0)), like)
        for name, like in global_arrays.items()
    }


def weighted(global_arrays: Arrays, candidates: Sequence[Candidate], weights: list[int]) -> Aggregation:
    """:func:`weighted_mean`, reporting ``weights`` as the candidates' weights."""
    return Aggregation(
        weighted_mean(global_arrays, candidates, weights),
        dict(zip(ids(candidates), weights, strict=True)),
    )
