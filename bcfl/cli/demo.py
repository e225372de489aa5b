"""``bcfl demo``: run the whole demo consortium locally and show what the ledger recorded."""

from __future__ import annotations

import ipaddress
import json
import socket
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress

from bcfl.chain.ledger import RoundStatus
from bcfl.cli.audit_context import audit_errors
from bcfl.cli.common import clean_errors, console, stop_on_sigterm
from bcfl.cli.demo_summary import print_summary
from bcfl.demo.consortia import CONSORTIA
from bcfl.demo.federation import FederationRun, start_federation
from bcfl.demo.rundir import new_run_dir
from bcfl.demo.settings import DemoSettingsError, load_demo_settings
from bcfl.demo.summary import INDEX_FILE, build_summary
from bcfl.text import markup_escaped


def demo(
    rounds: Annotated[
        int | None, typer.Option(help="Federated rounds to run (default: BCFL_ROUNDS in .env).", min=1)
    ] = None,
    consortium: Annotated[
        str | None,
        typer.Option(
            help=f"Demo consortium (default: BCFL_CONSORTIUM in .env): "
            f"{'; '.join(f'{c.name} = {c.description}' for c in CONSORTIA.values())}."
        ),
    ] = None,
    hospitals: Annotated[
        str | None,
        typer.Option(
            help="Comma-separated demo hospitals (default: BCFL_HOSPITALS in .env for its consortium, "
            "else all of the consortium's)."
        ),
    ] = None,
    runs_dir: Annotated[Path, typer.Option(help="Where run directories are created.")] = Path("runs"),
    keep_running: Annotated[
        bool, typer.Option(help="Keep the consortium and its dashboard up after the run, until Ctrl-C.")
    ] = False,
    insecure: Annotated[
        bool,
        typer.Option(
            "--insecure",
            help="For debugging only: run Flower without TLS and without SuperNode authentication "
            "(plain HTTP; any process that reaches the SuperLink's port can connect a node).",
        ),
    ] = False,
    public_host: Annotated[
        str,
        typer.Option(
            help="This machine's address on the network other hospitals' machines reach it on: the "
            "chain's RPC and the Fleet gateway listen there (and the certificate names it); the rest "
            "stays on 127.0.0.1. With --keep-running, a hospital can then join from its own machine "
            "(`bcfl node init`).",
            callback=check_public_host,
        ),
    ] = "127.0.0.1",
) -> None:
    """Start Anvil, deploy, onboard, run the dashboard and Flower's SuperLink, SuperExec and SuperNodes,
    and train."""
    try:
        settings = load_demo_settings()
    except DemoSettingsError as exc:
        raise typer.BadParameter(str(exc)) from None
    consortium = consortium or settings.consortium
    if consortium not in CONSORTIA:
        raise typer.BadParameter(f"unknown consortium {consortium!r}; choose one of {', '.join(CONSORTIA)}")
    demo_consortium = CONSORTIA[consortium]
    if hospitals:
        names = [n.strip() for n in hospitals.split(",") if n.strip()]
    elif consortium == settings.consortium:
        names = settings.hospital_names
    else:
        names = list(demo_consortium.hospitals)
    unknown = sorted(set(names) - set(demo_consortium.hospitals))
    if unknown or len(names) < 2:
        raise typer.BadParameter(
            f"choose at least two of {', '.join(demo_consortium.hospitals)} (unknown: {unknown})"
        )
    for variable, port in (
        ("BCFL_CHAIN_PORT", settings.chain_port),
        ("BCFL_SUPERLINK_PORT", settings.superlink_port),
        ("BCFL_DASHBOARD_PORT", settings.dashboard_port),
    ):
        if port and _in_use(port):
            raise typer.BadParameter(
                f"port {port} is in use; set {variable} (0 = any free port) in .env or the environment"
            )
    console.print(
        f"[yellow]demo: the admin and coordinator use Anvil's PUBLIC dev keys #{settings.demo_admin_key}"
        f" and #{settings.demo_coordinator_key}; never reuse them[/]"
    )
    if insecure:
        console.print("[yellow]--insecure: Flower runs without TLS and without node authentication[/]")
    stop_on_sigterm()
    run_dir = new_run_dir(runs_dir)
    run: FederationRun | None = None
    try:
        with clean_errors(), console.status("starting the consortium") as status:
            run = start_federation(
                run_dir,
                names,
                demo=demo_consortium,
                on_step=lambda step: status.update(step),
                chain_port=settings.chain_port,
                superlink_port=settings.superlink_port,
                admin_key=settings.demo_admin_key,
                coordinator_key=settings.demo_coordinator_key,
                dashboard_port=settings.dashboard_port,
                insecure=insecure,
                public_host=public_host,
                private=True,
            )
        console.print(
            f"consortium up: chain {run.node.rpc_url}, {len(run.hospitals)} hospitals, run in {run_dir}"
        )
        if run.ca_cert is not None:
            console.print(
                f"Flower over TLS (CA {run.ca_cert}); only registered node keys are admitted (the node "
                f"sync registers active members' published keys: {run.run_dir / 'logs' / 'node-sync.log'}); "
                f"the SuperLink's Control API is on {run.superlink} (this machine only)",
                soft_wrap=True,
            )
        if public_host != "127.0.0.1":
            console.print(
                f"other machines: chain {run.node.rpc_url}, manifest {run.manifest_path}; a hospital "
                f"joins with `bcfl node init DIR --manifest deployment.json --rpc-url "
                f"{run.node.rpc_url} ...` (docs/hospital-node.md)",
                soft_wrap=True,
            )
        until = "until Ctrl-C" if keep_running else "until the demo ends (--keep-running: until Ctrl-C)"
        console.print(f"dashboard: [bold]{run.dashboard_url}[/] (watch the rounds live; it serves {until})")
        wanted = rounds or settings.rounds
        code = _train(run, wanted)
        with audit_errors():
            summary = build_summary(run_dir, run.hospitals, run.consortium())
            finalized = _finalized_on_chain(run)
        (run_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
        print_summary(summary, console)
        # `flwr run --stream` exits 0 even when the ServerApp failed: the chain says how it ended.
        if code != 0 or finalized < wanted:
            console.print(
                f"[bold red]the run failed: flwr run exited {code}, {finalized} of {wanted} rounds "
                f"finalized on chain; see {run_dir / 'logs'}[/]"
            )
            raise typer.Exit(1)
        if not summary["clean"]:
            verdict = markup_escaped(summary["verdict"], 400)
            console.print(f"[bold red]the audit of the run failed:[/] {verdict}")
            raise typer.Exit(1)
        console.print(
            f"run directory: [bold]{run_dir}[/] (deployment.json, chain/state.json, models/, logs/; "
            "record.sha256 once stopped)"
        )
        if keep_running:
            console.print(f"consortium and dashboard ({run.dashboard_url}) running; press Ctrl-C to stop")
            while run.node.running:
                time.sleep(0.5)
    except KeyboardInterrupt:
        console.print("stopping")
    finally:
        if run is not None:
            run.stop()
    console.print(
        f"stopped (the dashboard too); check the record with `bcfl audit record {run_dir}`, and reopen the "
        f"chain read-only with `bcfl chain start --load-state {run_dir / 'chain' / 'state.json'}` to audit "
        f"it, or to look at it again with `bcfl dashboard --manifest {run_dir / 'deployment.json'} --store "
        f"{run_dir / 'models'} --index {run_dir / INDEX_FILE}`"
    )


def check_public_host(host: str) -> str:
    """An IP address of this machine (one a socket can listen on), or a one-line error."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        raise typer.BadParameter(
            f"{host!r} is not an IP address: give this machine's address, e.g. 10.0.0.5"
        ) from None
    try:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
            sock.bind((host, 0))
    except OSError:
        raise typer.BadParameter(
            f"{host} is not an address of this machine (`ip -brief address` lists them)"
        ) from None
    return host


def _in_use(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _train(run: FederationRun, rounds: int) -> int:
    process = run.flwr_process(rounds)
    journal = run.run_dir / "rounds.json"
    with Progress(console=console) as progress:
        task = progress.add_task("federated rounds (flwr run)", total=rounds)
        try:
            while process.poll() is None:
                progress.update(task, completed=_finalized(journal))
                time.sleep(0.5)
        except KeyboardInterrupt:
            process.terminate()
            raise
        progress.update(task, completed=_finalized(journal))
    return process.returncode


def _finalized_on_chain(run: FederationRun) -> int:
    """How many of the chain's rounds are finalized (the demo's chain is its own: all this run's)."""
    ledger = run.consortium().ledger
    return sum(
        1 for n in range(1, ledger.round_count() + 1) if ledger.get_round(n).status is RoundStatus.FINALIZED
    )


def _finalized(journal: Path) -> int:
    try:
        return sum(1 for r in json.loads(journal.read_text()) if "finalize_tx" in r)
    except (OSError, ValueError):
        return 0
