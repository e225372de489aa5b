"""BENCHMARK ONLY: plain Flower on the hospitals' data, the reference BCFL's round time is compared with.

The ClientApp trains and evaluates :mod:`bcfl.learning.task`'s model on the data its SuperNode's node
config names (``data-path``, ``schema-path``, ``split-seed``), as the product ClientApp does, but
checks nothing against a ledger, holds no key and signs nothing. The ServerApp is Flower's FedAvg
from the same initial model. Its strategy notes when each round starts (``configure_train``) and
ends (after ``aggregate_evaluate``), as the product ServerApp's journal does, and writes them with
each hospital's training and evaluation seconds to the run config's ``timings-file``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from flwr.app import ArrayRecord, ConfigRecord, Context, Message, MetricRecord, RecordDict
from flwr.clientapp import ClientApp
from flwr.serverapp import Grid, ServerApp
from flwr.serverapp.strategy import FedAvg

from bcfl.learning.data.dataset import LocalDataset
from bcfl.learning.data.loader import load_local_dataset, load_schema, shared_schema_path
from bcfl.learning.task import build_model, evaluate, train

client_app = ClientApp()
server_app = ServerApp()


def local_data(context: Context) -> LocalDataset:
    """The hospital's train/test split, from its SuperNode's node config."""
    config = context.node_config
    seed = str(config.get("split-seed", "") or "0")
    return load_local_dataset(
        Path(str(config["data-path"])), load_schema(Path(str(config["schema-path"]))), int(seed)
    )


@client_app.train()
def train_step(msg: Message, context: Context) -> Message:
    """Train the received model on the local train split."""
    data = local_data(context)
    config = msg.content["config"]
    assert isinstance(config, ConfigRecord)
    model = build_model(data.spec)
    arrays = msg.content["arrays"]
    assert isinstance(arrays, ArrayRecord)
    model.load_state_dict(arrays.to_torch_state_dict())
    started = time.perf_counter()
    loss = train(
        model,
        data.train,
        epochs=int(config["local-epochs"]),  # type: ignore[arg-type]
        lr=float(config["learning-rate"]),  # type: ignore[arg-type]
        batch_size=int(config["batch-size"]),  # type: ignore[arg-type]
        seed=int(config["seed"]) + int(config["server-round"]),  # type: ignore[arg-type]
    )
    metrics = MetricRecord(
        {"num-examples": len(data.train), "train-loss": loss, "train-seconds": time.perf_counter() - started}
    )
    content = RecordDict({"arrays": ArrayRecord(model.state_dict()), "metrics": metrics})
    return Message(content=content, reply_to=msg)


@client_app.evaluate()
def evaluate_step(msg: Message, context: Context) -> Message:
    """Evaluate the round's aggregated model on the local test split."""
    data = local_data(context)
    model = build_model(data.spec)
    arrays = msg.content["arrays"]
    assert isinstance(arrays, ArrayRecord)
    model.load_state_dict(arrays.to_torch_state_dict())
    started = time.perf_counter()
    scores = evaluate(model, data.test)
    metrics = MetricRecord(
        {"num-examples": len(data.test), "evaluate-seconds": time.perf_counter() - started}
    )
    for key, value in scores.items():
        metrics[key] = value
    return Message(content=RecordDict({"metrics": metrics}), reply_to=msg)


class TimedFedAvg(FedAvg):
    """Flower's FedAvg, noting each round's start and end and each hospital's seconds."""

    def __init__(self, timings_file: str, **fedavg: Any) -> None:
        super().__init__(**fedavg)
        self.timings_file = timings_file
        self.rounds: list[dict[str, Any]] = []

    def configure_train(
        self, server_round: int, arrays: ArrayRecord, config: ConfigRecord, grid: Grid
    ) -> Iterable[Message]:
        self.rounds.append({"server_round": server_round, "opened_at": time.time(), "hospitals": {}})
        return super().configure_train(server_round, arrays, config, grid)

    def aggregate_train(
        self, server_round: int, replies: Iterable[Message]
    ) -> tuple[ArrayRecord | None, MetricRecord | None]:
        replies = list(replies)
        self._note(replies, "train-seconds")
        return super().aggregate_train(server_round, replies)

    def aggregate_evaluate(self, server_round: int, replies: Iterable[Message]) -> MetricRecord | None:
        replies = list(replies)
        self._note(replies, "evaluate-seconds")
        metrics = super().aggregate_evaluate(server_round, replies)
        self.rounds[-1]["closed_at"] = time.time()
        self._save()
        return metrics

    def _note(self, replies: list[Message], key: str) -> None:
        hospitals = self.rounds[-1]["hospitals"]
        for reply in replies:
            if reply.has_content():
                metrics = reply.content["metrics"]
                assert isinstance(metrics, MetricRecord)
                hospitals.setdefault(str(reply.metadata.src_node_id), {})[key] = float(metrics[key])  # type: ignore[arg-type]

    def _save(self) -> None:
        if self.timings_file:
            Path(self.timings_file).write_text(json.dumps(self.rounds, indent=2))


@server_app.main()
def main(grid: Grid, context: Context) -> None:
    """FedAvg over ``num-server-rounds`` rounds from the schema's model, initialised from ``seed``."""
    run = context.run_config
    seed = int(run["seed"])
    spec = load_schema(shared_schema_path(str(run["schema-name"]))).model_spec()
    min_nodes = int(run["min-nodes"])
    strategy = TimedFedAvg(
        str(run["timings-file"]),
        fraction_train=1.0,
        fraction_evaluate=float(run["fraction-evaluate"]),
        min_train_nodes=min_nodes,
        min_evaluate_nodes=min_nodes,
        min_available_nodes=min_nodes,
    )
    strategy.start(
        grid,
        initial_arrays=ArrayRecord(build_model(spec, seed=seed).state_dict()),
        num_rounds=int(run["num-server-rounds"]),
        train_config=ConfigRecord(
            {
                "local-epochs": int(run["local-epochs"]),
                "learning-rate": float(run["learning-rate"]),
                "batch-size": int(run["batch-size"]),
                "seed": seed,
            }
        ),
    )
