"""One entry point over the rules of :mod:`coordinator.aggregation` (see its docstring for what each
does and why the result is the same on every machine)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from coordinator.aggregation import krum, means
from coordinator.aggregation.base import Aggregation, Arrays, Candidate, copy, ids
from coordinator.aggregation.config import AggregationConfig
from coordinator.errors import CoordinatorError

RULES: dict[str, Callable[[int, Arrays, Sequence[Candidate]], Aggregation]] = {
    "fedavg": means.fedavg,
    "reputation": means.reputation,
    "trimmed-mean": means.trimmed_mean,
    "median": means.median_rule,
    "krum": krum.krum,
    "multikrum": krum.multikrum,
    "bulyan": krum.bulyan,
}


def _check(global_arrays: Arrays, candidates: Sequence[Candidate]) -> None:
    members = ids(candidates)
    if len(set(members)) != len(members):
        raise CoordinatorError(f"two candidates of the same member in {members}: give one update per member")
    for candidate in candidates:
        for name, like in global_arrays.items():
            shape = np.shape(candidate.arrays[name]) if name in candidate.arrays else None
            if shape != np.shape(like):
                raise CoordinatorError(
                    f"member {candidate.member_id}'s array {name!r} is shaped {shape}, the global "
                    f"model's {np.shape(like)}: verify updates before aggregating them"
                )


def aggregate(
    config: AggregationConfig, global_arrays: Arrays, candidates: Sequence[Candidate]
) -> Aggregation:
    """``config``'s rule over ``candidates`` (any order: they are taken by member id)."""
    ordered = sorted(candidates, key=lambda c: c.member_id)
    _check(global_arrays, ordered)
    if not ordered:
        return Aggregation(copy(global_arrays), {})
    return RULES[config.rule](config.num_malicious, global_arrays, ordered)
