"""The aggregation rules a run can choose (run config ``aggregation``), in plain numpy, deterministic
to the bit so an auditor recomputes every round's aggregated model hash from the stored updates.

:func:`aggregate` takes an :class:`AggregationConfig` (the rule and ``num-malicious``, stored in
the round's config document), the global model and the round's candidates (the members in good
standing: member id, update arrays, examples, contribution weight ``examples x score x
reputation``). It returns the new model, in the global model's array order and dtypes, and the
weight each candidate had in it; the coordinator finalizes the round on chain with those weights.
For ``n`` candidates and ``f = num-malicious``:

============== ========================================================== =========================
rule           result                                                     weight on chain
============== ========================================================== =========================
fedavg         mean of the updates weighted by examples                   examples
reputation     ``G + sum(w_i clip(d_i)) / sum(w_i)``, each delta ``d_i``   contribution weight
               clipped to the median delta norm (``G`` with no weight)
trimmed-mean   coordinate-wise mean after dropping the ``k`` lowest and    1 for every candidate
(default)      ``k`` highest, ``k = min(max(1, f), (n - 1) // 2)``
median         coordinate-wise median                                     1 for every candidate
krum           the update with the lowest Krum score (sum of squared      1 for it, 0 for others
               distances to its ``max(1, n - f - 2)`` nearest updates)
multikrum      mean weighted by examples of the ``max(1, n - f)`` lowest  examples for them, 0 for
               Krum scores                                                others
bulyan         needs ``n >= 3``; with ``b = min(f, (n - 3) // 4)``: the    1 for the selected, 0 for
               ``n - 2b`` lowest Krum scores (Krum told ``b``), then per   others
               coordinate the mean of the ``n - 4b`` values nearest their
               median
============== ========================================================== =========================

The semantics are Flower's strategies' (FedAvg, FedTrimmedAvg, FedMedian, Krum, MultiKrum, Bulyan)
with the amounts the coordinator always clamped them to. What makes the result the same on every
machine: candidates are taken in member-id order whatever order they come in; sums run candidate by
candidate (or rank by rank) with elementwise float64 operations, never a numpy or BLAS reduction
whose order depends on SIMD; medians and trims come from a sort along the candidate axis; Krum's
distances and the norms are exactly rounded sums (``math.fsum``); ties go to the lower member id;
the float64 result is cast back to the global model's dtype at the end (rounded for integer arrays).
Without candidates the global model comes back unchanged, with no weights.
"""

from __future__ import annotations

from coordinator.aggregation.base import Aggregation, Arrays, Candidate
from coordinator.aggregation.config import (
    AGGREGATIONS,
    DEFAULT_AGGREGATION,
    AggregationConfig,
    check_aggregation,
)
from coordinator.aggregation.rules import aggregate

__all__ = [
    "AGGREGATIONS",
    "DEFAULT_AGGREGATION",
    "Aggregation",
    "AggregationConfig",
    "Arrays",
    "Candidate",
    "aggregate",
    "check_aggregation",
]
