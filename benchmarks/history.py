"""A synthetic but real chain history for the audit's benchmarks: N rounds of H hospitals on the real
contracts, driven by the coordinator's own round service (open, register the signed updates in one
batch, score and update reputation, aggregate, finalize, pay), with every model in a model store.

The models are SYNTHETIC: the UCI heart schema's fresh model, each hospital's "update" that model moved
by a deterministic pseudo-random step; no data is trained on. Everything else is what a run leaves:
the hashes on chain are those of the stored files, the aggregates and weights come from the
coordinator's aggregation and scoring, so an audit can verify and recompute them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak

from bcfl.chain.client import ChainClient
from bcfl.chain.consortium import Consortium
from bcfl.chain.deploy import DEFAULT_PARAMETERS, deploy_consortium
from bcfl.chain.eip712 import ModelUpdate, sign_update
from bcfl.learning.initial import fresh_model
from bcfl.models.canonical import model_hash
from bcfl.models.store import ModelStore
from coordinator.aggregation import DEFAULT_AGGREGATION
from coordinator.journal import RunJournal
from coordinator.rounds.service import RoundService
from coordinator.rounds.state import Arrays, RoundSettings
from coordinator.verification import VerifiedUpdate

HOSPITALS = 10
SCHEMA = "uci_heart_disease"
#: The app hash the history's rounds run (a stand-in for a Flower App bundle's sha256).
APP_HASH = keccak(text="benchmark app")
CONFIG = {"local-epochs": 1, "learning-rate": 0.01, "batch-size": 32, "seed": 0}
#: Minting without a practical limit: the history packs many paid rounds into each minting window.
MINT_LIMIT = 10**36


@dataclass
class History:
    """Where a generated history lives, and how long its parts took."""

    consortium: Consortium
    run_dir: Path
    manifest_path: Path
    hospitals: list[LocalAccount]
    member_ids: list[int]
    rounds: int = 0
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def store(self) -> ModelStore:
        return ModelStore(self.run_dir / "models")


class DeferredJournal(RunJournal):
    """The run journal, written once at the end instead of after every step (a long history would
    otherwise rewrite an ever larger file thousands of times)."""

    def save(self) -> None:
        pass

    def flush(self) -> None:
        super().save()


def hospital_key(index: int) -> LocalAccount:
    """Hospital ``index``'s key, derived from a public label: BENCHMARK ONLY."""
    account: LocalAccount = Account.from_key(keccak(text=f"bcfl benchmark hospital {index}"))
    return account


def start_history(
    client: ChainClient,
    admin: LocalAccount,
    coordinator: LocalAccount,
    run_dir: Path,
    hospitals: int = HOSPITALS,
) -> History:
    """Deploy a consortium, admit ``hospitals`` members and start a lineage from the fresh model."""
    started = time.perf_counter()
    parameters = DEFAULT_PARAMETERS.model_copy(update={"mint_limit": MINT_LIMIT})
    manifest = deploy_consortium(client, admin, coordinator=coordinator.address, parameters=parameters)
    consortium = Consortium.connect(client, manifest)
    manifest_path = run_dir / "deployment.json"
    manifest.save(manifest_path)
    keys = [hospital_key(i) for i in range(hospitals)]
    member_ids = []
    for index, key in enumerate(keys):
        client.transfer(admin, key.address, 10**17)
        member_id = consortium.registry.request_membership(key, f"Synthetic hospital {index + 1}")
        consortium.registry.approve(admin, member_id)
        member_ids.append(member_id)
    initial = fresh_model(SCHEMA, seed=0)
    ModelStore(run_dir / "models").put(initial)
    consortium.ledger.approve_app(admin, APP_HASH)
    consortium.ledger.start_lineage(admin, model_hash(initial), "benchmark: a synthetic history")
    history = History(consortium, run_dir, manifest_path, keys, member_ids)
    history.seconds["setup"] = time.perf_counter() - started
    return history


def add_rounds(
    history: History,
    coordinator: LocalAccount,
    rounds: int,
    progress: Callable[[int], None] = lambda _n: None,
) -> None:
    """Run ``rounds`` more rounds from the lineage's head, through the coordinator's round service."""
    started = time.perf_counter()
    store = history.store
    journal = DeferredJournal(history.run_dir / "rounds.json")
    settings = RoundSettings(
        min_valid_updates=2, aggregation=DEFAULT_AGGREGATION, num_malicious=1, app_hash=APP_HASH
    )
    service = RoundService(history.consortium, coordinator, store, journal, settings)
    domain = service.domain()
    global_arrays: Arrays = store.get(history.consortium.ledger.lineage_head().model_hash)
    for _ in range(rounds):
        history.rounds += 1
        state = service.open(history.rounds, global_arrays, CONFIG)
        updates = []
        for index, (key, member_id) in enumerate(zip(history.hospitals, history.member_ids, strict=True)):
            arrays = _synthetic_update(state.opened.global_arrays, history.rounds, index)
            examples = 100 + 10 * index
            update = ModelUpdate(state.chain_round, state.opened.global_hash, model_hash(arrays), examples)
            updates.append(
                VerifiedUpdate(index + 1, member_id, key.address, sign_update(key, domain, update), arrays)
            )
        state = service.close(service.train(state, updates))
        assert state.aggregate is not None and state.paid, f"round {state.chain_round} was not paid"
        global_arrays = state.aggregate.arrays
        progress(1)
    journal.flush()
    history.seconds["rounds"] = history.seconds.get("rounds", 0.0) + time.perf_counter() - started


def _synthetic_update(base: Arrays, round_number: int, hospital: int) -> dict[str, np.ndarray]:
    """A hospital's synthetic update, deterministic in (round, hospital): ``base`` moved a small step
    in a direction every hospital shares, plus the hospital's own constant pull (its "data"), plus
    noise of the round; so updates agree with the round's consensus and with their own previous one,
    as honest ones do, and score well."""
    shared = np.random.default_rng(0)
    own = np.random.default_rng(1_000 + hospital)
    noise = np.random.default_rng((round_number, hospital))
    return {
        name: (
            value
            + 0.01 * shared.standard_normal(value.shape)
            + 0.004 * own.standard_normal(value.shape)
            + 0.001 * noise.standard_normal(value.shape)
        ).astype(value.dtype)
        for name, value in base.items()
    }
