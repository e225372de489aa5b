"""``bcfl chain start``: run a local Anvil chain that keeps its state in a file."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from bcfl.chain.anvil import AnvilNode
from bcfl.cli.common import clean_errors, console, stop_on_sigterm


def start(
    state: Annotated[
        Path, typer.Option(help="State file: loaded at start, saved every second and at exit.")
    ] = Path("runs/chain/state.json"),
    port: Annotated[int, typer.Option(help="Port to listen on (loopback).")] = 8545,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    chain_id: Annotated[int, typer.Option(help="Chain id.")] = 31337,
) -> None:
    """Start Anvil and keep it running until Ctrl-C; its history survives restarts."""
    with clean_errors():
        node = AnvilNode(
            host=host, port=port, chain_id=chain_id, state_path=state, log_path=state.with_suffix(".log")
        )
        node.start()
    console.print(f"anvil listening on [bold]{node.rpc_url}[/] (chain id {chain_id}), state in {state}")
    console.print("press Ctrl-C to stop")
    stop_on_sigterm()
    try:
        while node.running:
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        node.stop()
    console.print("anvil stopped; state saved")
