"""Step 4: the round's new global model, by the round's rule (:mod:`coordinator.aggregation`) over the
updates of the members in good standing, from plain arrays (no Flower runtime needed)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from flwr.app import Message
from flwr.serverapp.strategy.strategy_utils import aggregate_metricrecords

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
    """The examples-weighted mean of the participants' training metrics, as Flower's FedAvg gives it."""
    if not replies:
        return None
    return dict(aggregate_metricrecords([r.content for r in replies], WEIGHT_KEY))
