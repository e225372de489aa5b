"""docker-compose.yml for real: a Debian-built image, a chain that keeps its state, a reusable deployment."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bcfl.chain.anvil import free_port
from bcfl.chain.client import ChainClient
from bcfl.chain.consortium import Consortium
from bcfl.chain.devkeys import dev_account
from bcfl.chain.manifest import DeploymentManifest

REPO = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.compose


@dataclass
class Compose:
    command: list[str]
    env: dict[str, str]
    port: int

    def run(self, *args: str, check: bool = True, timeout: float = 900) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*self.command, *args],
            cwd=REPO,
            env=self.env,
            capture_output=True,
            text=True,
            check=check,
            timeout=timeout,
        )

    def container(self, service: str) -> str:
        return self.run("ps", "-q", service).stdout.strip()

    def wait_exited(self, service: str, timeout_s: float = 120) -> int:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            state = subprocess.run(
                ["docker", "inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", self.container(service)],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.split()
            if state[0] == "exited":
                return int(state[1])
            time.sleep(1)
        raise AssertionError(
            f"{service} still running after {timeout_s}s: {self.run('logs', service).stdout}"
        )

    def manifest(self, tmp_path: Path) -> DeploymentManifest:
        target = tmp_path / "deployment.json"
        subprocess.run(
            ["docker", "cp", f"{self.container('deploy')}:/data/deployment/deployment.json", str(target)],
            check=True,
        )
        return DeploymentManifest.load(target)


@pytest.fixture(scope="module")
def compose() -> Iterator[Compose]:
    setup = subprocess.run(
        [str(REPO / "scripts" / "docker-setup.sh")], capture_output=True, text=True, timeout=900
    )
    assert setup.returncode == 0, f"Docker could not be set up (needs root): {setup.stderr}"
    port = free_port()
    env = {**os.environ, "BCFL_CHAIN_PORT": str(port), "COMPOSE_PROJECT_NAME": f"bcfltest{os.getpid()}"}
    runner = Compose(setup.stdout.split(), env, port)
    built = runner.run("build", "-q", check=False)
    assert built.returncode == 0, built.stderr[-3000:]
    try:
        yield runner
    finally:
        runner.run("down", "-v", check=False)


def test_compose_up_deploys_and_resumes_from_saved_state(compose: Compose, tmp_path: Path) -> None:
    up = compose.run("up", "-d", check=False)
    assert up.returncode == 0, up.stderr
    assert compose.wait_exited("deploy") == 0, compose.run("logs", "deploy").stdout
    manifest = compose.manifest(tmp_path)
    consortium = Consortium.connect(ChainClient(f"http://127.0.0.1:{compose.port}"), manifest)
    assert consortium.registry.is_coordinator(dev_account(1).address)
    member_id = consortium.registry.request_membership(dev_account(2), "Compose Hospital")

    # Stop everything (the chain saves its state) and start again: nothing is redeployed or lost.
    compose.run("stop")
    up = compose.run("up", "-d", check=False)
    assert up.returncode == 0, up.stderr
    assert compose.wait_exited("deploy") == 0
    assert "reusing" in compose.run("logs", "deploy").stdout
    again = compose.manifest(tmp_path)
    assert again.contracts == manifest.contracts
    consortium = Consortium.connect(ChainClient(f"http://127.0.0.1:{compose.port}"), again)
    assert consortium.registry.member(member_id).name == "Compose Hospital"
