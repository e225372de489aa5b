"""The consortium's Flower ServerApp: wires the ledger-recording FedAvg to the run."""

from __future__ import annotations

import logging

import numpy as np
from flwr.app import ConfigRecord, Context
from flwr.serverapp import Grid, ServerApp

from bcfl.chain.client import ChainClient
from bcfl.chain.consortium import Consortium
from bcfl.chain.ledger import RoundStatus
from bcfl.chain.manifest import DeploymentManifest
from bcfl.learning.data.loader import load_schema, shared_schema_path
from bcfl.learning.task import build_model, get_arrays
from bcfl.models.records import to_record
from bcfl.models.store import ModelStore
from coordinator.aggregation import DEFAULT_AGGREGATION, check_aggregation
from coordinator.journal import RunJournal
from coordinator.settings import load_settings
from coordinator.strategy import LedgerFedAvg

logger = logging.getLogger(__name__)
app = ServerApp()


def resume_point(consortium: Consortium, store: ModelStore) -> dict[str, np.ndarray] | None:
    """The global model of a round left open on chain, if this coordinator's store holds it."""
    latest = consortium.ledger.round_count()
    if not latest:
        return None
    current = consortium.ledger.get_round(latest)
    if current.status is not RoundStatus.OPEN or current.global_model_hash not in store:
        return None
    logger.info("round %d was left open: resuming it from the stored global model", latest)
    return store.get(current.global_model_hash)


@app.main()
def main(grid: Grid, context: Context) -> None:
    """Run ``num-server-rounds`` rounds of ledger-recorded federated training."""
    run_federation(grid, context, LedgerFedAvg)


def run_federation(grid: Grid, context: Context, strategy_type: type[LedgerFedAvg]) -> None:
    """The ServerApp's work, with the strategy class as a parameter (tests inject faults this way)."""
    run = context.run_config
    settings = load_settings()
    consortium = Consortium.connect(ChainClient(settings.rpc_url), DeploymentManifest.load(settings.manifest))
    schema = load_schema(shared_schema_path(str(run["schema-name"])))
    seed = int(run["seed"])
    store = ModelStore(settings.run_dir / "models")
    initial = resume_point(consortium, store) or get_arrays(build_model(schema.model_spec(), seed=seed))
    aggregation = check_aggregation(str(run.get("aggregation", DEFAULT_AGGREGATION)))
    min_nodes = int(run["min-nodes"])
    strategy = strategy_type(
        consortium,
        settings.account(),
        store,
        RunJournal(settings.run_dir / "rounds.json"),
        min_valid_updates=int(run["min-valid-updates"]),
        aggregation=aggregation,
        num_malicious=int(run.get("num-malicious", 1)),
        fraction_train=1.0,
        fraction_evaluate=1.0,
        min_train_nodes=min_nodes,
        min_evaluate_nodes=min_nodes,
        min_available_nodes=min_nodes,
    )
    train_config = ConfigRecord(
        {
            "local-epochs": int(run["local-epochs"]),
            "learning-rate": float(run["learning-rate"]),
            "batch-size": int(run["batch-size"]),
            "seed": seed,
        }
    )
    result = strategy.start(
        grid,
        initial_arrays=to_record(initial),
        num_rounds=int(run["num-server-rounds"]),
        train_config=train_config,
        evaluate_config=ConfigRecord({}),
    )
    logger.info("federation finished: %s", result.evaluate_metrics_clientapp)
