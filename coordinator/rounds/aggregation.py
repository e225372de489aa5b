"""Step 4: the round's new global model, by the run's rule (:mod:`coordinator.aggregation`) over the
updates of the members in good standing, from plain arrays (no Flower runtime needed)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from flwr.app import Array, ArrayRecord, Message, MetricRecord, RecordDict
from flwr.serverapp.strategy.strategy_utils import aggregate_metricrecords
from flwr.supercore.task_identity import TaskIdentity

from coordinator.aggregation import flower_strategy, reputation_weighted

Arrays = Mapping[str, np.ndarray]
#: The metric Flower's rules weigh updates by.
WEIGHT_KEY = "num-examples"


def _as_replies(updates: Sequence[tuple[Arrays, int]]) -> list[Message]:
    """The updates as the training replies Flower's rules aggregate."""
    try:
        TaskIdentity.run_id  # noqa: B018  (set by the Flower runtime, when there is one)
    except RuntimeError:  # no Flower runtime in this process (a test, the benchmark): an in-process run 0
        TaskIdentity.run_id, TaskIdentity.node_id, TaskIdentity.task_id = 0, 0, 0
    return [
        Message(
            content=RecordDict(
                {
                    "arrays": ArrayRecord({k: Array(np.asarray(v)) for k, v in arrays.items()}),
                    "metrics": MetricRecord({WEIGHT_KEY: examples}),
                }
            ),
            dst_node_id=0,
            message_type="train",
        )
        for arrays, examples in updates
    ]


def aggregate_updates(
    method: str,
    global_arrays: Arrays,
    updates: Sequence[tuple[Arrays, int, int]],
    num_malicious: int,
) -> dict[str, np.ndarray]:
    """``method`` over ``updates`` (arrays, examples, reputation weight), in the global model's array
    order; the global model unchanged when there is no update."""
    if not updates:
        return {name: np.asarray(array) for name, array in global_arrays.items()}
    if method == "reputation":
        return reputation_weighted(global_arrays, [(arrays, weight) for arrays, _, weight in updates])
    rule = flower_strategy(method, len(updates), num_malicious)
    record, _ = rule.aggregate_train(1, _as_replies([(arrays, examples) for arrays, examples, _ in updates]))
    assert record is not None
    return {name: record[name].numpy() for name in global_arrays}


def train_metrics(replies: Sequence[Message]) -> dict[str, Any] | None:
    """The examples-weighted mean of the participants' training metrics, as Flower's FedAvg gives it."""
    if not replies:
        return None
    return dict(aggregate_metricrecords([r.content for r in replies], WEIGHT_KEY))
