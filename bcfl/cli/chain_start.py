"""``bcfl chain start``: run a local Anvil chain that keeps its state in a file, or that reads a
finished run's state without ever writing it (``--load-state``, for auditors)."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Annotated

import typer

from bcfl.chain.anvil import AnvilNode, check_state_file
from bcfl.cli.common import clean_errors, console, stop_on_sigterm

DEFAULT_STATE = Path("runs/chain/state.json")


def start(
    state: Annotated[
        Path | None,
        typer.Option(
            help=f"State file: loaded at start, saved every second and at exit (default {DEFAULT_STATE}). "
            "Never on a finished run's state: use --load-state."
        ),
    ] = None,
    load_state: Annotated[
        Path | None,
        typer.Option(
            "--load-state",
            help="Start from this saved state and never write it (read-only: for auditing a finished run; "
            "what happens on the chain is discarded at exit).",
        ),
    ] = None,
    port: Annotated[int, typer.Option(help="Port to listen on (loopback).")] = 8545,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    chain_id: Annotated[int, typer.Option(help="Chain id.")] = 31337,
) -> None:
    """Start Anvil and keep it running until Ctrl-C; its history survives restarts."""
    if state is not None and load_state is not None:
        raise typer.BadParameter(
            "give --state (a chain to keep) or --load-state (evidence to read), not both"
        )
    with clean_errors():
        if load_state is not None:
            check_state_file(load_state)
            # The log goes to a temporary file: nothing is written beside the evidence.
            log = Path(tempfile.mkstemp(prefix="bcfl-anvil-", suffix=".log")[1])
            node = AnvilNode(host=host, port=port, chain_id=chain_id, load_state=load_state, log_path=log)
        else:
            state = state or DEFAULT_STATE
            node = AnvilNode(
                host=host, port=port, chain_id=chain_id, state_path=state, log_path=state.with_suffix(".log")
            )
        node.start()
    if load_state is not None:
        console.print(
            f"anvil listening on [bold]{node.rpc_url}[/] (chain id {chain_id}), read-only from {load_state}"
            f" (log {node.log_path})"
        )
    else:
        console.print(f"anvil listening on [bold]{node.rpc_url}[/] (chain id {chain_id}), state in {state}")
    console.print("press Ctrl-C to stop")
    stop_on_sigterm()
    try:
        while node.running:
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        saved = node.stop()
    if load_state is not None:
        console.print(f"anvil stopped; {load_state} untouched, this session's transactions discarded")
    elif saved:
        console.print(f"anvil stopped; state saved in {state}")
    else:
        console.print(f"anvil stopped; its last state could NOT be saved: {state} holds the one before")
