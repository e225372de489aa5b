"""``bcfl superlink sync-nodes``: the SuperLink admits exactly the active members' published node keys.

A thin command over bcfl.flower.node_sync (the rules) and bcfl.flower.node_follower (``--follow``: the
long-running service the demo and the compose file run). It reads the chain and talks to the
SuperLink's Control API, which is reachable only inside the coordinator's network; it sends no
transaction and needs no key.
"""

from __future__ import annotations

import json
import signal
import threading
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Annotated

import typer

from bcfl.cli.common import (
    Format,
    ManifestPath,
    OutputFormat,
    RpcUrl,
    clean_errors,
    connect,
    console,
    host_port,
)
from bcfl.cli.settings import DEFAULTS, envvar
from bcfl.flower.control import ControlClient
from bcfl.flower.files import write_public
from bcfl.flower.node_follower import FollowSettings, follow, reconcile
from bcfl.flower.node_sync import NodeControl, SyncResult

superlink_app = typer.Typer(
    help="The coordinator's SuperLink: which hospitals' SuperNodes it admits.", no_args_is_help=True
)


def render(result: SyncResult) -> str:
    """What a reconciliation did, one line each."""
    lines = [f"block {result.block}:"]
    lines += [f"  registered member #{c.member_id} ({c.name}) as node {c.node_id}" for c in result.registered]
    lines += [
        f"  unregistered member #{c.member_id} ({c.name}) node {c.node_id}: {c.reason}"
        for c in result.unregistered
    ]
    lines += [f"  admitted already: member #{c.member_id} ({c.name}) node {c.node_id}" for c in result.kept]
    if result.unknown:
        nodes = ", ".join(map(str, result.unknown))
        lines.append(f"  not on chain, left alone: node {nodes} (registered by hand at the SuperLink)")
    lines += [f"  problem: {p.message}" for p in result.problems]
    if len(lines) == 1:
        lines.append("  no member has published a node key yet")
    return "\n".join(lines)


def _show(result: SyncResult, fmt: OutputFormat) -> None:
    if fmt is OutputFormat.json:
        typer.echo(json.dumps(result.to_json()))
    else:
        console.print(render(result), soft_wrap=True, markup=False, highlight=False)


@superlink_app.command("sync-nodes")
def sync_nodes(
    manifest: ManifestPath,
    root_certificates: Annotated[
        Path,
        typer.Option(help="The consortium's CA certificate (the SuperLink's TLS is checked against it)."),
    ],
    superlink: Annotated[
        str,
        typer.Option(
            envvar=envvar("superlink"),
            help="The SuperLink's own address (host:port, its Control API; not the Fleet gateway).",
            callback=host_port,
        ),
    ] = DEFAULTS.superlink,
    rpc_url: RpcUrl = DEFAULTS.rpc_url,
    follow_chain: Annotated[
        bool, typer.Option("--follow", help="Keep following the registry (a service); stop with SIGTERM.")
    ] = False,
    interval: Annotated[
        float, typer.Option(help="--follow: seconds between looks at the chain.", min=0.1)
    ] = 2.0,
    resync: Annotated[
        float, typer.Option(help="--follow: reconcile at least this often (seconds), events or not.", min=1)
    ] = 30.0,
    ready_file: Annotated[
        Path | None, typer.Option(help="--follow: a file written once the first reconciliation is done.")
    ] = None,
    fmt: Format = OutputFormat.table,
) -> None:
    """Register the node keys of active members at the SuperLink and unregister those of suspended,
    rejected or rotated-out ones, as the registry says. Exit 2 if a member has a problem (listed)."""
    if not root_certificates.is_file():
        raise typer.BadParameter(
            f"no CA certificate at {root_certificates}", param_hint="--root-certificates"
        )

    def control() -> AbstractContextManager[NodeControl]:
        return ControlClient(superlink, root_certificates)

    with clean_errors():
        registry = connect(rpc_url, manifest).registry
        if not follow_chain:
            result = reconcile(registry, control)
            _show(result, fmt)
            if result.problems:
                raise typer.Exit(2)
            return
    if ready_file is not None:
        ready_file.unlink(missing_ok=True)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda _signum, _frame: stop.set())

    def on_result(result: SyncResult) -> None:
        if ready_file is not None and not ready_file.exists():
            write_public(ready_file, f"{result.block}\n".encode())
        _show(result, fmt)

    console.print(f"following the registry; SuperLink {superlink}", soft_wrap=True)
    follow(registry, control, stop, on_result, FollowSettings(interval, resync))
    console.print("stopped", soft_wrap=True)
