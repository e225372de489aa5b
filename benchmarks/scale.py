"""Scale: hundreds to a thousand virtual hospitals in Flower's Simulation Engine, every update signed
(EIP-712), verified by the coordinator and registered on a real Anvil in one ``registerUpdates`` batch.

The consortium is set up the product's way (``deploy_consortium``; each hospital asks to join with its
own key, the admin approves it; the admin approves the app and starts the lineage), timed apart from
the rounds. The rounds are :mod:`benchmarks.scale_apps`' two apps under Flower's Simulation Engine
(``flwr.simulation.run_simulation``, Ray backend; Flower 1.41 marks the function deprecated in favour
of ``flwr run`` against a simulation federation, which would load the apps from the App bundle and
could not be handed this run's chain, keys and shards); the gas of every transaction the coordinator
sends is read back from its receipt.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak
from flwr.simulation import run_simulation
from hexbytes import HexBytes

from bcfl.chain.client import ChainClient
from bcfl.chain.consortium import Consortium
from bcfl.chain.deploy import DEFAULT_PARAMETERS, deploy_consortium
from bcfl.chain.eip712 import recover_signer
from bcfl.chain.ledger import RegisteredUpdate
from bcfl.learning.initial import fresh_model
from bcfl.models.canonical import model_hash
from bcfl.paths import REPO_ROOT
from benchmarks.scale_apps import Phases, ScaleRun, client_app, save_shards, server_app
from benchmarks.sites import thyroid_shards

logger = logging.getLogger(__name__)

SCHEMA = "garvan_thyroid"
#: What the benchmark approves on chain in place of a Flower App bundle's sha256 (a simulation has none).
SIMULATION_APP = keccak(text="bcfl scale benchmark: Flower Simulation Engine")
#: Each virtual hospital's fee money, sent by the funder.
HOSPITAL_FUNDS_WEI = 10**17
#: Ray for the Simulation Engine: one CPU per ClientApp actor, no dashboard.
BACKEND_CONFIG: dict[str, dict[str, Any]] = {
    "client_resources": {"num_cpus": 1, "num_gpus": 0.0},
    "init_args": {"include_dashboard": False, "log_to_driver": False},
}

Progress = Callable[[str], None]


@dataclass
class ScaleResult:
    """One federation's measurements."""

    hospitals: int
    rounds: int
    #: Set-up seconds: deploy, fund and admit the hospitals (request + approve each), approve app and lineage.
    setup_s: dict[str, float] = field(default_factory=dict)
    #: Seconds per round step, summed over the rounds (:class:`benchmarks.scale_apps.Phases`).
    phases_s: dict[str, float] = field(default_factory=dict)
    #: Sum over the hospitals of their local training and of their signing (the ClientApp's steps).
    hospital_train_s: float = 0.0
    hospital_sign_s: float = 0.0
    #: Wall seconds of ``run_simulation`` (Ray's start and stop included).
    simulation_s: float = 0.0
    #: Gas of the coordinator's transactions, by function name, summed over the rounds.
    gas: dict[str, int] = field(default_factory=dict)
    #: The largest single transaction's gas, and the block gas limit it had to fit in.
    max_tx_gas: int = 0
    block_gas_limit: int = 0
    #: The fewest and most training examples a hospital holds.
    train_examples: tuple[int, int] = (0, 0)
    #: The machine's one-minute load average when the round ended (other work slows every phase).
    load_average: float = 0.0
    #: Updates on chain after the run, and how many of them recover to their member's signer.
    registered: int = 0
    valid_signatures: int = 0

    @property
    def gas_per_round(self) -> float:
        return sum(self.gas.values()) / self.rounds

    @property
    def gas_per_update(self) -> float:
        return self.gas.get("registerUpdates", 0) / (self.hospitals * self.rounds)


def hospital_key(index: int) -> LocalAccount:
    """Virtual hospital ``index``'s own key: a fixed, benchmark-only key (never use it elsewhere)."""
    account: LocalAccount = Account.from_key(keccak(text=f"bcfl scale benchmark hospital {index}"))
    return account


def fund(client: ChainClient, funder: LocalAccount, accounts: list[LocalAccount]) -> None:
    """Send every account its fee money: plain transfers sent back to back, then their receipts."""
    w3 = client.w3
    nonce = w3.eth.get_transaction_count(funder.address, "pending")
    gas_price = w3.eth.gas_price * 2
    hashes = []
    for offset, account in enumerate(accounts):
        tx: dict[str, Any] = {
            "to": account.address,
            "value": HOSPITAL_FUNDS_WEI,
            "gas": 21_000,
            "gasPrice": gas_price,
            "nonce": nonce + offset,
            "chainId": client.chain_id,
        }
        hashes.append(HexBytes(w3.eth.send_raw_transaction(funder.sign_transaction(tx).raw_transaction)))
    for tx_hash in hashes:
        if client.wait_for_receipt(tx_hash)["status"] != 1:
            raise RuntimeError(f"funding transfer {tx_hash.to_0x_hex()} failed")


def set_up(
    client: ChainClient,
    run: ScaleRun,
    admin: LocalAccount,
    coordinator: LocalAccount,
    funder: LocalAccount,
    progress: Progress,
) -> tuple[Consortium, dict[str, float], dict[str, Any]]:
    """Deploy, admit ``run.hospitals`` members and approve the app and the lineage; the consortium,
    the seconds of each step and the initial model."""
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    manifest = deploy_consortium(
        client, admin, coordinator=coordinator.address, parameters=DEFAULT_PARAMETERS
    )
    manifest.save(run.manifest)
    consortium = Consortium.connect(client, manifest)
    seconds["deploy"] = time.perf_counter() - started
    hospitals = [hospital_key(i) for i in range(run.hospitals)]
    run.keys.write_text(json.dumps(["0x" + h.key.hex() for h in hospitals]))
    started = time.perf_counter()
    fund(client, funder, hospitals)
    seconds["fund"] = time.perf_counter() - started
    started = time.perf_counter()
    for index, hospital in enumerate(hospitals):
        member_id = consortium.registry.request_membership(hospital, f"Virtual hospital {index + 1}")
        consortium.registry.approve(admin, member_id)
        if (index + 1) % 100 == 0:
            progress(f"admitted {index + 1} of {run.hospitals} hospitals")
    seconds["admit"] = time.perf_counter() - started
    initial = fresh_model(SCHEMA, 0)
    consortium.ledger.approve_app(admin, run.app_hash)
    consortium.ledger.start_lineage(admin, model_hash(initial), "scale benchmark: fresh thyroid model")
    return consortium, seconds, dict(initial)


def coordinator_gas(consortium: Consortium, sender: str, first_block: int) -> tuple[dict[str, int], int]:
    """Gas of ``sender``'s transactions since ``first_block``, by function name, and the largest one."""
    client = consortium.client
    contracts = {
        binding.address: binding.contract
        for binding in (consortium.ledger, consortium.reputation, consortium.distributor, consortium.registry)
    }
    gas: dict[str, int] = defaultdict(int)
    largest = 0
    for number in range(first_block, client.block_number() + 1):
        block = client.w3.eth.get_block(number, full_transactions=True)
        for tx in block["transactions"]:
            if isinstance(tx, bytes) or tx["from"] != sender or tx.get("to") not in contracts:
                continue
            function, _ = contracts[tx["to"]].decode_function_input(tx["input"])
            used = int(client.w3.eth.get_transaction_receipt(tx["hash"])["gasUsed"])
            gas[function.fn_name] += used
            largest = max(largest, used)
    return dict(gas), largest


def signatures_valid(consortium: Consortium, updates: list[RegisteredUpdate]) -> int:
    """How many registered updates carry, in their registration transaction's input, a signature that
    recovers under the ledger's domain to the key of the member the update is registered for."""
    domain = consortium.ledger.domain()
    signed = {
        entry.update.update_hash: entry
        for tx_hash in {u.tx_hash for u in updates}
        for entry in consortium.ledger.registered_signatures(tx_hash)
    }
    return sum(
        update.update_hash in signed
        and recover_signer(domain, signed[update.update_hash])
        == consortium.registry.signer_of(update.member_id)
        for update in updates
    )


@contextmanager
def _checkout_on_pythonpath() -> Iterator[None]:
    """This checkout first on ``PYTHONPATH`` while the simulation runs (Ray's workers import the
    ClientApp from it: benchmarks/ is not installed), then the variable as it was: programs this
    process starts later (a test suite's other subprocesses) must not inherit it."""
    before = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), before or ""]))
    try:
        yield
    finally:
        if before is None:
            del os.environ["PYTHONPATH"]
        else:
            os.environ["PYTHONPATH"] = before


def run_scale(
    client: ChainClient,
    hospitals: int,
    *,
    admin: LocalAccount,
    coordinator: LocalAccount,
    funder: LocalAccount,
    rounds: int = 1,
    work: Path | None = None,
    progress: Progress = lambda _line: None,
) -> ScaleResult:
    """Set up a consortium of ``hospitals`` virtual hospitals on ``client``'s chain and run ``rounds``
    rounds in the Simulation Engine."""
    folder = work or Path(tempfile.mkdtemp(prefix=f"bcfl-scale-{hospitals}-"))
    folder.mkdir(parents=True, exist_ok=True)
    run = ScaleRun(client.rpc_url, folder, SIMULATION_APP, hospitals, rounds)
    shards = list(thyroid_shards(hospitals).values())
    save_shards(run.shards, shards)
    result = ScaleResult(hospitals, rounds)
    sizes = [len(shard.train) for shard in shards]
    result.train_examples = (min(sizes), max(sizes))
    consortium, result.setup_s, initial = set_up(client, run, admin, coordinator, funder, progress)
    first_block = client.block_number() + 1
    phases = Phases()
    progress(f"{hospitals} hospitals: simulating {rounds} round(s)")
    started = time.perf_counter()
    with _checkout_on_pythonpath():
        run_simulation(
            server_app(run, coordinator, initial, phases),
            client_app(run),
            num_supernodes=hospitals,
            backend_config=BACKEND_CONFIG,
        )
    result.simulation_s = time.perf_counter() - started
    result.load_average = os.getloadavg()[0]
    result.phases_s = dict(phases.seconds)
    for path in run.timings.glob("*.jsonl"):
        for line in path.read_text().splitlines():
            record = json.loads(line)
            result.hospital_train_s += record["train_s"]
            result.hospital_sign_s += record["sign_s"]
    result.gas, result.max_tx_gas = coordinator_gas(consortium, coordinator.address, first_block)
    result.block_gas_limit = int(client.w3.eth.get_block("latest")["gasLimit"])
    updates = consortium.ledger.updates()
    result.registered = len(updates)
    result.valid_signatures = signatures_valid(consortium, updates)
    return result
