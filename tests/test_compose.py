"""docker-compose.yml for real: the whole demo consortium trains in containers and survives a restart.

A Debian-built image; the chain, deployment, onboarding, the dashboard, SuperLink, coordinator, three
hospital SuperNodes with their app-checking SuperExecs and the submitted run; then `down` and `up`
again: same contracts and members, no re-onboarding, and the next run's rounds continue on the chain
(and on the dashboard, whose index resumes).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from bcfl.chain.anvil import free_port
from bcfl.chain.client import ChainClient
from bcfl.chain.consortium import Consortium
from bcfl.chain.devkeys import dev_account
from bcfl.chain.ledger import RoundStatus
from bcfl.chain.manifest import DeploymentManifest
from bcfl.chain.registry import MemberStatus
from tests.chain.helpers import recovered_signers

REPO = Path(__file__).resolve().parent.parent
HOSPITALS = ("cleveland", "hungary", "va-long-beach")
HOSPITAL_FILES = {
    "data.csv",
    "schema.json",
    "key",  # empty here: where onboarding mounts the key volume (only the hospital's signer-* reads it)
    "deployment.json",
    "superexec.secret",
    "node.key",  # its SuperNode's authentication key (mode 0600), its fingerprint on chain
    "node.key.pub",
    "ca.crt",  # the consortium's CA: the SuperNode checks the Fleet gateway's certificate against it
    "proofs",  # the node's signed proof of every update it sent (bcfl update register reads them)
    "cache",  # its prepared dataset, ready for each ClientApp process to load (checked by hash)
}
pytestmark = pytest.mark.compose


@dataclass
class Compose:
    command: list[str]
    env: dict[str, str]
    port: int
    dashboard_port: int

    #: Each service's container, as `ps -q` named it since the last `up` or `down` (every compose
    #: command is a Python process: asked once, not on every read).
    containers: dict[str, str] = field(default_factory=dict)

    def run(
        self, *args: str, check: bool = True, timeout: float = 900, rounds: int | None = None
    ) -> subprocess.CompletedProcess[str]:
        if args[0] in ("up", "down"):
            self.containers.clear()
        env = self.env if rounds is None else {**self.env, "BCFL_ROUNDS": str(rounds)}
        return subprocess.run(
            [*self.command, *args],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            check=check,
            timeout=timeout,
        )

    def container(self, service: str) -> str:
        if service not in self.containers:
            container = self.run("ps", "-q", service).stdout.strip()
            assert container, f"{service} has no container: {self.run('ps', check=False).stdout}"
            self.containers[service] = container
        return self.containers[service]

    def logs(self, *services: str) -> str:
        return self.run("logs", "--no-color", *services, check=False).stdout

    def wait_exited(self, service: str, timeout_s: float = 120) -> int:
        """The exit code of the service's container, once it has exited (`docker wait`, no polling)."""
        try:
            waited = subprocess.run(
                ["docker", "wait", self.container(service)],
                capture_output=True,
                text=True,
                check=True,
                timeout=timeout_s,
            )
        except subprocess.TimeoutExpired:
            raise AssertionError(
                f"{service} still running after {timeout_s}s: {self.logs()[-6000:]}"
            ) from None
        return int(waited.stdout.strip())

    def up_and_train(self, rounds: int) -> None:
        """`up -d` with BCFL_ROUNDS=rounds; returns once the submitted run has completed."""
        up = self.run("up", "-d", check=False, rounds=rounds)
        assert up.returncode == 0, up.stderr[-3000:] + self.logs("deploy", "onboard")[-3000:]
        code = self.wait_exited("submit", timeout_s=600)
        hospitals = [f"{kind}-{h}" for h in HOSPITALS for kind in ("supernode", "superexec")]
        assert code == 0, self.logs("submit", "coordinator", *hospitals)[-8000:]

    def wait_healthy(self, service: str, timeout_s: float = 180) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if (
                docker("inspect", "-f", "{{.State.Health.Status}}", self.container(service)).strip()
                == "healthy"
            ):
                return
            time.sleep(1)
        raise AssertionError(f"{service} not healthy after {timeout_s}s: {self.logs(service)[-6000:]}")

    def dashboard(self, path: str) -> Any:
        """A JSON answer of the dashboard, through its port published on the host."""
        answer = httpx.get(f"http://127.0.0.1:{self.dashboard_port}{path}", timeout=10)
        assert answer.status_code == 200, (path, answer.text[:2000])
        return answer.json() if answer.headers["content-type"].startswith("application/json") else answer.text

    def read(self, service: str, path: str) -> str:
        return docker("exec", self.container(service), "cat", path)

    def manifest(self, tmp_path: Path) -> DeploymentManifest:
        target = tmp_path / "deployment.json"
        docker("cp", f"{self.container('deploy')}:/data/deployment/deployment.json", str(target))
        return DeploymentManifest.load(target)

    def consortium(self, tmp_path: Path) -> Consortium:
        return Consortium.connect(ChainClient(f"http://127.0.0.1:{self.port}"), self.manifest(tmp_path))


def docker(*args: str) -> str:
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=True, timeout=60).stdout


@contextmanager
def compose_stack() -> Iterator[Compose]:
    """The demo stack's compose runner, with its own ports, project, fleet network and image (built
    here, removed with the volumes at the end)."""
    setup = subprocess.run(
        [str(REPO / "scripts" / "docker-setup.sh")], capture_output=True, text=True, timeout=900
    )
    assert setup.returncode == 0, f"Docker could not be set up (needs root): {setup.stderr}"
    port, dashboard_port = free_port(), free_port()
    env = {
        **os.environ,
        "BCFL_CHAIN_PORT": str(port),
        "BCFL_DASHBOARD_PORT": str(dashboard_port),
        "COMPOSE_PROJECT_NAME": f"bcfltest{os.getpid()}",
        # The fleet network has a fixed name (a hospital's own compose file joins it): its own too.
        "BCFL_FLEET_NETWORK": f"bcfltest{os.getpid()}-fleet",
        # Its own image: a compose test run at the same time (another checkout) builds another.
        "BCFL_IMAGE": f"bcfl:test{os.getpid()}",
    }
    runner = Compose(setup.stdout.split(), env, port, dashboard_port)
    built = runner.run("build", "-q", check=False)
    assert built.returncode == 0, built.stderr[-3000:]
    try:
        yield runner
    finally:
        runner.run("down", "-v", check=False)
        subprocess.run(["docker", "image", "rm", env["BCFL_IMAGE"]], capture_output=True, check=False)


@pytest.fixture(scope="module")
def compose() -> Iterator[Compose]:
    with compose_stack() as runner:
        yield runner


def assert_rounds_recorded(consortium: Consortium, rounds: range, member_ids: set[int]) -> None:
    """Each round finalized on chain with one registered update per hospital and a global model."""
    assert consortium.ledger.round_count() == rounds[-1]
    signers = {m.member_id: m.signer for m in consortium.registry.members()}
    for number in rounds:
        record = consortium.ledger.get_round(number)
        assert record.status is RoundStatus.FINALIZED, number
        assert record.global_model_hash != bytes(32) and record.aggregated_model_hash != bytes(32)
        updates = consortium.ledger.updates(round_number=number)
        assert {u.member_id for u in updates} == member_ids and record.update_count == len(member_ids)
        assert all(u.num_examples > 0 for u in updates)
        # The event names no signer: each signature in the registration's input recovers to the member's key.
        assert recovered_signers(consortium, updates) == [signers[u.member_id] for u in updates]
        (finalized,) = consortium.ledger.finalized_rounds(round_number=number)
        assert set(finalized.participants) == member_ids


def assert_dashboard_shows(compose: Compose, rounds: int, timeout_s: float = 180) -> None:
    """The dashboard is healthy, and serves (on 127.0.0.1 of the host) every round the chain holds,
    paid, with a clean verdict, the three SuperNodes online at the SuperLink, and its page."""
    compose.wait_healthy("dashboard")
    deadline = time.monotonic() + timeout_s
    while True:
        listed, status = compose.dashboard("/api/v1/rounds"), compose.dashboard("/api/v1/status")
        shown = ([(r["round"], r["status"]) for r in listed], status["nodes"]["online"])
        if shown == ([(n, "paid") for n in range(1, rounds + 1)], len(HOSPITALS)):
            break
        assert time.monotonic() < deadline, (shown, status, compose.logs("dashboard")[-4000:])
        time.sleep(1)
    assert status["chain"]["reachable"] and status["clean"], status
    assert status["nodes"]["reachable"] and status["indexed_block"] >= status["snapshot_block"] > 0
    assert compose.dashboard("/readyz")["status"] == "ready"
    assert "<html" in compose.dashboard("/")


@pytest.mark.timeout(2400)
def test_compose_up_trains_and_resumes_after_a_restart(compose: Compose, tmp_path: Path) -> None:
    # One round before the restart and one after: the second trains from the model the first
    # produced, across the restart (the lineage within one multi-round run: test_federation, test_demo).
    compose.up_and_train(rounds=1)
    assert compose.wait_exited("deploy") == 0 and compose.wait_exited("onboard") == 0
    consortium = compose.consortium(tmp_path)
    assert consortium.registry.is_coordinator(dev_account(1).address)

    # Three hospitals, each with its own fresh key (not one of Anvil's public dev keys), approved.
    members = consortium.registry.members()
    assert sorted(m.name for m in members) == sorted(HOSPITALS)
    assert all(m.status is MemberStatus.ACTIVE for m in members)
    public_keys = {dev_account(i).address for i in range(10)}
    assert not public_keys & {m.signer for m in members}
    member_ids = {m.member_id for m in members}
    assert_rounds_recorded(consortium, range(1, 2), member_ids)
    first = consortium.ledger.get_round(1)
    # The coordinator stored the global model under the hash registered on chain.
    stored = docker("exec", compose.container("coordinator"), "ls", "/data/coordinator/run/models")
    assert first.aggregated_model_hash.hex() in stored
    journal = json.loads(compose.read("coordinator", "/data/coordinator/run/rounds.json"))
    assert [entry["chain_round"] for entry in journal] == [1]

    # The dashboard shows the run; it reads with no key or password, the manifest and the coordinator's
    # store mounted read-only, and writes only its own index.
    assert_dashboard_shows(compose, rounds=1)
    viewer = compose.container("dashboard")
    env = json.loads(docker("inspect", "-f", "{{json .Config.Env}}", viewer))
    assert not [v for v in env if "KEY" in v.split("=")[0] or "PASSWORD" in v.split("=")[0]], env
    mounts = json.loads(docker("inspect", "-f", "{{json .Mounts}}", viewer))
    assert sorted((m["Destination"], m["RW"]) for m in mounts) == [
        ("/data/ca", False),
        ("/data/coordinator/run", False),
        ("/data/dashboard", True),
        ("/data/deployment", False),
    ]

    # Each hospital's containers hold only its own volume and none of the coordinator's settings; its
    # keystore and password are in its signing agent's container alone, which has no network.
    passwords = [compose.read("coordinator", "/data/coordinator/keystore.password").strip()]
    for hospital in HOSPITALS:
        for service in (f"supernode-{hospital}", f"superexec-{hospital}"):
            container = compose.container(service)
            env = json.loads(docker("inspect", "-f", "{{json .Config.Env}}", container))
            assert not [v for v in env if v.startswith("BCFL_COORDINATOR_") or "PASSWORD" in v], env
            mounts = json.loads(docker("inspect", "-f", "{{json .Mounts}}", container))
            expected = [("/data/hospital", f"hospital-{hospital}")]
            if service.startswith("superexec-"):
                expected.append(("/data/signer", f"signer-{hospital}"))
            spelled = sorted((m["Destination"], m["Name"]) for m in mounts)
            assert [d for d, _ in spelled] == [d for d, _ in expected], spelled
            pairs = zip(spelled, expected, strict=True)
            assert all(name.endswith(volume) for (_, name), (_, volume) in pairs), spelled
            files = docker("exec", container, "ls", "-A", "/data/hospital").split()
            assert set(files) == HOSPITAL_FILES
            assert docker("exec", container, "ls", "-A", "/data/hospital/key").split() == []
        signer = compose.container(f"signer-{hospital}")
        assert docker("inspect", "-f", "{{.HostConfig.NetworkMode}}", signer).strip() == "none"
        mounts = json.loads(docker("inspect", "-f", "{{json .Mounts}}", signer))
        assert sorted((m["Destination"], m["RW"]) for m in mounts) == [
            ("/data/deployment", False),
            ("/data/key", False),
            ("/data/signer", True),
        ]
        # Its SuperExec started the App onboarding approved, after checking it on chain.
        assert "is approved on chain: starting task" in compose.logs(f"superexec-{hospital}")
        passwords.append(compose.read(f"signer-{hospital}", "/data/key/keystore.password").strip())
    # No keystore password appears in any service's log.
    logs = compose.logs()
    assert "member #1" in logs and all(len(p) >= 16 and p not in logs for p in passwords)

    # The node sync registered each hospital's published node key with the SuperLink (over TLS,
    # through its Control API), as the registry says.
    synced = compose.logs("node-sync")
    found = {
        h: re.search(rf"registered member #\d+ \({re.escape(h)}\) as node (\d+)", synced) for h in HOSPITALS
    }
    assert all(found.values()), synced
    node_ids = {h: m.group(1) for h, m in found.items() if m is not None}
    # A hospital's container is on the fleet network only: the SuperLink's name does not even resolve.
    probe = "import socket; socket.getaddrinfo('superlink', None)"
    reach = subprocess.run(
        ["docker", "exec", compose.container(f"supernode-{HOSPITALS[0]}"), "python", "-c", probe],
        capture_output=True,
        text=True,
        check=False,
    )
    assert reach.returncode != 0 and "gaierror" in reach.stderr, reach.stderr

    # Stop and remove the containers, keep the volumes, start again with one more round.
    down = compose.run("down", check=False)
    assert down.returncode == 0, down.stderr
    compose.up_and_train(rounds=1)
    assert "reusing" in compose.logs("deploy")
    onboard = compose.logs("onboard")
    assert onboard.count("already onboarded") == len(HOSPITALS) and "keystore already there" in onboard
    assert "already approved on chain" in onboard
    # The SuperLink's database kept the registrations: the same node ids.
    synced = compose.logs("node-sync")
    assert all(
        "admitted already: member #" in synced and f"({h}) node {node_ids[h]}" in synced for h in HOSPITALS
    )
    again = compose.consortium(tmp_path)
    assert again.manifest.contracts == consortium.manifest.contracts
    assert [(m.member_id, m.signer) for m in again.registry.members()] == [
        (m.member_id, m.signer) for m in members
    ]
    assert_rounds_recorded(again, range(1, 3), member_ids)
    second = again.ledger.get_round(2)
    assert second.global_model_hash == first.aggregated_model_hash  # round 2 trained round 1's model
    stored = docker("exec", compose.container("coordinator"), "ls", "/data/coordinator/run/models")
    assert second.aggregated_model_hash.hex() in stored
    assert_dashboard_shows(compose, rounds=2)
    journal = json.loads(compose.read("coordinator", "/data/coordinator/run/rounds.json"))
    assert [entry["chain_round"] for entry in journal] == [1, 2]
