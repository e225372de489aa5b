"""``bcfl member approve|reject|suspend|reinstate``: act on a membership, one shape for all four."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

import typer
from eth_account.signers.local import LocalAccount

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
from bcfl.cli.settings import DEFAULTS
from bcfl.text import markup_escaped

MemberId = Annotated[int, typer.Argument(help="Member id.")]
Reason = Annotated[str, typer.Option(help="Reason, recorded on chain.")]
Action = Callable[[Registry, LocalAccount, int, str], object]


@dataclass(frozen=True)
class MemberAction:
    """One membership action: its help text, its registry call and whether it records a reason."""

    doc: str
    call: Action
    needs_reason: bool


ACTIONS: dict[str, MemberAction] = {
    "approve": MemberAction(
        "Approve a pending request (admin; or an active member's key in governance mode).",
        lambda registry, account, member_id, _reason: registry.approve(account, member_id),
        needs_reason=False,
    ),
    "reject": MemberAction(
        "Reject a pending request (admin).",
        lambda registry, account, member_id, reason: registry.reject(account, member_id, reason),
        needs_reason=True,
    ),
    "suspend": MemberAction(
        "Suspend an active member (admin): it can no longer take part in rounds.",
        lambda registry, account, member_id, reason: registry.suspend(account, member_id, reason),
        needs_reason=True,
    ),
    "reinstate": MemberAction(
        "Reinstate a suspended member (admin).",
        lambda registry, account, member_id, _reason: registry.reinstate(account, member_id),
        needs_reason=False,
    ),
}


def command(name: str) -> Callable[..., None]:
    """The Typer command for one membership action of ``ACTIONS``."""
    action = ACTIONS[name]

    def act(
        member_id: MemberId,
        reason: str,
        manifest: ManifestPath,
        rpc_url: RpcUrl,
        signer: tuple[KeystoreOpt, PasswordFileOpt, KeyEnvOpt, DevAccountOpt],
    ) -> None:
        with clean_errors():
            account = resolve_account(*signer)
            registry = connect(rpc_url, manifest).registry
            action.call(registry, account, member_id, reason)
            member = registry.member(member_id)
        console.print(f"member #{member_id} {markup_escaped(member.name)}: {member.status.name.lower()}")

    def with_reason(
        member_id: MemberId,
        reason: Reason,
        manifest: ManifestPath,
        rpc_url: RpcUrl = DEFAULTS.rpc_url,
        keystore: KeystoreOpt = None,
        password_file: PasswordFileOpt = None,
        key_env: KeyEnvOpt = None,
        dev_account: DevAccountOpt = None,
    ) -> None:
        act(member_id, reason, manifest, rpc_url, (keystore, password_file, key_env, dev_account))

    def without_reason(
        member_id: MemberId,
        manifest: ManifestPath,
        rpc_url: RpcUrl = DEFAULTS.rpc_url,
        keystore: KeystoreOpt = None,
        password_file: PasswordFileOpt = None,
        key_env: KeyEnvOpt = None,
        dev_account: DevAccountOpt = None,
    ) -> None:
        act(member_id, "", manifest, rpc_url, (keystore, password_file, key_env, dev_account))

    chosen = with_reason if action.needs_reason else without_reason
    chosen.__doc__ = action.doc
    return chosen
