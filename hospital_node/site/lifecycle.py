"""``bcfl node start`` and ``stop``: the doctor's quick checks, the signing agent (the only process
that reads the keystore's password), then the SuperNode and its SuperExec, and the wait until the
SuperNode is connected (or its log's reason why not, in words)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from bcfl.chain.keystore import PASSWORD_ENV, read_password
from hospital_node.site.config import NodeFolder
from hospital_node.site.doctor import failed
from hospital_node.site.preflight import doctor
from hospital_node.site.processes import (
    SIGNER,
    SUPEREXEC,
    SUPERNODE,
    ProcessError,
    Running,
    commands,
    ensure_secret,
    environment,
    free_local_port,
    launch,
    node_config,
    prepare_signer,
    running_pid,
    signer_environment,
    stop_process,
    wait_signer,
)

CONNECTED = "SuperNode ID:"
#: Log phrases of a SuperNode that gave up, and what they mean to the hospital's IT.
REASONS = (
    (
        "Failed to activate SuperNode",
        "the SuperLink does not know this node's key (yet, or any more: a suspended member's key is "
        "unregistered for good): `bcfl node doctor` says which",
    ),
    (
        "CERTIFICATE_VERIFY_FAILED",
        "the SuperLink's certificate does not verify against the pinned CA: run `bcfl node doctor`",
    ),
    ("Unable to parse the private key", "the node key cannot be read by Flower: run `bcfl node doctor`"),
)


class StartRefusedError(ProcessError):
    """A quick check failed, so nothing was started."""


@dataclass(frozen=True)
class Started:
    """The running node."""

    signer: Running
    supernode: Running
    superexec: Running
    already: bool
    log_dir: Path


def start_node(folder: Path, password_file: Path | None, wait_s: float) -> Started:
    """Check, start the signing agent, then the SuperNode and its SuperExec, and wait until the
    SuperNode is connected."""
    node = NodeFolder(folder)
    config = node.load()
    password_file = password_file or config.password_file
    pid, node_pid, exec_pid = (running_pid(node, name) for name in (SIGNER, SUPERNODE, SUPEREXEC))
    if pid is not None and node_pid is not None and exec_pid is not None:
        return Started(
            Running(SIGNER, pid, node.logs / f"{SIGNER}.log"),
            Running(SUPERNODE, node_pid, node.logs / f"{SUPERNODE}.log"),
            Running(SUPEREXEC, exec_pid, node.logs / f"{SUPEREXEC}.log"),
            True,
            node.logs,
        )
    signer_env = checked_environment(node, password_file)
    env = environment(node)
    ensure_secret(node)
    stop_node(folder)  # what is left of an earlier start (one of them died): all start afresh
    lines = commands(node, config, node_config(node, config), free_local_port(), password_file)
    offset, signer_offset = _size(node.logs / f"{SUPERNODE}.log"), _size(node.logs / f"{SIGNER}.log")
    prepare_signer(node)
    signer = launch(node, SIGNER, lines[SIGNER], signer_env)
    try:
        wait_signer(
            node,
            lambda: running_pid(node, SIGNER) is not None,
            lambda: f"{_last_line(_tail(signer.log, signer_offset))} (log: {signer.log})",
        )
        supernode = launch(node, SUPERNODE, lines[SUPERNODE], env)
        superexec = launch(node, SUPEREXEC, lines[SUPEREXEC], env)
        _wait_connected(node, supernode, superexec, offset, wait_s)
    except ProcessError:
        stop_node(folder)
        raise
    return Started(signer, supernode, superexec, False, node.logs)


def checked_environment(node: NodeFolder, password_file: Path | None) -> dict[str, str]:
    """The signing agent's environment, once the doctor's quick checks passed (else nothing is
    started)."""
    env = signer_environment(node, password_file)
    report = doctor(node.folder, read_password(password_file, PASSWORD_ENV), quick=True)
    bad = failed(report)
    if bad:
        first = bad[0]
        more = f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""
        raise StartRefusedError(
            f"not starting: {first.name}: {first.detail}{more}; "
            f"`bcfl node doctor {node.folder}` lists every check"
        )
    return env


def stop_node(folder: Path) -> dict[str, int | None]:
    """Stop the SuperExec, the SuperNode, then the signing agent; the pid each had (None: was not
    running)."""
    node = NodeFolder(folder)
    node.load()  # a folder that is not a node's is named as such
    return {name: stop_process(node, name) for name in (SUPEREXEC, SUPERNODE, SIGNER)}


def _wait_connected(
    node: NodeFolder, supernode: Running, superexec: Running, offset: int, wait_s: float
) -> None:
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        text = _tail(supernode.log, offset)
        if CONNECTED in text:
            return
        if running_pid(node, SUPERNODE) is None:
            raise ProcessError(f"the SuperNode stopped: {_reason(text)} (log: {supernode.log})")
        if running_pid(node, SUPEREXEC) is None:
            reason = _last_line(_tail(superexec.log, 0))
            raise ProcessError(f"the node's SuperExec stopped: {reason} (log: {superexec.log})")
        time.sleep(0.2)
    raise ProcessError(
        f"the SuperNode did not connect within {wait_s:.0f} s: {_last_line(_tail(supernode.log, offset))} "
        f"(log: {supernode.log}); stopped it"
    )


def _reason(text: str) -> str:
    for phrase, meaning in REASONS:
        if phrase in text:
            return meaning
    return _last_line(text)


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1][:300] if lines else "nothing in its log"


def _size(path: Path) -> int:
    return path.stat().st_size if path.exists() else 0


def _tail(path: Path, offset: int) -> str:
    try:
        with open(path, "rb") as handle:
            handle.seek(offset)
            return handle.read().decode("utf-8", "replace")
    except OSError:
        return ""
