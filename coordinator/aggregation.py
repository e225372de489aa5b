"""The aggregation rules a run can choose (run config ``aggregation``).

- ``trimmed-mean`` (the default, picked by the robustness benchmark in docs/benchmarks.md) and
  the other Flower strategies, unchanged: ``fedavg``, ``krum``, ``multikrum``, ``median`` and
  ``bulyan``, told to expect ``num-malicious`` attackers;
- ``reputation``: the global model moves by the weighted mean of the updates' deltas,
  each delta first clipped to the median delta norm, with weight ``examples x score x reputation``
  (:func:`coordinator.incentives.member_weight`), so a low-scoring or low-reputation update counts
  little and a boosted one cannot buy influence with its size.

Every rule sees only the updates of members not excluded by reputation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from flwr.serverapp.strategy import Bulyan, FedAvg, FedMedian, FedTrimmedAvg, Krum, MultiKrum

from coordinator.errors import CoordinatorError
from coordinator.scoring import flat_delta, norm

Arrays = Mapping[str, np.ndarray]
DEFAULT_AGGREGATION = "trimmed-mean"
AGGREGATIONS = (DEFAULT_AGGREGATION, "reputation", "fedavg", "krum", "multikrum", "median", "bulyan")


def check_aggregation(method: str) -> str:
    """``method`` if it is one of :data:`AGGREGATIONS`, else a clear error listing them."""
    if method not in AGGREGATIONS:
        raise CoordinatorError(f"unknown aggregation {method!r}; choose one of {', '.join(AGGREGATIONS)}")
    return method


def flower_strategy(method: str, num_updates: int, num_malicious: int) -> FedAvg:
    """Flower's strategy for ``method`` over ``num_updates`` updates, expecting ``num_malicious``
    hostile ones, or as many as the rule can stand with that few updates (after exclusions there
    may be fewer updates than the run started with): trimmed mean trims at most ``(n - 1) // 2``
    from each end, Bulyan is told at most ``(n - 3) // 4`` attackers and needs 3 updates."""
    if method == "fedavg":
        return FedAvg()
    if method == "median":
        return FedMedian()
    if method == "trimmed-mean":
        trim = min(max(1, num_malicious), (num_updates - 1) // 2)
        return FedTrimmedAvg(beta=trim / num_updates if num_updates else 0.0)
    if method == "krum":
        return Krum(num_malicious_nodes=num_malicious)
    if method == "multikrum":
        return MultiKrum(
            num_malicious_nodes=num_malicious, num_nodes_to_select=max(1, num_updates - num_malicious)
        )
    if method == "bulyan":
        if num_updates < 3:
            raise CoordinatorError(f"bulyan needs at least 3 updates, got {num_updates}")
        return Bulyan(num_malicious_nodes=min(num_malicious, (num_updates - 3) // 4))
    raise CoordinatorError(f"{check_aggregation(method)!r} is not one of Flower's strategies")


def reputation_weighted(
    global_arrays: Arrays, updates: Sequence[tuple[Arrays, int]]
) -> dict[str, np.ndarray]:
    """``G + sum(w_i * clip(d_i)) / sum(w_i)``, deltas clipped to the median delta norm.

    With no positive weight the global model is returned unchanged.
    """
    total = sum(weight for _, weight in updates)
    if total <= 0:
        return {name: np.array(array, copy=True) for name, array in global_arrays.items()}
    deltas = [flat_delta(global_arrays, arrays) for arrays, _ in updates]
    norms = [norm(d) for d in deltas]
    bound = float(np.median(norms))
    moved = np.zeros_like(deltas[0])
    for delta, length, (_, weight) in zip(deltas, norms, updates, strict=True):
        scale = min(1.0, bound / length) if length > 0 else 0.0
        moved += (weight / total) * scale * delta
    result: dict[str, np.ndarray] = {}
    offset = 0
    for name, array in global_arrays.items():
        size = int(np.asarray(array).size)
        step = moved[offset : offset + size].reshape(np.shape(array))
        result[name] = (np.asarray(array, np.float64) + step).astype(np.asarray(array).dtype)
        offset += size
    return result
