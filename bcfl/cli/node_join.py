"""``bcfl node join``: the hospital's membership request with its node key, and where it stands."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from bcfl.chain.client import ChainClient
from bcfl.chain.consortium import Consortium
from bcfl.chain.keystore import load_keystore
from bcfl.chain.manifest import DeploymentManifest
from bcfl.cli.common import Format, OutputFormat, PasswordFileOpt, emit
from bcfl.cli.node_common import NodeDir, keystore_password, node_errors
from bcfl.flower.node_keys import load_node_key
from bcfl.text import markup_escaped
from hospital_node.site.config import NodeFolder
from hospital_node.site.membership import join as join_consortium


def join(folder: NodeDir, password_file: PasswordFileOpt = None, fmt: Format = OutputFormat.table) -> None:
    """Ask to join (once) with the node key, then show the request's status; run again to follow it."""
    with node_errors():
        node = NodeFolder(folder)
        config = node.load()
        consortium = Consortium.connect(
            ChainClient(config.rpc_url, retries=1), DeploymentManifest.load(node.manifest)
        )
        hospital = load_keystore(node.keystore, keystore_password(password_file or config.password_file))
        status = join_consortium(
            consortium, hospital, load_node_key(node.node_key), config.name, str(node.folder)
        )
    emit(asdict(status), fmt, _render)


def _render(d: dict[str, Any]) -> str:
    lines = [f"[green]done:[/] {markup_escaped(line, limit=600)}" for line in d["sent"]]
    state = d["status"]
    if state == "pending":
        waiting = "the admin's approval" if d["approver"] == "the admin" else d["approver"]
        state = f"pending ({d['approvals']} approvals so far; waiting for {waiting})"
    key = "published on chain" if d["node_key_published"] else "not published"
    lines.append(
        f"membership #{d['member_id']} ({markup_escaped(d['name'])}, {d['address']}): {state}; node key {key}"
    )
    if d["next_step"]:
        lines.append(f"[bold]next:[/] {markup_escaped(d['next_step'], limit=600)}")
    return "\n".join(lines)
