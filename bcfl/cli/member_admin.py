"""``bcfl member approve|reject|suspend|reinstate``: act on a membership, one shape for all four; each
says what it did to the hospital's Flower access (bcfl.cli.member_access)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
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
    resolve_account,
)
from bcfl.cli.member_access import member_report
from bcfl.cli.settings import DEFAULTS
from bcfl.text import markup_escaped

MemberId = Annotated[int, typer.Argument(help="Member id (`bcfl member list` or `pending`).")]
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
        "Approve a pending request (the admin; in governance mode, each active member's key is one vote "
        "toward the quorum). Flower: once active, its published node key gets registered with the "
        "SuperLink by the node-sync service, and its SuperNode takes part from the next round.",
        lambda registry, account, member_id, _reason: registry.approve(account, member_id),
        needs_reason=False,
    ),
    "reject": MemberAction(
        "Reject a pending request (admin). Flower: its node key is never registered.",
        lambda registry, account, member_id, reason: registry.reject(account, member_id, reason),
        needs_reason=True,
    ),
    "suspend": MemberAction(
        "Suspend an active member (admin). Flower: its node key is unregistered from the SuperLink, so "
        "Flower refuses its SuperNode within seconds, and the contract refuses its updates.",
        lambda registry, account, member_id, reason: registry.suspend(account, member_id, reason),
        needs_reason=True,
    ),
    "reinstate": MemberAction(
        "Reinstate a suspended member (admin). Flower: an unregistered node key can never be registered "
        "again at the SuperLink, so the hospital makes a new node key and publishes it "
        "(`bcfl node rotate-key DIR`).",
        lambda registry, account, member_id, _reason: registry.reinstate(account, member_id),
        needs_reason=False,
    ),
}


def render(report: dict[str, Any]) -> str:
    """``member #3 St Mary: active (2 of 2 approvals). Flower access: …``."""
    votes = f" ({report['approvals']} of {report['quorum']} approvals)" if report["governance"] else ""
    name = markup_escaped(report["name"])
    return (
        f"member #{report['member_id']} {name}: {report['status']}{votes}\n"
        f"Flower access: {report['flower_access']}"
    )


def command(name: str) -> Callable[..., None]:
    """The Typer command for one membership action of ``ACTIONS``."""
    action = ACTIONS[name]

    def act(
        member_id: int,
        reason: str,
        manifest: Path,
        rpc_url: str,
        signer: tuple[Path | None, Path | None, str | None, int | None],
        fmt: OutputFormat,
    ) -> None:
        with clean_errors():
            account = resolve_account(*signer)
            registry = connect(rpc_url, manifest).registry
            action.call(registry, account, member_id, reason)
            report = member_report(registry, member_id, reinstated=name == "reinstate")
        emit(report, fmt, render)

    def with_reason(
        member_id: MemberId,
        reason: Reason,
        manifest: ManifestPath,
        rpc_url: RpcUrl = DEFAULTS.rpc_url,
        keystore: KeystoreOpt = None,
        password_file: PasswordFileOpt = None,
        key_env: KeyEnvOpt = None,
        dev_account: DevAccountOpt = None,
        fmt: Format = OutputFormat.table,
    ) -> None:
        act(member_id, reason, manifest, rpc_url, (keystore, password_file, key_env, dev_account), fmt)

    def without_reason(
        member_id: MemberId,
        manifest: ManifestPath,
        rpc_url: RpcUrl = DEFAULTS.rpc_url,
        keystore: KeystoreOpt = None,
        password_file: PasswordFileOpt = None,
        key_env: KeyEnvOpt = None,
        dev_account: DevAccountOpt = None,
        fmt: Format = OutputFormat.table,
    ) -> None:
        act(member_id, "", manifest, rpc_url, (keystore, password_file, key_env, dev_account), fmt)

    chosen = with_reason if action.needs_reason else without_reason
    chosen.__doc__ = action.doc
    return chosen
