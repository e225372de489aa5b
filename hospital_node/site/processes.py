"""The node's two processes, detached: ``flower-supernode`` and its ``bcfl-superexec``.

As in the demo (bcfl.demo.topology): the SuperNode dials the SuperLink over TLS checked against the
pinned CA and signs with the node key (``--auth-supernode-private-key``); it runs no app itself
(``--isolation=process``) and serves its tasks on loopback only to the holder of the shared secret,
the hospital's ``bcfl-superexec``, which starts only apps approved on chain. Each runs in its own
session (it outlives the command), logs to ``logs/<name>.log`` and has a ``<name>.pid`` file.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from bcfl.chain.anvil import free_port
from hospital_node.errors import HospitalNodeError
from hospital_node.settings import NodeSettings
from hospital_node.site.checks_local import program_path
from hospital_node.site.config import NodeConfig, NodeFolder, write_atomic

SUPERNODE = "supernode"
SUPEREXEC = "superexec"
#: What a process may inherit from this command's environment: nothing that configures an app.
INHERITED = ("HOME", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR", "USER", "LOGNAME", "PATH")
PASSWORD_ENV = "BCFL_KEYSTORE_PASSWORD"


class ProcessError(HospitalNodeError):
    """A node process could not be started or stopped (the message says why and what to do)."""


@dataclass(frozen=True)
class Running:
    """A started process."""

    name: str
    pid: int
    log: Path


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state != "Z"


def running_pid(node: NodeFolder, name: str) -> int | None:
    """The pid in ``<name>.pid`` if that process still runs."""
    try:
        pid = int(node.pid_file(name).read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if alive(pid) else None


def node_config(node: NodeFolder, config: NodeConfig, password_file: Path | None) -> str:
    """The ``--node-config`` both processes get (hospital_node.settings)."""
    values: dict[str, object] = {
        "data-path": config.data,
        "schema-path": config.schema_path,
        "keystore": node.keystore,
        "rpc-url": config.rpc_url,
        "manifest": node.manifest,
        "proofs-dir": node.folder / "proofs",
    }
    if password_file is not None:
        values["password-file"] = password_file.absolute()
    return NodeSettings.model_validate(values).node_config_arg()


def commands(node: NodeFolder, config: NodeConfig, node_config_arg: str, port: int) -> dict[str, list[str]]:
    """The SuperNode's and the SuperExec's command lines."""
    secret = f"--superexec-auth-secret-file={node.secret}"
    return {
        SUPERNODE: [
            _program("flower-supernode"),
            f"--superlink={config.superlink}",
            f"--root-certificates={node.ca_cert}",
            f"--auth-supernode-private-key={node.node_key}",
            "--isolation=process",
            "--host=127.0.0.1",
            f"--port={port}",
            secret,
            f"--node-config={node_config_arg}",
        ],
        SUPEREXEC: [
            _program("bcfl-superexec"),
            "--insecure",
            f"--runtime-api-address=127.0.0.1:{port}",
            secret,
            f"--node-config={node_config_arg}",
        ],
    }


def launch(node: NodeFolder, name: str, command: list[str], env: dict[str, str]) -> Running:
    """Start ``command`` detached, its output appended to ``logs/<name>.log``; writes its pid file."""
    node.logs.mkdir(parents=True, exist_ok=True)
    log = node.logs / f"{name}.log"
    with open(log, "ab") as handle:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=handle,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
            cwd=node.folder,
        )
    write_atomic(node.pid_file(name), f"{process.pid}\n".encode())
    return Running(name, process.pid, log)


def environment(node: NodeFolder, password_file: Path | None) -> dict[str, str]:
    """A minimal environment: PATH, HOME, locale, FLWR_HOME in the folder, and the keystore password
    from this environment only when no password file is given."""
    env = {name: os.environ[name] for name in INHERITED if name in os.environ}
    # The SuperExec starts `flwr-clientapp` from PATH: this installation's programs come first, also
    # when bcfl was run by its full path without activating its environment.
    env["PATH"] = os.pathsep.join(p for p in (str(Path(sys.executable).parent), env.get("PATH")) if p)
    env["FLWR_HOME"] = str(node.folder / "flwr")
    env["FLWR_TELEMETRY_ENABLED"] = "0"
    if password_file is None:
        password = os.environ.get(PASSWORD_ENV, "")
        if not password:
            raise ProcessError(
                "the node signs its updates with its keystore: "
                "pass --password-file or set BCFL_KEYSTORE_PASSWORD"
            )
        env[PASSWORD_ENV] = password
    return env


def ensure_secret(node: NodeFolder) -> None:
    """The SuperNode's and SuperExec's shared secret (mode 0600), made once."""
    if not node.secret.exists() or node.secret.stat().st_size == 0:
        write_atomic(node.secret, secrets.token_hex(32).encode(), mode=0o600)


def stop_process(node: NodeFolder, name: str, timeout_s: float = 15.0) -> int | None:
    """SIGTERM to the process's group, SIGKILL after ``timeout_s``; removes its pid file. Its pid, or
    None if it was not running."""
    pid = running_pid(node, name)
    if pid is not None:
        _signal_group(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout_s
        while alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        _signal_group(pid, signal.SIGKILL)  # whatever is left of its group
    node.pid_file(name).unlink(missing_ok=True)
    return pid


def free_local_port() -> int:
    return free_port()


def _program(name: str) -> str:
    path = program_path(name)
    if path is None:
        raise ProcessError(f"{name} is not installed: install bcfl (pip install .) in this environment")
    return str(path)


def _signal_group(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)
