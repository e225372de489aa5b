"""``bcfl member approve|reject|suspend|reinstate``: act on a membership."""

from __future__ import annotations

from typing import Annotated

import typer

from bcfl.chain.registry import Registry
from bcfl.cli.common import (
    DevAccountOpt,
    KeyEnvOpt,
    KeystoreOpt,
    ManifestPath,
    PasswordFileOpt,
    RpcUrl,
    clean_errors,
    connect,
    console,
    resolve_account,
)

MemberId = Annotated[int, typer.Argument(help="Member id.")]
Reason = Annotated[str, typer.Option(help="Reason, recorded on chain.")]


def _act(
    rpc_url: str,
    manifest: ManifestPath,
    signer: tuple[KeystoreOpt, PasswordFileOpt, KeyEnvOpt, DevAccountOpt],
    action: str,
    member_id: int,
    *args: str,
) -> None:
    with clean_errors():
        account = resolve_account(*signer)
        registry: Registry = connect(rpc_url, manifest).registry
        getattr(registry, action)(account, member_id, *args)
        member = registry.member(member_id)
    console.print(f"member #{member_id} {member.name}: {member.status.name.lower()}")


def approve(
    member_id: MemberId,
    manifest: ManifestPath,
    rpc_url: RpcUrl = "http://127.0.0.1:8545",
    keystore: KeystoreOpt = None,
    password_file: PasswordFileOpt = None,
    key_env: KeyEnvOpt = None,
    dev_account: DevAccountOpt = None,
) -> None:
    """Approve a pending request (admin; or an active member's key in governance mode)."""
    _act(rpc_url, manifest, (keystore, password_file, key_env, dev_account), "approve", member_id)


def reject(
    member_id: MemberId,
    reason: Reason,
    manifest: ManifestPath,
    rpc_url: RpcUrl = "http://127.0.0.1:8545",
    keystore: KeystoreOpt = None,
    password_file: PasswordFileOpt = None,
    key_env: KeyEnvOpt = None,
    dev_account: DevAccountOpt = None,
) -> None:
    """Reject a pending request (admin)."""
    _act(rpc_url, manifest, (keystore, password_file, key_env, dev_account), "reject", member_id, reason)


def suspend(
    member_id: MemberId,
    reason: Reason,
    manifest: ManifestPath,
    rpc_url: RpcUrl = "http://127.0.0.1:8545",
    keystore: KeystoreOpt = None,
    password_file: PasswordFileOpt = None,
    key_env: KeyEnvOpt = None,
    dev_account: DevAccountOpt = None,
) -> None:
    """Suspend an active member (admin): it can no longer take part in rounds."""
    _act(rpc_url, manifest, (keystore, password_file, key_env, dev_account), "suspend", member_id, reason)


def reinstate(
    member_id: MemberId,
    manifest: ManifestPath,
    rpc_url: RpcUrl = "http://127.0.0.1:8545",
    keystore: KeystoreOpt = None,
    password_file: PasswordFileOpt = None,
    key_env: KeyEnvOpt = None,
    dev_account: DevAccountOpt = None,
) -> None:
    """Reinstate a suspended member (admin)."""
    _act(rpc_url, manifest, (keystore, password_file, key_env, dev_account), "reinstate", member_id)
