"""``bcfl member request``: a hospital asks to join the consortium with its own key."""

from __future__ import annotations

from typing import Annotated

import typer

from bcfl.cli.common import (
    DevAccountOpt,
    Format,
    KeyEnvOpt,
    KeystoreOpt,
    ManifestPath,
    OutputFormat,
    PasswordFileOpt,
    RpcUrl,
    clean_errors,
    connect,
    emit,
    parse_bytes32,
    resolve_account,
)
from bcfl.cli.settings import DEFAULTS
from bcfl.text import markup_escaped


def request(
    name: Annotated[str, typer.Option(help="Hospital name shown to the consortium.")],
    manifest: ManifestPath,
    node_key_fingerprint: Annotated[
        str, typer.Option(help="0x-hex SHA-256 of the Flower node's public key.")
    ] = ("0x" + "00" * 32),
    metadata_uri: Annotated[str, typer.Option(help="Contact or data-description URI.")] = "",
    rpc_url: RpcUrl = DEFAULTS.rpc_url,
    keystore: KeystoreOpt = None,
    password_file: PasswordFileOpt = None,
    key_env: KeyEnvOpt = None,
    dev_account: DevAccountOpt = None,
    fmt: Format = OutputFormat.table,
) -> None:
    """Request membership; the admin (or a quorum of members) then approves it.

    Flower: the hospital's SuperNode is refused until the request is approved."""
    with clean_errors():
        fingerprint = parse_bytes32(node_key_fingerprint, "--node-key-fingerprint")
        hospital = resolve_account(keystore, password_file, key_env, dev_account)
        member_id = connect(rpc_url, manifest).registry.request_membership(
            hospital, name, fingerprint, metadata_uri
        )
    data = {
        "member_id": member_id,
        "signer": hospital.address,
        "name": name,
        "status": "pending",
        "flower_access": "none until the request is approved: the SuperLink refuses its SuperNode",
    }
    emit(
        data,
        fmt,
        lambda d: (
            f"requested membership #{d['member_id']} for {markup_escaped(d['name'])} ({d['signer']}): "
            f"pending\nFlower access: {d['flower_access']}"
        ),
    )
