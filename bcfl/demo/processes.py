"""Start and stop the Flower Deployment Engine's processes: one SuperLink, one SuperNode per hospital."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from bcfl.chain.anvil import free_port

logger = logging.getLogger(__name__)
BIN = Path(sys.executable).parent


@dataclass
class ManagedProcess:
    """A child process with its log file."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path
    handle: IO[bytes]

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
    """A SuperLink and its SuperNodes on loopback, with logs under ``log_dir``."""

    log_dir: Path
    env: dict[str, str]
    #: Flower 1.41 serves the Fleet, Control and ServerApp APIs over HTTP on one port.
    port: int = field(default_factory=free_port)
    processes: list[ManagedProcess] = field(default_factory=list)

    def _start(
        self, name: str, command: list[str], extra_env: dict[str, str] | None = None
    ) -> ManagedProcess:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = self.log_dir / f"{name}.log"
        handle = open(log, "ab")  # noqa: SIM115 (closed by ManagedProcess.stop)
        env = {**self.env, **(extra_env or {})}
        if name.startswith("supernode"):  # a hospital site gets none of the coordinator's settings
            env = {k: v for k, v in env.items() if not k.startswith("BCFL_COORDINATOR_")}
        process = subprocess.Popen(
            command, stdout=handle, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
        managed = ManagedProcess(name, process, log, handle)
        self.processes.append(managed)
        return managed

    def start_superlink(self) -> ManagedProcess:
        """``flower-superlink`` on a free loopback port; waits until it accepts connections."""
        process = self._start(
            "superlink",
            [
                str(BIN / "flower-superlink"),
                "--insecure",
                "--disable-runtime-dependency-installation",
                "--host", "127.0.0.1",
                "--port", str(self.port),
                "--database", str(self.log_dir / "superlink.db"),
            ],
        )  # fmt: skip
        _wait_for_port(self.port, process)
        return process

    def start_supernode(
        self, name: str, node_config: dict[str, str], extra_env: dict[str, str]
    ) -> ManagedProcess:
        """One hospital's ``flower-supernode``, configured through ``--node-config``."""
        config = " ".join(f'{key}="{value}"' for key, value in node_config.items())
        return self._start(
            f"supernode-{name}",
            [
                str(BIN / "flower-supernode"),
                "--insecure",
                "--superlink", f"127.0.0.1:{self.port}",
                "--port", str(free_port()),
                "--node-config", config,
            ],
            extra_env,
        )  # fmt: skip

    def write_flower_config(self, flwr_home: Path) -> None:
        """A Flower CLI configuration whose default SuperLink connection is this deployment."""
        flwr_home.mkdir(parents=True, exist_ok=True)
        (flwr_home / "config.toml").write_text(
            '[superlink]\ndefault = "bcfl"\n\n[superlink.bcfl]\n'
            f'address = "127.0.0.1:{self.port}"\ninsecure = true\n'
        )

    def stop(self) -> None:
        """Stop every process, SuperNodes first."""
        for managed in reversed(self.processes):
            managed.stop()


def _wait_for_port(port: int, process: ManagedProcess, timeout_s: float = 180.0) -> None:
    import socket

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.process.poll() is not None:
            raise RuntimeError(
                f"{process.name} exited (code {process.process.returncode}); see {process.log}"
            )
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"{process.name} did not listen on port {port} within {timeout_s}s; see {process.log}")


def _signal_group(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, sig)


def base_env() -> dict[str, str]:
    """This process's environment (PATH pointing at the venv first)."""
    return {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
