"""``bcfl node start`` / ``stop``: the hospital's signing agent, SuperNode and SuperExec, detached, with
logs; ``bcfl node run``: the same three in the foreground (a container's command)."""

from __future__ import annotations

from typing import Annotated

import typer

from bcfl.cli.common import Format, OutputFormat, PasswordFileOpt, emit, err_console
from bcfl.cli.node_common import NodeDir, node_errors
from bcfl.text import markup_escaped
from hospital_node.site.foreground import run_node
from hospital_node.site.lifecycle import start_node, stop_node

WaitOpt = Annotated[float, typer.Option("--wait", help="Seconds to wait for the SuperNode to connect.")]


def start(
    folder: NodeDir,
    password_file: PasswordFileOpt = None,
    wait: WaitOpt = 120.0,
    fmt: Format = OutputFormat.table,
) -> None:
    """Run the quick checks, start the signing agent (the one process that reads the keystore's
    password), then the SuperNode (TLS, node key) and its SuperExec; wait until connected."""
    with node_errors():
        started = start_node(folder, password_file, wait)
    data = {
        "already_running": started.already,
        "signer_pid": started.signer.pid,
        "supernode_pid": started.supernode.pid,
        "superexec_pid": started.superexec.pid,
        "logs": str(started.log_dir),
    }
    emit(
        data,
        fmt,
        lambda d: (
            f"{'already running' if d['already_running'] else 'started and connected to the SuperLink'}: "
            f"signing agent pid {d['signer_pid']}, SuperNode pid {d['supernode_pid']}, "
            f"SuperExec pid {d['superexec_pid']}; logs in {d['logs']}\n"
            f"[bold]next:[/] it takes part in the consortium's rounds; `bcfl node stop {folder}` stops it"
        ),
    )


def stop(folder: NodeDir, fmt: Format = OutputFormat.table) -> None:
    """Stop the node's SuperExec, SuperNode and signing agent (SIGTERM, then SIGKILL); nothing to do if
    not running."""
    with node_errors():
        stopped = stop_node(folder)
    emit(
        {"stopped": {name: pid for name, pid in stopped.items() if pid is not None}},
        fmt,
        lambda d: (
            "stopped " + ", ".join(f"{name} (pid {pid})" for name, pid in d["stopped"].items())
            if d["stopped"]
            else "the node was not running"
        ),
    )


def run(folder: NodeDir, password_file: PasswordFileOpt = None) -> None:
    """Run the quick checks, then the signing agent, the SuperNode and its SuperExec in the foreground
    (a container's command): their output on this one, SIGTERM stops all three, any one stopping stops
    the others."""
    with node_errors():
        code = run_node(
            folder, password_file, lambda line: err_console.print(markup_escaped(line, limit=600))
        )
    raise typer.Exit(code)
