"""``bcfl node init``: a hospital's node folder: keys, config, pinned SuperLink CA, data checked."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

import typer

from bcfl.cli.common import Format, ManifestPath, OutputFormat, PasswordFileOpt, RpcUrl, emit
from bcfl.cli.node_common import NodeDir, keystore_password, node_errors
from bcfl.cli.settings import DEFAULTS
from bcfl.text import markup_escaped
from hospital_node.site.data import data_line
from hospital_node.site.provision import InitRequest, init_node


def init(
    folder: NodeDir,
    manifest: ManifestPath,
    data: Annotated[Path, typer.Option(help="The hospital's extract (CSV/Parquet, image folder or .npz).")],
    schema: Annotated[Path, typer.Option(help="The consortium's data schema (JSON).")],
    rpc_url: RpcUrl = DEFAULTS.rpc_url,
    superlink: Annotated[
        str | None,
        typer.Option(
            help="host:port of the SuperLink (default: the address the consortium published on chain)."
        ),
    ] = None,
    name: Annotated[
        str | None, typer.Option(help="Hospital name shown to the consortium (default: the folder's).")
    ] = None,
    ca_cert: Annotated[
        Path | None,
        typer.Option(help="The consortium CA's certificate, only if the SuperLink does not present it."),
    ] = None,
    password_file: PasswordFileOpt = None,
    fmt: Format = OutputFormat.table,
) -> None:
    """Make (or complete) a node folder; checks everything before writing anything, never overwrites a key."""
    with node_errors():
        password = keystore_password(password_file, confirm=not (folder / "keystore.json").exists())
        result = init_node(
            InitRequest(
                folder, manifest, rpc_url, data, schema, password, name, superlink, password_file, ca_cert
            )
        )
    emit({**asdict(result), "folder": str(result.folder)}, fmt, _render)


def _render(d: dict[str, Any]) -> str:
    lines = [f"[green]done:[/] {markup_escaped(line, limit=600)}" for line in d["done"]]
    lines.append(f"[green]data:[/] {data_line(d['data'])}")
    lines += [f"[yellow]warning:[/] {markup_escaped(line, limit=600)}" for line in d["warnings"]]
    lines.append(f"[bold]next:[/] {markup_escaped(d['next_step'], limit=600)}")
    return "\n".join(lines)
