"""The scale benchmark's two Flower apps, for the Simulation Engine: virtual hospitals, each with its
own key and its own shard of real data, and the coordinator's round service with timers around its steps.

What differs from a deployment (``flwr run`` against a SuperLink and one SuperNode per hospital):
- a virtual hospital's node config is Flower's ``partition-id``; it finds its shard, its key and the
  chain through the :class:`ScaleRun` the benchmark hands both apps, not through a node config with a
  data folder, an encrypted keystore and a manifest path (``hospital_node.settings``): decrypting a
  thousand scrypt keystores would measure scrypt;
- the coordinator's app hash is a fixed stand-in the benchmark approves on chain: a simulation has
  no Flower App bundle, so there is no FAB hash and no SuperExec checks it;
- federated evaluation is off (``fraction-evaluate`` 0): each round is finalized and paid as soon as
  it is aggregated;
- the ServerApp waits for every hospital (``min-nodes`` is the number of hospitals), starts from a
  fresh chain (no resume, nothing to settle) and reads no run config: the settings are
  :data:`TRAIN_CONFIG` and the deployment's aggregation defaults.
Everything else is the product's own code: the ClientApp's ``local_update`` (the global model checked
against the ledger, local training) and ``signed_reply`` (EIP-712 signature, the proof kept), the
coordinator's ``LedgerStrategy`` (every reply verified) and ``RoundService`` (registration in one
``registerUpdates`` transaction, scores, aggregation, ``finalizeRound``, ``payRound``).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
from eth_account import Account
from eth_account.signers.local import LocalAccount
from flwr.app import ArrayRecord, ConfigRecord, Context, Message, MetricRecord
from flwr.clientapp import ClientApp
from flwr.serverapp import Grid, ServerApp

from bcfl.chain.client import ChainClient
from bcfl.chain.consortium import Consortium
from bcfl.chain.eip712 import (
    EvaluationReport,
    LedgerDomain,
    ModelUpdate,
    SignedModelUpdate,
    sign_evaluation,
    sign_update,
)
from bcfl.chain.jsonrpc import JsonRpc
from bcfl.chain.manifest import DeploymentManifest
from bcfl.chain.view import ConsortiumView
from bcfl.learning.data.dataset import Examples, LocalDataset, ModelSpec
from bcfl.models.records import to_record
from bcfl.models.store import ModelStore
from coordinator.journal import RunJournal
from coordinator.rounds.service import RoundService
from coordinator.rounds.state import RoundSettings, RoundState
from coordinator.strategy import LedgerStrategy
from coordinator.verification import Rejection, VerifiedUpdate
from hospital_node.client_app import local_update, signed_reply
from hospital_node.node import HospitalNode

#: The deployment's run config (pyproject.toml), but one local epoch: a thousand tiny shards.
TRAIN_CONFIG = {"local-epochs": 1, "learning-rate": 0.01, "batch-size": 32, "seed": 0}
AGGREGATION = "trimmed-mean"
NUM_MALICIOUS = 1
MIN_VALID_UPDATES = 2


@dataclass(frozen=True)
class ScaleRun:
    """What both apps of one simulated federation need, in files under ``work``."""

    rpc_url: str
    work: Path
    app_hash: bytes
    hospitals: int
    rounds: int

    @property
    def manifest(self) -> Path:
        return self.work / "deployment.json"

    @property
    def shards(self) -> Path:
        return self.work / "shards.npz"

    @property
    def keys(self) -> Path:
        """The virtual hospitals' private keys (benchmark-only keys, in a temporary folder)."""
        return self.work / "keys.json"

    @property
    def timings(self) -> Path:
        return self.work / "timings"


def save_shards(path: Path, shards: list[LocalDataset]) -> None:
    """The hospitals' shards in one ``.npz`` file (hospital ``i`` is partition ``i``)."""
    arrays: dict[str, np.ndarray] = {}
    for i, data in enumerate(shards):
        arrays.update(
            {
                f"{i}/train/x": data.train.features,
                f"{i}/train/y": data.train.labels,
                f"{i}/test/x": data.test.features,
                f"{i}/test/y": data.test.labels,
            }
        )
    spec = shards[0].spec
    arrays["spec"] = np.array([spec.num_classes, *spec.input_shape])
    np.savez(path, **arrays)  # type: ignore[arg-type]


@cache
def _shards(path: Path) -> dict[str, np.ndarray]:
    with np.load(path) as loaded:
        return {name: loaded[name] for name in loaded.files}


def load_shard(path: Path, index: int) -> LocalDataset:
    """Hospital ``index``'s shard from :func:`save_shards`' file (read once per process)."""
    arrays = _shards(path)
    classes, *shape = (int(v) for v in arrays["spec"])
    return LocalDataset(
        Examples(arrays[f"{index}/train/x"], arrays[f"{index}/train/y"]),
        Examples(arrays[f"{index}/test/x"], arrays[f"{index}/test/y"]),
        ModelSpec(tuple(shape), classes),
    )


@cache
def _keys(path: Path) -> list[str]:
    keys: list[str] = json.loads(path.read_text())
    return keys


@cache
def _view(rpc_url: str, manifest: Path) -> ConsortiumView:
    return ConsortiumView.connect(JsonRpc(rpc_url), DeploymentManifest.load(manifest))


@cache
def _consortium(rpc_url: str, manifest: Path) -> Consortium:
    return Consortium.connect(ChainClient(rpc_url), DeploymentManifest.load(manifest))


@dataclass(frozen=True)
class KeySigner:
    """A virtual hospital's key, signing in its own process (a deployment's hospital has a signing
    agent instead: starting a thousand agents would measure sockets, not the protocol)."""

    account: LocalAccount

    def sign_update(self, domain: LedgerDomain, update: ModelUpdate) -> SignedModelUpdate:
        return sign_update(self.account, domain, update)

    def sign_evaluation(self, domain: LedgerDomain, report: EvaluationReport) -> bytes:
        return sign_evaluation(self.account, domain, report)


def virtual_hospital(run: ScaleRun, index: int) -> HospitalNode:
    """Hospital ``index``: its shard, its key, and the consortium it is an active member of."""
    consortium = _view(run.rpc_url, run.manifest)
    account: LocalAccount = Account.from_key(_keys(run.keys)[index])
    member_id = consortium.registry.active_member_id_of(account.address)
    if member_id == 0:
        raise RuntimeError(f"virtual hospital {index}'s key {account.address} is not an active member")
    return HospitalNode(
        load_shard(run.shards, index),
        KeySigner(account),
        account.address,
        _view(run.rpc_url, run.manifest),
        member_id,
        run.work / "proofs" / str(index),
    )


def client_app(run: ScaleRun) -> ClientApp:
    """The hospitals' ClientApp: the product's training and signing steps, timed."""
    app = ClientApp()

    @app.train()
    def train_step(msg: Message, context: Context) -> Message:
        index = int(context.node_config["partition-id"])
        node = virtual_hospital(run, index)
        started = time.perf_counter()
        update = local_update(node, msg)
        trained = time.perf_counter()
        reply = signed_reply(node, msg, update)
        signed = time.perf_counter()
        run.timings.mkdir(parents=True, exist_ok=True)
        with (run.timings / f"{os.getpid()}.jsonl").open("a") as out:
            out.write(
                json.dumps({"hospital": index, "train_s": trained - started, "sign_s": signed - trained})
            )
            out.write("\n")
        return reply

    return app


@dataclass
class Phases:
    """The coordinator's seconds per round step, summed over the run."""

    seconds: dict[str, float] = field(default_factory=dict)

    def add(self, phase: str, seconds: float) -> None:
        self.seconds[phase] = self.seconds.get(phase, 0.0) + seconds


class TimedRoundService(RoundService):
    """The round service, each step timed."""

    def __init__(self, *args: Any, phases: Phases, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.phases = phases

    def open(self, server_round: int, global_arrays: Any, config: Mapping[str, Any]) -> RoundState:
        started = time.perf_counter()
        state = super().open(server_round, global_arrays, config)
        self.phases.add("open", time.perf_counter() - started)
        return state

    def register(
        self, state: RoundState, checked: Iterable[VerifiedUpdate | Rejection], *, verify_s: float = 0.0
    ) -> RoundState:
        self.phases.add("verify", verify_s)
        started = time.perf_counter()
        state = super().register(state, checked, verify_s=verify_s)
        self.phases.add("register", time.perf_counter() - started)
        return state

    def assess(self, state: RoundState) -> RoundState:
        started = time.perf_counter()
        state = super().assess(state)
        self.phases.add("assess", time.perf_counter() - started)
        return state

    def aggregate(self, state: RoundState) -> RoundState:
        started = time.perf_counter()
        state = super().aggregate(state)
        self.phases.add("aggregate", time.perf_counter() - started)
        return state

    def finalize(self, state: RoundState, evaluation: Mapping[str, Any] | None = None) -> RoundState:
        started = time.perf_counter()
        state = super().finalize(state, evaluation)
        self.phases.add("finalize", time.perf_counter() - started)
        return state

    def pay(self, state: RoundState) -> RoundState:
        started = time.perf_counter()
        state = super().pay(state)
        self.phases.add("pay", time.perf_counter() - started)
        return state


class TimedLedgerStrategy(LedgerStrategy):
    """The consortium's strategy, timing the wait for the hospitals' replies (the simulated training,
    signing and Flower's messaging) and the whole round."""

    def __init__(self, service: TimedRoundService, **fedavg: Any) -> None:
        super().__init__(service, **fedavg)
        self.phases = service.phases
        self._sent = 0.0
        self._opened = 0.0

    def configure_train(
        self, server_round: int, arrays: ArrayRecord, config: ConfigRecord, grid: Grid
    ) -> Iterable[Message]:
        self._opened = time.perf_counter()
        messages = list(super().configure_train(server_round, arrays, config, grid))
        self._sent = time.perf_counter()
        return messages

    def aggregate_train(
        self, server_round: int, replies: Iterable[Message]
    ) -> tuple[ArrayRecord | None, MetricRecord | None]:
        self.phases.add("clients", time.perf_counter() - self._sent)
        result = super().aggregate_train(server_round, replies)
        self.phases.add("round", time.perf_counter() - self._opened)
        return result


def server_app(
    run: ScaleRun, coordinator: LocalAccount, initial: Mapping[str, np.ndarray], phases: Phases
) -> ServerApp:
    """The coordinator's ServerApp: ``run.rounds`` rounds through the product's strategy and round service."""
    app = ServerApp()

    @app.main()
    def main(grid: Grid, context: Context) -> None:
        service = TimedRoundService(
            _consortium(run.rpc_url, run.manifest),
            coordinator,
            ModelStore(run.work / "models"),
            RunJournal(run.work / "rounds.json"),
            RoundSettings(MIN_VALID_UPDATES, AGGREGATION, NUM_MALICIOUS, run.app_hash),
            phases=phases,
        )
        strategy = TimedLedgerStrategy(
            service,
            fraction_train=1.0,
            fraction_evaluate=0.0,
            min_train_nodes=run.hospitals,
            min_evaluate_nodes=run.hospitals,
            min_available_nodes=run.hospitals,
        )
        strategy.start(
            grid,
            initial_arrays=to_record(initial),
            num_rounds=run.rounds,
            timeout=strategy.round_timeout_s,
            train_config=ConfigRecord(dict(TRAIN_CONFIG)),
            evaluate_config=ConfigRecord({}),
        )

    return app
