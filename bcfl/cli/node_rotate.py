"""``bcfl node rotate-key``: a new Flower node key for the hospital's node, recorded and published."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

import typer

from bcfl.chain.client import ChainClient
from bcfl.chain.consortium import Consortium
from bcfl.chain.keystore import load_keystore
from bcfl.chain.manifest import DeploymentManifest
from bcfl.cli.common import Format, OutputFormat, PasswordFileOpt, emit
from bcfl.cli.node_common import NodeDir, keystore_password, node_errors
from bcfl.text import markup_escaped
from hospital_node.site.config import NodeFolder
from hospital_node.site.rotation import refuse_running, rotate_node_key

NewOpt = Annotated[
    bool,
    typer.Option(
        "--new",
        help="Make a new key even though the SuperLink has not dropped the current one (e.g. it leaked).",
    ),
]


def rotate_key(
    folder: NodeDir,
    new: NewOpt = False,
    password_file: PasswordFileOpt = None,
    fmt: Format = OutputFormat.table,
) -> None:
    """Give the node a new Flower node key (after a reinstatement, or with --new when it leaked): the old
    one is kept as node.key.retired-<time>, the new one recorded and published on chain, signed by the
    hospital's key. Stop the node first; an interrupted run is finished by running it again."""
    with node_errors():
        node = NodeFolder(folder)
        config = node.load()
        refuse_running(node)  # before asking for the password
        consortium = Consortium.connect(
            ChainClient(config.rpc_url, retries=1), DeploymentManifest.load(node.manifest)
        )
        hospital = load_keystore(node.keystore, keystore_password(password_file or config.password_file))
        rotation = rotate_node_key(consortium, hospital, node, new=new)
    emit(asdict(rotation), fmt, _render)


def _render(d: dict[str, Any]) -> str:
    lines = [f"[green]done:[/] {markup_escaped(line, limit=600)}" for line in d["done"]]
    lines.append(markup_escaped(d["summary"], limit=600))
    lines.append(f"[bold]next:[/] {markup_escaped(d['next_step'], limit=600)}")
    return "\n".join(lines)
