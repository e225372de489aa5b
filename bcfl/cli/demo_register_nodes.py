"""``bcfl demo-register-nodes``: register the demo hospitals' node keys with the SuperLink (Control API).

Runnable as ``python -m bcfl.cli.demo_register_nodes`` (the compose file's one-shot ``register-nodes``);
the launcher calls the same function (bcfl.demo.node_registration). Safe to run again.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bcfl.cli.common import clean_errors, console, run_alone
from bcfl.demo.node_registration import register_node_keys
from bcfl.flower.control import ControlClient
from bcfl.flower.node_keys import NODE_KEY, load_node_key


def register_nodes(
    superlink: Annotated[str, typer.Option(help="The SuperLink's address (host:port): its Control API.")],
    root_certificates: Annotated[Path, typer.Option(help="The consortium's CA certificate.")],
    hospital: Annotated[list[str], typer.Option(help="A demo hospital (its folder under HOSPITALS_DIR).")],
    hospitals_dir: Annotated[
        Path, typer.Option(help="Where each hospital's folder (with its node key) is.")
    ] = Path("/data/hospitals"),
) -> None:
    """Register each demo hospital's node key with the SuperLink, so that its SuperNode is admitted."""
    if not root_certificates.is_file():
        raise typer.BadParameter(f"no CA certificate at {root_certificates}")
    with clean_errors():
        keys = {name: load_node_key(hospitals_dir / name / NODE_KEY) for name in hospital}
        with ControlClient(superlink, root_certificates) as control:
            node_ids = register_node_keys(control, keys)
    for name, node_id in node_ids.items():
        console.print(f"{name}: node key registered with the SuperLink as node {node_id}", soft_wrap=True)


def main() -> None:
    """Entry point for ``python -m bcfl.cli.demo_register_nodes``."""
    run_alone(register_nodes)


if __name__ == "__main__":
    main()
