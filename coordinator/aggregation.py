"""The aggregation rules a run can choose (run config ``aggregation``).

- ``reputation`` (default): the global model moves by the weighted mean of the updates' deltas,
  each delta first clipped to the median delta norm, with weight ``examples x score x reputation``
  (:func:`coordinator.incentives.member_weight`), so a low-scoring or low-reputation update counts
  little and a boosted one cannot buy influence with its size;
- Flower's own strategies, unchanged: ``fedavg``, ``krum``, ``multikrum``, ``trimmed-mean``,
  ``median`` and ``bulyan``, told to expect ``num-malicious`` attackers.

Every rule sees only the updates of members not excluded by reputation.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
from flwr.serverapp.strategy import Bulyan, FedAvg, FedMedian, FedTrimmedAvg, Krum, MultiKrum

from coordinator.errors import CoordinatorError
from coordinator.scoring import flat_delta

Arrays = Mapping[str, np.ndarray]
AGGREGATIONS = ("reputation", "fedavg", "krum", "multikrum", "trimmed-mean", "median", "bulyan")


def flower_strategy(method: str, num_updates: int, num_malicious: int) -> FedAvg:
    """Flower's strategy for ``method``, configured for ``num_updates`` updates of which up to
    ``num_malicious`` may be hostile; a clear error where the rule cannot work with that many."""
    if method == "fedavg":
        return FedAvg()
    if method == "median":
        return FedMedian()
    if method == "trimmed-mean":
        # Trim the expected attackers from each end (at least one), as a fraction of the updates.
        return FedTrimmedAvg(beta=max(1, num_malicious) / num_updates if num_updates else 0.0)
    if method == "krum":
        return Krum(num_malicious_nodes=num_malicious)
    if method == "multikrum":
        return MultiKrum(
            num_malicious_nodes=num_malicious, num_nodes_to_select=max(1, num_updates - num_malicious)
        )
    if method == "bulyan":
        if num_updates < 4 * num_malicious + 3:
            raise CoordinatorError(
                f"bulyan needs at least 4 x num-malicious + 3 = {4 * num_malicious + 3} updates, "
                f"got {num_updates}"
            )
        return Bulyan(num_malicious_nodes=num_malicious)
    raise CoordinatorError(f"unknown aggregation {method!r}; choose one of {', '.join(AGGREGATIONS)}")


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
    norms = [math.sqrt(math.fsum((d * d).tolist())) for d in deltas]
    bound = float(np.median(norms))
    moved = np.zeros_like(deltas[0])
    for delta, norm, (_, weight) in zip(deltas, norms, updates, strict=True):
        scale = min(1.0, bound / norm) if norm > 0 else 0.0
        moved += (weight / total) * scale * delta
    result: dict[str, np.ndarray] = {}
    offset = 0
    for name, array in global_arrays.items():
        size = int(np.asarray(array).size)
        step = moved[offset : offset + size].reshape(np.shape(array))
        result[name] = (np.asarray(array, np.float64) + step).astype(np.asarray(array).dtype)
        offset += size
    return result
