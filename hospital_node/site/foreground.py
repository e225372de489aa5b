"""``bcfl node run``: the node's three processes in the foreground, for a container or a service
manager.

The same checks and command lines as ``bcfl node start`` (hospital_node.site.lifecycle), but no
detached sessions, pid files or log files: the signing agent starts first (the only one given the
keystore's password) and, once it answers, the SuperNode and its SuperExec; all write to this
command's output, SIGTERM or SIGINT is passed to all, and when any stops the others are stopped too,
so that the container exits (and its restart policy applies) with the exit code of the one that
stopped first.
"""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType

from hospital_node.site.config import NodeFolder
from hospital_node.site.lifecycle import checked_environment
from hospital_node.site.processes import (
    SIGNER,
    SUPEREXEC,
    SUPERNODE,
    ProcessError,
    commands,
    ensure_secret,
    environment,
    free_local_port,
    node_config,
    prepare_signer,
    running_pid,
    wait_signer,
)

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
GRACE_S = 15.0


def run_node(folder: Path, password_file: Path | None, announce: Callable[[str], None]) -> int:
    """Check, run the signing agent, the SuperNode and its SuperExec until one stops or a stop signal
    comes; the exit code of the one that stopped first (1 if it exited 0 or by a signal: the node is
    not running), 0 after a stop signal."""
    node = NodeFolder(folder)
    config = node.load()
    password_file = password_file or config.password_file
    if running_pid(node, SUPERNODE) is not None:
        raise ProcessError(
            f"the node runs already (`bcfl node start`): stop it first with `bcfl node stop {node.folder}`"
        )
    signer_env = checked_environment(node, password_file)
    env = environment(node)
    ensure_secret(node)
    lines = commands(node, config, node_config(node, config), free_local_port(), password_file)
    children: dict[str, subprocess.Popen[bytes]] = {}
    try:
        prepare_signer(node)
        signer = children[SIGNER] = subprocess.Popen(
            lines[SIGNER], stdin=subprocess.DEVNULL, env=signer_env, cwd=node.folder
        )
        wait_signer(node, lambda: signer.poll() is None, lambda: "see its output above")
        for name in (SUPERNODE, SUPEREXEC):
            children[name] = subprocess.Popen(lines[name], stdin=subprocess.DEVNULL, env=env, cwd=node.folder)
    except (OSError, ProcessError):
        _stop_all(list(children.values()))
        raise
    announce(
        f"checks passed: signing agent (pid {children[SIGNER].pid}), SuperNode "
        f"(pid {children[SUPERNODE].pid}) and SuperExec (pid {children[SUPEREXEC].pid}) running in the "
        f"foreground, dialling {config.superlink}"
    )
    stopping: list[int] = []

    def forward(signum: int, _frame: FrameType | None) -> None:
        stopping.append(signum)
        for child in children.values():
            if child.poll() is None:
                child.send_signal(signum)

    previous = {sig: signal.signal(sig, forward) for sig in STOP_SIGNALS}
    try:
        while not stopping and all(child.poll() is None for child in children.values()):
            time.sleep(0.2)
    finally:
        first = next((name for name, child in children.items() if child.returncode is not None), None)
        _stop_all(list(children.values()))
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if stopping or first is None:
        announce("stopped the node's processes")
        return 0
    code = children[first].returncode
    announce(f"the {first} stopped (exit {code}): stopped the others too")
    return code if code > 0 else 1


def _stop_all(children: list[subprocess.Popen[bytes]]) -> None:
    for child in children:
        if child.poll() is None:
            child.terminate()
    deadline = time.monotonic() + GRACE_S
    for child in children:
        try:
            child.wait(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
