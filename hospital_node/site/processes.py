"""The node's three processes, detached: the signing agent ``bcfl-signer``, ``bcfl-supernode`` and
its ``bcfl-superexec``.

The signing agent starts first and is the only one that reads the keystore's password (its
``--password-file``, else $BCFL_KEYSTORE_PASSWORD in its environment alone); the SuperNode and the
SuperExec, hence every ClientApp, get neither the keystore nor the password: their node config names
the agent's socket (hospital_node.signer.location: in the node folder, or under /tmp when that path
is too long for a Unix socket).

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
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bcfl.chain.anvil import free_port
from hospital_node.errors import HospitalNodeError
from hospital_node.settings import SUPEREXEC_POLL, NodeSettings
from hospital_node.signer.client import SignerClient, SignerUnavailableError
from hospital_node.signer.location import prepare_socket_folder, socket_path
from hospital_node.site.checks_local import program_path
from hospital_node.site.config import NodeConfig, NodeFolder, write_atomic

SIGNER = "signer"
SUPERNODE = "supernode"
SUPEREXEC = "superexec"
#: The longest the signing agent may take to answer on its socket once started (it unlocks the
#: keystore first: scrypt, about a second; generous for a busy machine).
SIGNER_READY_S = 60.0
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


def node_config(node: NodeFolder, config: NodeConfig) -> str:
    """The ``--node-config`` the SuperNode and the SuperExec get (hospital_node.settings): no keystore,
    no password, the signing agent's socket."""
    values: dict[str, object] = {
        "data-path": config.data,
        "schema-path": config.schema_path,
        "signer-socket": socket_path(node.folder),
        "rpc-url": config.rpc_url,
        "manifest": node.manifest,
        "proofs-dir": node.folder / "proofs",
    }
    return NodeSettings.model_validate(values).node_config_arg()


def commands(
    node: NodeFolder, config: NodeConfig, node_config_arg: str, port: int, password_file: Path | None
) -> dict[str, list[str]]:
    """The signing agent's, the SuperNode's and the SuperExec's command lines."""
    secret = f"--superexec-auth-secret-file={node.secret}"
    password = [f"--password-file={password_file.absolute()}"] if password_file is not None else []
    return {
        SIGNER: [
            _program("bcfl-signer"),
            f"--socket={socket_path(node.folder)}",
            f"--keystore={node.keystore}",
            f"--manifest={node.manifest}",
            *password,
        ],
        SUPERNODE: [
            _program("bcfl-supernode"),
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


def environment(node: NodeFolder) -> dict[str, str]:
    """The SuperNode's and the SuperExec's environment, minimal: PATH, HOME, locale, FLWR_HOME in the
    folder; never the keystore password."""
    env = {name: os.environ[name] for name in INHERITED if name in os.environ}
    # The SuperExec starts `flwr-clientapp` from PATH: this installation's programs come first, also
    # when bcfl was run by its full path without activating its environment.
    env["PATH"] = os.pathsep.join(p for p in (str(Path(sys.executable).parent), env.get("PATH")) if p)
    env["FLWR_HOME"] = str(node.folder / "flwr")
    env["FLWR_TELEMETRY_ENABLED"] = "0"
    env.update(SUPEREXEC_POLL)  # the SuperExec asks for tasks every 0.2 s, as in the demo
    return env


def signer_environment(node: NodeFolder, password_file: Path | None) -> dict[str, str]:
    """The signing agent's environment: the others', and the keystore password from this environment
    only when no password file is given (the one process that gets it)."""
    env = environment(node)
    if password_file is None:
        password = os.environ.get(PASSWORD_ENV, "")
        if not password:
            raise ProcessError(
                "the node's signing agent unlocks its keystore: "
                "pass --password-file or set BCFL_KEYSTORE_PASSWORD"
            )
        env[PASSWORD_ENV] = password
    return env


def prepare_signer(node: NodeFolder) -> None:
    """What the signing agent needs before it starts: its socket folder's parent (hospital_node.signer
    .location)."""
    prepare_socket_folder(socket_path(node.folder))


def wait_signer(
    node: NodeFolder,
    started: Callable[[], bool],
    reason: Callable[[], str],
    timeout_s: float = SIGNER_READY_S,
) -> None:
    """Wait until the signing agent answers on its socket; ``started`` says whether it still runs,
    ``reason`` what its output says (for the error)."""
    client = SignerClient(socket_path(node.folder), connect_timeout=1.0, reply_timeout=10.0)
    deadline = time.monotonic() + timeout_s
    while True:
        if not started():
            raise ProcessError(f"the signing agent stopped: {reason()}")
        try:
            client.identity()
            return
        except SignerUnavailableError:
            if time.monotonic() > deadline:
                raise ProcessError(
                    f"the signing agent did not answer on {client.socket_path} within {timeout_s:.0f} s: "
                    f"{reason()}"
                ) from None
            time.sleep(0.1)


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
