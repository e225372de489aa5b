"""What a hospital's ClientApp does in a round that plain Flower's does not, each part timed alone.

Both ClientApps run in a fresh process per message (train, evaluate), started by the hospital's
SuperExec: each pays the interpreter's start and its imports, and loads the hospital's data. The
product ClientApp also unlocks the hospital's keystore (scrypt), connects to the chain and reads its
membership, in each of the two processes (``hospital_node.node.load_node``); reads the round and its
parent from the chain and hashes the received model (``hospital_node.verify``); evaluates the global
model before training; hashes, signs (EIP-712) and keeps the update's proof; hashes and signs its
evaluation. :func:`client_parts` times each on a running consortium's hospital, from its own node config.
"""

from __future__ import annotations

import dataclasses
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bcfl.chain.eip712 import EvaluationReport
from bcfl.chain.jsonrpc import JsonRpc
from bcfl.chain.manifest import DeploymentManifest
from bcfl.chain.view import ConsortiumView
from bcfl.learning.data.cache import load_prepared_dataset
from bcfl.learning.data.loader import load_schema
from bcfl.learning.task import build_model, evaluate, get_arrays, set_arrays
from bcfl.models.canonical import document_hash, model_hash
from bcfl.models.store import ModelStore
from bcfl.paths import REPO_ROOT
from benchmarks.round_latency import PLAIN_START, PRODUCT_START
from hospital_node.client_app import LocalUpdate, sign_and_keep
from hospital_node.node import load_node
from hospital_node.privacy import NOT_PRIVATE_ROUND
from hospital_node.settings import parse_node_config
from hospital_node.signer.client import SignerClient

PLAIN_APP = REPO_ROOT / "benchmarks" / "plain_app"
#: What a ClientApp process imports before it runs: Flower's ClientApp, then the app's module.
PRODUCT_IMPORT = "import flwr.clientapp, hospital_node.client_app"
PLAIN_IMPORT = "import flwr.clientapp, plain_flower"


def median_s(work: Callable[[], object], repeat: int = 3) -> float:
    """The median wall time of ``work`` over ``repeat`` calls."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def process_start_s(statement: str, pythonpath: Path) -> float:
    """A fresh interpreter that runs ``statement`` and exits (a ClientApp's imports), wall time."""
    env = {**os.environ, "PYTHONPATH": str(pythonpath)}
    command = [sys.executable, "-c", statement]
    started = time.perf_counter()
    subprocess.run(command, env=env, check=True, cwd=tempfile.gettempdir())
    return time.perf_counter() - started


def process_starts(repeat: int = 5) -> dict[str, float]:
    """Both ClientApps' process start and imports, median of ``repeat`` runs taken in turns (the
    machine's load changes alike for both)."""
    product, plain = [], []
    for _ in range(repeat):
        product.append(process_start_s(PRODUCT_IMPORT, REPO_ROOT))
        plain.append(process_start_s(PLAIN_IMPORT, PLAIN_APP))
    return {PRODUCT_START: statistics.median(product), PLAIN_START: statistics.median(plain)}


def client_parts(
    node_config: dict[str, str], models: ModelStore, journal: list[dict[str, object]]
) -> dict[str, float]:
    """Each part of one round's ClientApp work, seconds, on the hospital of ``node_config`` (its last
    BCFL round's global and aggregated models from ``models``, as the journal names them)."""
    settings = parse_node_config(node_config)
    schema = load_schema(settings.schema_path)
    last = journal[-1]
    chain_round = int(str(last["chain_round"]))
    global_arrays = models.get(bytes.fromhex(str(last["global_model_hash"])[2:]))
    aggregated = models.get(bytes.fromhex(str(last["aggregated_model_hash"])[2:]))
    node = dataclasses.replace(
        load_node(dict[str, object](node_config)), proofs=Path(tempfile.mkdtemp(prefix="bcfl-proofs-"))
    )
    ledger = node.consortium.ledger
    model = build_model(node.data.spec)
    set_arrays(model, global_arrays)
    update = LocalUpdate(
        chain_round,
        model_hash(global_arrays),
        dict(get_arrays(model)),
        {"num-examples": 1},
        NOT_PRIVATE_ROUND,
    )
    evaluation = EvaluationReport(chain_round, model_hash(aggregated), document_hash({"accuracy": 0.5}), 1)

    def chain_reads() -> None:
        record = ledger.get_round(chain_round)
        if record.parent_round:
            ledger.get_round(record.parent_round)

    def membership() -> None:
        consortium = ConsortiumView.connect(
            JsonRpc(settings.rpc_url), DeploymentManifest.load(settings.manifest)
        )
        consortium.registry.active_member_id_of(node.address)

    return {
        **process_starts(),
        "data load (prepared file)": median_s(
            lambda: load_prepared_dataset(
                settings.data_path,
                settings.schema_path,
                schema,
                settings.split_seed or 0,
                settings.cache_folder(),
            )
        ),
        "signing agent's identity (socket)": median_s(
            lambda: SignerClient(settings.signer_socket).identity()
        ),
        "chain connect and membership read": median_s(membership),
        "global model check (chain reads)": median_s(chain_reads),
        "model hashing (received model)": median_s(lambda: model_hash(global_arrays)),
        "evaluation before training": median_s(lambda: evaluate(model, node.data.test)),
        "update hash, signature and proof": median_s(lambda: sign_and_keep(node, update)),
        "evaluation hash and signature": median_s(
            lambda: node.signer.sign_evaluation(ledger.domain(), evaluation) and model_hash(aggregated)
        ),
    }
