"""Start and stop the consortium's long-running services (bcfl.demo.topology) as local processes.

Each process gets its own service's environment on top of a minimal base (PATH, HOME, locale,
FLWR_HOME), never this process's whole environment: the coordinator's settings reach only the
``coordinator`` service's ``flower-superexec`` and the ServerApp it starts.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from bcfl.chain.anvil import free_port
from bcfl.chain.exceptions import ChainError
from bcfl.demo.node_registration import register_node_keys
from bcfl.demo.onboarding import write_secret
from bcfl.demo.topology import (
    CA,
    LocalLayout,
    Plan,
    Service,
    hospital_services,
    hospital_volume,
    shell_line,
    supernode_name,
)
from bcfl.flower.certs import CA_CERT
from bcfl.flower.control import ControlClient
from bcfl.flower.files import write_public
from bcfl.flower.node_keys import NODE_KEY, ensure_node_key
from hospital_node.settings import node_config_arg

logger = logging.getLogger(__name__)


class LaunchError(ChainError):
    """A consortium service did not start: it exited, or was not healthy in time (its log says why)."""


BIN = Path(sys.executable).parent
#: What every process may inherit from the launcher's environment: nothing that configures an app.
INHERITED = ("HOME", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR", "USER", "LOGNAME")
#: The longest a service may take to become healthy: generous, since CI machines are busy.
HEALTH_TIMEOUT_S = 180.0


def base_env(flwr_home: Path) -> dict[str, str]:
    """The minimal environment every process starts from: PATH with the venv first, HOME, locale."""
    env = {name: os.environ[name] for name in INHERITED if name in os.environ}
    env["PATH"] = f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"
    env["FLWR_HOME"] = str(flwr_home)
    return env


@dataclass
class ManagedProcess:
    """A child process with its log file."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path
    handle: IO[bytes]
    #: What was started, and with which extra environment (for :meth:`FlowerDeployment.restart`).
    service: Service | None = None
    extra_env: Mapping[str, str] = field(default_factory=dict)

    def stop(self, timeout_s: float = 10.0) -> None:
        """SIGTERM to the whole process group (the apps Flower spawns too), SIGKILL after ``timeout_s``."""
        try:
            if self.process.poll() is None:
                _signal_group(self.process.pid, signal.SIGTERM)
                try:
                    self.process.wait(timeout=timeout_s)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait()
            _signal_group(self.process.pid, signal.SIGKILL)  # children left behind, if any
        finally:
            self.handle.close()


@dataclass
class FlowerDeployment:
    """The SuperLink, the coordinator's SuperExec and each hospital's SuperNode and SuperExec, with
    logs under ``log_dir``."""

    log_dir: Path
    #: The base environment of every process (see :func:`base_env`).
    env: dict[str, str]
    layout: LocalLayout
    plan: Plan
    #: The loopback port of each service (the layout's); new SuperNodes get a free one.
    ports: dict[str, int]
    processes: list[ManagedProcess] = field(default_factory=list)
    #: Processes a test stopped on purpose (e.g. a hospital's signing agent), to start again.
    stopped: list[ManagedProcess] = field(default_factory=list)

    def start(self, service: Service, extra_env: Mapping[str, str] | None = None) -> ManagedProcess:
        """Start a long-running service: its command, its environment only; waits until healthy."""
        if service.one_shot:
            raise ValueError(f"{service.name} is a one-shot job, not a long-running service")
        prepare(service)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = self.log_dir / f"{service.name}.log"
        handle = open(log, "ab")  # noqa: SIM115 (closed by ManagedProcess.stop)
        env = {**self.env, **service.environment, **(extra_env or {})}
        logger.debug("starting %s: %s", service.name, shell_line(service.command))
        process = subprocess.Popen(
            program(service.command), stdout=handle, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
        managed = ManagedProcess(service.name, process, log, handle, service, dict(extra_env or {}))
        self.processes.append(managed)
        if service.health is not None:
            _wait_healthy(service, managed, self.env)
        return managed

    def start_supernode(
        self, name: str, node_config: Mapping[str, str], extra_env: Mapping[str, str] | None = None
    ) -> tuple[ManagedProcess, ManagedProcess]:
        """One more hospital node named ``name`` (tests use it): its ``bcfl-supernode`` and its SuperExec
        (with ``extra_env``), both with this node config; its folder is ``hospitals/<name>`` beside the
        logs, made if missing. Over TLS, the folder gets a node key and the CA certificate, and the key
        is registered with the SuperLink (as an operator admits a node)."""
        self.ports.setdefault(supernode_name(name), free_port())
        volume = hospital_volume(name)
        if volume not in self.layout.folders:
            self.layout.folders[volume] = self.log_dir.parent / "hospitals" / name
        folder = self.layout.folders[volume]
        folder.mkdir(parents=True, exist_ok=True)
        if self.plan.secure:
            ca_cert = self.layout.folders[CA.volume] / CA_CERT
            write_public(folder / CA_CERT, ca_cert.read_bytes())
            key = ensure_node_key(folder / NODE_KEY)
            with ControlClient(
                self.layout.address("superlink", self.plan.superlink_port), ca_cert
            ) as control:
                register_node_keys(control, {name: key})
        node, superexec = hospital_services(self.layout, self.plan, name, node_config_arg(node_config))
        return self.start(node), self.start(superexec, extra_env)

    def restart(self, name: str) -> ManagedProcess:
        """Stop the service ``name`` and start it again, as it was started (e.g. a SuperNode whose node
        key changed in its folder)."""
        (managed,) = [p for p in self.processes if p.name == name]
        assert managed.service is not None
        managed.stop()
        self.processes.remove(managed)
        return self.start(managed.service, managed.extra_env)

    def stop(self) -> None:
        """Stop every process, the last started first."""
        for managed in reversed(self.processes):
            managed.stop()


def program(command: tuple[str, ...]) -> list[str]:
    """The command with its program resolved in this environment (``python`` is this interpreter)."""
    head, *rest = command
    if head == "python":
        return [sys.executable, *rest]
    local = BIN / head
    return [str(local) if local.exists() else head, *rest]


def prepare(service: Service) -> None:
    """What ``service`` makes before its program starts: its folders, its shared secret."""
    for folder in service.creates_folders:
        Path(folder).mkdir(parents=True, exist_ok=True)
    if service.creates_secret is not None:
        make_secret(Path(service.creates_secret))


def make_secret(path: Path) -> None:
    """The SuperExec shared secret (64 hex characters, mode 0600), unless it exists already."""
    if path.exists() and path.stat().st_size > 0:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    write_secret(path, secrets.token_hex(32))


def _wait_healthy(service: Service, managed: ManagedProcess, env: dict[str, str]) -> None:
    assert service.health is not None
    deadline = time.monotonic() + HEALTH_TIMEOUT_S
    while time.monotonic() < deadline:
        if managed.process.poll() is not None:
            raise LaunchError(f"{managed.name} exited (code {managed.process.returncode}); see {managed.log}")
        try:
            check = subprocess.run(
                program(service.health.test),
                env=env,
                capture_output=True,
                timeout=service.health.timeout_s * 10,
            )
        except subprocess.TimeoutExpired:
            continue  # a hung check counts as not healthy yet
        if check.returncode == 0:
            return
        time.sleep(0.2)
    raise LaunchError(f"{managed.name} not healthy within {HEALTH_TIMEOUT_S}s; see {managed.log}")


def _signal_group(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, sig)
