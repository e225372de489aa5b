"""``bcfl node run``: the node's two processes in the foreground, for a container or a service manager.

The same checks and command lines as ``bcfl node start`` (hospital_node.site.lifecycle), but no
detached sessions, pid files or log files: both processes write to this command's output, SIGTERM or
SIGINT is passed to both, and when either stops the other is stopped too, so that the container
exits (and its restart policy applies) with the exit code of the one that stopped first.
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
    SUPEREXEC,
    SUPERNODE,
    ProcessError,
    commands,
    ensure_secret,
    free_local_port,
    node_config,
    running_pid,
)

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
GRACE_S = 15.0


def run_node(folder: Path, password_file: Path | None, announce: Callable[[str], None]) -> int:
    """Check, run the SuperNode and its SuperExec until either stops or a stop signal comes; the exit
    code of the one that stopped first (1 if it exited 0 or by a signal: the node is not running), 0 after
    a stop signal."""
    node = NodeFolder(folder)
    config = node.load()
    password_file = password_file or config.password_file
    if running_pid(node, SUPERNODE) is not None:
        raise ProcessError(
            f"the node runs already (`bcfl node start`): stop it first with `bcfl node stop {node.folder}`"
        )
    env = checked_environment(node, password_file)
    ensure_secret(node)
    lines = commands(node, config, node_config(node, config, password_file), free_local_port())
    children: dict[str, subprocess.Popen[bytes]] = {}
    try:
        for name in (SUPERNODE, SUPEREXEC):
            children[name] = subprocess.Popen(lines[name], stdin=subprocess.DEVNULL, env=env, cwd=node.folder)
    except OSError:
        _stop_all(list(children.values()))
        raise
    announce(
        f"checks passed: SuperNode (pid {children[SUPERNODE].pid}) and SuperExec "
        f"(pid {children[SUPEREXEC].pid}) running in the foreground, dialling {config.superlink}"
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
        announce("stopped both processes")
        return 0
    code = children[first].returncode
    announce(f"the {first} stopped (exit {code}): stopped the other one too")
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
