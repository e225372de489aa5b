"""What a hospital's ClientApp process costs to start: Flower 1.41 starts a fresh ``flwr-clientapp``
process for every message (train, evaluate), so each hospital pays the interpreter, the imports, the
node's load and the chain checks twice a round.

Measured on a real Anvil with the deployed contracts and a real member's node (heart-disease data,
Cleveland): the import of ``hospital_node.client_app`` alone, a whole train message's process
(:mod:`benchmarks.client_process`) with the prepared dataset's cache cold and warm, and four hospitals'
processes at once (a round's training on one machine) with each ``torch-threads`` value."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from bcfl.chain.client import ChainClient
from bcfl.chain.consortium import Consortium
from bcfl.chain.deploy import deploy_consortium
from bcfl.chain.devkeys import dev_account
from bcfl.chain.keystore import create_keystore, load_keystore
from bcfl.chain.manifest import DeploymentManifest
from bcfl.demo.heart import SCHEMA, prepare_heart_hospitals
from bcfl.learning.data.loader import load_schema
from bcfl.learning.task import build_model, get_arrays
from bcfl.models.canonical import document_hash, model_hash, to_bytes
from hospital_node.signer.server import SigningAgent
from hospital_node.signer.signing import Signer

#: Fresh processes per measurement; the one with the least CPU time is reported.
REPEATS = 3
#: Hospitals training at once in the concurrency measurement.
CONCURRENT = 4
THREADS = (1, 2)
#: Rounds of CONCURRENT processes per torch-threads value (the fastest is reported).
CONCURRENT_REPEATS = 2
PASSWORD = "benchmark password"
TRAIN_CONFIG = {"local-epochs": 2, "learning-rate": 0.01, "batch-size": 32, "seed": 0}
_PROCESS = Path(__file__).resolve().parent / "client_process.py"


@dataclass
class ClientStartResult:
    """Seconds; of the run with the least CPU time among :data:`REPEATS` unless noted."""

    interpreter_s: float = 0.0
    import_s: float = 0.0
    #: Phases of one train message's process, cold (first, cache built) and warm (cache read).
    cold: dict[str, float] = field(default_factory=dict)
    warm: dict[str, float] = field(default_factory=dict)
    keystore_s: float = 0.0
    #: torch-threads -> (wall of CONCURRENT processes at once, mean train seconds in them, their CPU
    #: seconds in all).
    concurrent: dict[int, tuple[float, float, float]] = field(default_factory=dict)
    modules: list[str] = field(default_factory=list)
    #: The same import and message (phases) with an older checkout's code, when asked for.
    baseline_import_s: float | None = None
    #: The import of ``hospital_node.client_app`` in a child forked from the warm-start server
    #: (hospital_node.warm: the libraries already imported), CPU seconds.
    warm_import_s: float = 0.0
    baseline: dict[str, float] = field(default_factory=dict)
    baseline_modules: list[str] = field(default_factory=list)


def code_env(code: Path | None) -> dict[str, str] | None:
    """The environment of a process that runs the project's code from the checkout ``code`` (an older
    commit, for a before/after comparison), or None for this checkout."""
    return None if code is None else {**os.environ, "PYTHONPATH": str(code.resolve())}


def _cpu(argv: list[str], env: dict[str, str] | None = None) -> float:
    """CPU seconds (user + system) a finished child process used."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(argv, check=True, capture_output=True, env=env)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def import_seconds(
    module: str = "hospital_node.client_app", env: dict[str, str] | None = None
) -> tuple[float, float]:
    """CPU seconds of (a bare interpreter, an interpreter importing ``module``), fewest of :data:`REPEATS`
    fresh processes (CPU time, not wall: the machine's other work barely changes it)."""
    bare = min(_cpu([sys.executable, "-c", "pass"], env) for _ in range(REPEATS))
    imported = min(_cpu([sys.executable, "-c", f"import {module}"], env) for _ in range(REPEATS))
    return bare, imported


#: What a warm-start child does before Flower loads the app (hospital_node.warm.server), then the
#: app's import, timed: printed as CPU seconds.
_WARM_IMPORT = """
import os, sys, time
from hospital_node.warm.server import PRELOAD, forget_project_modules, preload
preload(PRELOAD)
pid = os.fork()
if pid == 0:
    forget_project_modules()
    started = time.process_time()
    import hospital_node.client_app
    sys.stdout.write(f"{time.process_time() - started}\\n")
    sys.stdout.flush()
    os._exit(0)
os.waitpid(pid, 0)
"""


def warm_import_seconds() -> float:
    """CPU seconds of importing the ClientApp in a child of the warm-start server, fewest of
    :data:`REPEATS`."""
    runs = []
    for _ in range(REPEATS):
        done = subprocess.run(
            [sys.executable, "-c", _WARM_IMPORT], check=True, capture_output=True, text=True
        )
        runs.append(float(done.stdout.strip().splitlines()[-1]))
    return min(runs)


def prepare_node(client: ChainClient, folder: Path) -> tuple[dict[str, str], int, Path]:
    """A member hospital's node config on a fresh deployment with an open round; the round and the
    global model's file."""
    admin, coordinator, hospital = dev_account(0), dev_account(1), dev_account(2)
    manifest = deploy_consortium(client, admin, coordinator=coordinator.address)
    consortium = Consortium.connect(client, manifest)
    arrays = get_arrays(build_model(load_schema(SCHEMA).model_spec(), seed=0))
    app = document_hash({"app": "client-start benchmark"})
    consortium.ledger.approve_app(admin, app)
    consortium.ledger.start_lineage(admin, model_hash(arrays), "benchmark: the first model")
    member = consortium.registry.request_membership(hospital, "Cleveland")
    consortium.registry.approve(admin, member)
    chain_round = consortium.ledger.open_round(
        coordinator, model_hash(arrays), document_hash(TRAIN_CONFIG), app
    )
    (prepared,) = prepare_heart_hospitals(folder / "data", ["cleveland"])
    create_keystore(folder / "keystore.json", PASSWORD, bytes(hospital.key))
    (folder / "keystore.password").write_text(PASSWORD)
    manifest.save(folder / "deployment.json")
    (folder / "global.model").write_bytes(to_bytes(arrays))
    config = {
        "data-path": str(prepared.data),
        "schema-path": str(SCHEMA),
        "signer-socket": str(Path(tempfile.mkdtemp(prefix="bcfl-bench-")) / "signer" / "agent.sock"),
        "proofs-dir": str(folder / "proofs"),
        "rpc-url": client.rpc_url,
        "manifest": str(folder / "deployment.json"),
    }
    return config, chain_round, folder / "global.model"


def message_process(
    node_config: dict[str, str], chain_round: int, arrays: Path, env: dict[str, str] | None = None
) -> subprocess.Popen[str]:
    """A started train message's process (:mod:`benchmarks.client_process`)."""
    job = {"node-config": node_config, "round": chain_round, "arrays": str(arrays), "config": TRAIN_CONFIG}
    return subprocess.Popen(
        [sys.executable, str(_PROCESS), json.dumps(job)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def _phases(process: subprocess.Popen[str]) -> dict[str, object]:
    out, err = process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"the message's process failed: {err.strip().splitlines()[-1:]}")
    phases: dict[str, object] = json.loads(out.strip().splitlines()[-1])
    return phases


def _fastest(runs: list[dict[str, object]]) -> dict[str, float]:
    best = min(runs, key=lambda run: float(str(run["total_cpu_s"])))
    return {key: float(str(value)) for key, value in best.items() if key.endswith("_s")}


def measure_client_start(
    client: ChainClient, folder: Path, baseline: Path | None = None
) -> ClientStartResult:
    """Every measurement of the section, on ``client``'s chain, in ``folder``; with ``baseline`` (an
    older checkout) its import and train message too, alternating with this code's runs."""
    result = ClientStartResult()
    result.interpreter_s, result.import_s = import_seconds()
    result.warm_import_s = warm_import_seconds()
    if baseline is not None:
        result.baseline_import_s = import_seconds(env=code_env(baseline))[1]
    node_config, chain_round, arrays = prepare_node(client, folder)
    started = time.process_time()
    account = load_keystore(folder / "keystore.json", PASSWORD)
    result.keystore_s = time.process_time() - started
    # An older checkout unlocks the keystore in the message's process; this one asks the agent.
    legacy = {"keystore": str(folder / "keystore.json"), "password-file": str(folder / "keystore.password")}
    domain = Consortium.connect(
        client, DeploymentManifest.load(Path(node_config["manifest"]))
    ).ledger.domain()
    with SigningAgent(Signer(account, domain), Path(node_config["signer-socket"])):
        _measure_messages(result, node_config, legacy, chain_round, arrays, folder, baseline)
    return result


def _measure_messages(
    result: ClientStartResult,
    node_config: dict[str, str],
    legacy: dict[str, str],
    chain_round: int,
    arrays: Path,
    folder: Path,
    baseline: Path | None,
) -> None:
    cold_runs, warm_runs, baseline_runs = [], [], []
    for repeat in range(REPEATS):
        cold_config = {**node_config, "cache-dir": str(folder / f"cache-{repeat}")}
        cold_runs.append(_phases(message_process(cold_config, chain_round, arrays)))
        warm_runs.append(_phases(message_process(cold_config, chain_round, arrays)))
        if baseline is not None:
            baseline_runs.append(
                _phases(message_process({**node_config, **legacy}, chain_round, arrays, code_env(baseline)))
            )
    result.cold, result.warm = _fastest(cold_runs), _fastest(warm_runs)
    if baseline_runs:
        result.baseline = _fastest(baseline_runs)
        result.baseline_modules = [str(m) for m in baseline_runs[-1]["modules"]]  # type: ignore[attr-defined]
    result.modules = [str(m) for m in warm_runs[-1]["modules"]]  # type: ignore[attr-defined]
    for threads in THREADS:
        config = {**node_config, "cache-dir": str(folder / "cache-0"), "torch-threads": str(threads)}
        walls, trains, cpus = [], [], []
        for _ in range(CONCURRENT_REPEATS):
            started = time.perf_counter()
            processes = [message_process(config, chain_round, arrays) for _ in range(CONCURRENT)]
            phases = [_phases(p) for p in processes]
            walls.append(time.perf_counter() - started)
            trains.append(sum(float(str(p["train_s"])) for p in phases) / CONCURRENT)
            cpus.append(sum(float(str(p["total_cpu_s"])) for p in phases))
        best = walls.index(min(walls))
        result.concurrent[threads] = (walls[best], trains[best], cpus[best])


def load_average() -> float:
    """The machine's 1-minute load average (other work slows every number alike)."""
    return os.getloadavg()[0]
