"""Step 4: the round's new global model, by the round's rule (:mod:`coordinator.aggregation`) over the
updates of the members in good standing, from plain arrays (no Flower runtime needed)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from flwr.app import Message

from bcfl.models.records import get_float, metric_record
from coordinator.aggregation import Candidate
from coordinator.verification import VerifiedUpdate

#: The training metric that weighs the participants' metrics (the hospitals' example count).
WEIGHT_KEY = "num-examples"


def candidates(included: Iterable[VerifiedUpdate], weights: Mapping[int, int]) -> list[Candidate]:
    """The included updates as the rule's candidates, with their members' contribution weights."""
    return [
        Candidate(u.member_id, u.arrays, u.signed.update.num_examples, weights[u.member_id])
        for u in sorted(included, key=lambda u: u.member_id)
    ]


def train_metrics(replies: Sequence[Message]) -> dict[str, Any] | None:
    """The examples-weighted mean of the participants' training metrics (as Flower's FedAvg gives
    it: every metric but the weight, lists element by element)."""
    records = [metric_record(r.content, "metrics") for r in replies]
    if not records:
        return None
    total = sum(get_float(m, WEIGHT_KEY) for m in records)
    result: dict[str, Any] = {}
    for metrics in records:
        factor = get_float(metrics, WEIGHT_KEY) / total
        for key, value in metrics.items():
            if key == WEIGHT_KEY:
                continue
            scaled = [v * factor for v in value] if isinstance(value, list) else value * factor
            if key not in result:
                result[key] = scaled
            elif isinstance(scaled, list):
                result[key] = [a + b for a, b in zip(result[key], scaled, strict=True)]
            else:
                result[key] += scaled
    return result
