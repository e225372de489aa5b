"""The consortium's Flower ServerApp: wires the round service and its Flower strategy to the run."""

from __future__ import annotations

import logging

from flwr.app import ConfigRecord, Context
from flwr.serverapp import Grid, ServerApp

from bcfl.chain.client import ChainClient
from bcfl.chain.consortium import Consortium
from bcfl.chain.manifest import DeploymentManifest
from bcfl.flower.object_pulls import prompt_object_pulls
from bcfl.learning.initial import fresh_model
from bcfl.models.records import to_record
from bcfl.models.store import ModelStore
from coordinator.aggregation import DEFAULT_AGGREGATION, check_aggregation
from coordinator.errors import CoordinatorError
from coordinator.journal import RunJournal
from coordinator.prompt_grid import PromptGrid
from coordinator.rounds.opening import resume_point
from coordinator.rounds.round_config import privacy_settings
from coordinator.rounds.service import RoundService
from coordinator.rounds.state import RoundSettings
from coordinator.settings import load_settings
from coordinator.strategy import ROUND_TIMEOUT_S, LedgerStrategy

logger = logging.getLogger(__name__)
app = ServerApp()


@app.main()
def main(grid: Grid, context: Context) -> None:
    """Run ``num-server-rounds`` rounds of ledger-recorded federated training."""
    run_federation(grid, context, LedgerStrategy)


def app_hash(grid: Grid) -> bytes:
    """The sha256 of this run's Flower App bundle (FAB), which the consortium approves on chain and
    the hospitals' SuperExecs check before they run any of its code."""
    fab_hash = grid.run.fab_hash
    try:
        return bytes.fromhex(fab_hash)
    except ValueError:
        raise CoordinatorError(f"the run's FAB hash {fab_hash!r} is not a sha256 hex digest") from None


def run_federation(grid: Grid, context: Context, strategy_type: type[LedgerStrategy]) -> None:
    """The ServerApp's work, with the strategy class as a parameter (tests inject faults this way).
    Replies are pulled every 0.2 s rather than Flower's 3 s (:class:`PromptGrid`), and a reply's
    objects not all pushed yet are asked for again after 0.05 s rather than 1 s, then at most 0.2 s apart
    (:mod:`bcfl.flower.object_pulls`)."""
    grid = PromptGrid(grid)
    prompt_object_pulls()
    run = context.run_config
    settings = load_settings()
    consortium = Consortium.connect(ChainClient(settings.rpc_url), DeploymentManifest.load(settings.manifest))
    seed = int(run["seed"])
    store = ModelStore(settings.run_dir / "models")
    initial = resume_point(consortium, store) or fresh_model(str(run["schema-name"]), seed)
    aggregation = check_aggregation(str(run.get("aggregation", DEFAULT_AGGREGATION)))
    min_nodes = int(run["min-nodes"])
    fraction_evaluate = float(run.get("fraction-evaluate", 1.0))
    if not 0.0 <= fraction_evaluate <= 1.0:
        raise CoordinatorError(
            f"fraction-evaluate is {fraction_evaluate}: set it between 0.0 (no federated evaluation) and 1.0"
        )
    round_timeout_s = float(run.get("round-timeout", ROUND_TIMEOUT_S))
    if not round_timeout_s > 0.0:
        raise CoordinatorError(
            f"round-timeout is {round_timeout_s}: set the seconds to wait for a round's replies (e.g. 600)"
        )
    service = RoundService(
        consortium,
        settings.account(),
        store,
        RunJournal(settings.run_dir / "rounds.json"),
        RoundSettings(
            min_valid_updates=int(run["min-valid-updates"]),
            aggregation=aggregation,
            num_malicious=int(run.get("num-malicious", 1)),
            app_hash=app_hash(grid),
        ),
    )
    service.settle()  # a round finalized but left unpaid by a stopped coordinator is paid first
    strategy = strategy_type(
        service,
        round_timeout_s=round_timeout_s,
        fraction_train=1.0,
        fraction_evaluate=fraction_evaluate,
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
            **privacy_settings(run),
        }
    )
    result = strategy.start(
        grid,
        initial_arrays=to_record(initial),
        num_rounds=int(run["num-server-rounds"]),
        timeout=round_timeout_s,
        train_config=train_config,
        evaluate_config=ConfigRecord({}),
    )
    logger.info("federation finished: %s", result.evaluate_metrics_clientapp)
