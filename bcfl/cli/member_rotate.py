"""``bcfl member rotate``: replace a member's signing key (two steps) or its Flower node key's fingerprint."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from eth_account.signers.local import LocalAccount

from bcfl.chain.registry import Registry
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
    parse_address,
    parse_bytes32,
    resolve_account,
)
from bcfl.cli.settings import DEFAULTS

SIGNER_UNCHANGED_FLOWER = "unchanged: the Flower node key is not the signing key"


def propose_signer(
    registry: Registry, account: LocalAccount, member_id: int, new_signer: str
) -> dict[str, Any]:
    """Step 1: signed by the member's current key, or by the admin for a lost or stolen key."""
    if registry.signer_of(member_id) == account.address:
        registry.propose_key_rotation(account, new_signer)
        by = "the member's current key"
    else:
        registry.admin_propose_key_rotation(account, member_id, new_signer)
        by = "the admin"
    return {
        "member_id": member_id,
        "step": "proposed",
        "proposed_by": by,
        "new_signer": new_signer,
        "next": f"the new key accepts: `bcfl member rotate {member_id} --accept` signed by {new_signer} "
        f"(fund it first if it has no ether: `bcfl member fund {new_signer}`)",
        "flower_access": SIGNER_UNCHANGED_FLOWER,
    }


def accept_signer(registry: Registry, account: LocalAccount, member_id: int) -> dict[str, Any]:
    """Step 2: signed by the proposed key, which proves it is held."""
    registry.accept_key_rotation(account, member_id)
    return {
        "member_id": member_id,
        "step": "accepted",
        "new_signer": registry.signer_of(member_id),
        "next": "the hospital signs with its new key from now on; the old one is no longer the member's",
        "flower_access": SIGNER_UNCHANGED_FLOWER,
    }


def change_node_key(
    registry: Registry, account: LocalAccount, member_id: int, fingerprint: bytes
) -> dict[str, Any]:
    """Record a new node key fingerprint, signed by the (active) member's key."""
    if registry.signer_of(member_id) != account.address:
        raise typer.BadParameter(
            f"only member #{member_id}'s signing key records its node key; {account.address} is not it"
        )
    registry.update_node_key(account, fingerprint)
    return {
        "member_id": member_id,
        "step": "node key fingerprint recorded",
        "node_key_fingerprint": fingerprint,
        "next": "publish the new node key: `bcfl node join` (it republishes the key the fingerprint names); "
        "from a hospital's node folder, `bcfl node rotate-key DIR` makes, records and publishes a new key",
        "flower_access": "the node-sync service unregisters the old node key from the SuperLink, and "
        "registers the new one once it is published",
    }


def rotate(
    member_id: Annotated[int, typer.Argument(help="Member id.")],
    manifest: ManifestPath,
    new_signer: Annotated[
        str | None,
        typer.Option(
            help="Step 1 of a signing-key rotation: the new key's address (member's or admin's key signs)."
        ),
    ] = None,
    accept: Annotated[
        bool, typer.Option("--accept", help="Step 2: accept the rotation, signed by the NEW key.")
    ] = False,
    node_key_fingerprint: Annotated[
        str | None,
        typer.Option(help="0x-hex SHA-256 of a new Flower node public key (the member's key signs)."),
    ] = None,
    rpc_url: RpcUrl = DEFAULTS.rpc_url,
    keystore: KeystoreOpt = None,
    password_file: PasswordFileOpt = None,
    key_env: KeyEnvOpt = None,
    dev_account: DevAccountOpt = None,
    fmt: Format = OutputFormat.table,
) -> None:
    """Rotate a member's signing key, or its Flower node key's fingerprint.

    Signing key: --new-signer ADDRESS (the member's key, or the admin's for a lost or stolen one), then
    --accept signed by the new key; Flower access is unchanged. Node key: --node-key-fingerprint, signed
    by the member's key; the node-sync service unregisters the old node key at the SuperLink and
    registers the new one once `bcfl node join` published it."""
    with clean_errors():
        chosen = [new_signer is not None, accept, node_key_fingerprint is not None]
        if sum(chosen) != 1:
            raise typer.BadParameter("give exactly one of --new-signer, --accept or --node-key-fingerprint")
        new_address = parse_address(new_signer, "--new-signer")
        fingerprint = (
            parse_bytes32(node_key_fingerprint, "--node-key-fingerprint") if node_key_fingerprint else None
        )
        account = resolve_account(keystore, password_file, key_env, dev_account)
        registry = connect(rpc_url, manifest).registry
        registry.member(member_id)  # an unknown id fails here, by name
        if new_address is not None:
            report = propose_signer(registry, account, member_id, new_address)
        elif accept:
            report = accept_signer(registry, account, member_id)
        else:
            assert fingerprint is not None
            report = change_node_key(registry, account, member_id, fingerprint)
    emit(report, fmt, _line)


def _line(report: dict[str, Any]) -> str:
    return (
        f"member #{report['member_id']}: {report['step']}\nnext: {report['next']}\n"
        f"Flower access: {report['flower_access']}"
    )
