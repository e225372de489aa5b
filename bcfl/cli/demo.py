"""``bcfl demo``: run the local demo consortium and print where to look."""

from __future__ import annotations

import shutil
import signal
import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from bcfl.cli.common import clean_errors, console
from bcfl.demo.run import DemoRun, new_run_dir, start_demo


def demo(
    runs_dir: Annotated[Path, typer.Option(help="Where run directories are created.")] = Path("runs"),
    port: Annotated[int | None, typer.Option(help="Anvil port (default: a free one).")] = None,
    keep_running: Annotated[bool, typer.Option(help="Keep the chain up until Ctrl-C.")] = True,
) -> None:
    """Start a chain, deploy the consortium's contracts, and print the deployment."""
    console.print(
        "[yellow]demo: uses Anvil's PUBLIC dev keys (admin #0, coordinator #1); never reuse them[/]"
    )
    with clean_errors():
        run_dir = new_run_dir(runs_dir)
        with console.status("starting the demo consortium") as status:
            run = start_demo(run_dir, port, on_step=lambda step: status.update(step))
    try:
        console.print(_summary(run))
        console.print(f"run directory: [bold]{run.run_dir}[/]")
        bcfl = shutil.which("bcfl") or sys.argv[0]
        console.print(
            f"try: {bcfl} chain status --rpc-url {run.node.rpc_url} --manifest {run.manifest_path}",
            soft_wrap=True,
        )
        if keep_running:
            console.print("chain running; press Ctrl-C to stop (its state is saved in the run directory)")
            signal.signal(signal.SIGTERM, _interrupt)
            while run.node.running:
                time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        run.node.stop()
    console.print(f"stopped; chain state saved in {run.run_dir / 'chain' / 'state.json'}")


def _summary(run: DemoRun) -> Table:
    table = Table(
        "contract", "address", title=f"consortium on {run.node.rpc_url} (chain {run.manifest.chain_id})"
    )
    for name, record in run.manifest.contracts.items():
        table.add_row(name, record.address)
    return table


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt
