"""``bcfl member governance``: admin approval or k-of-n member approval of new hospitals and of
consortium decisions. The admin switches governance on; once it is on, only the members change it:
each runs the same command, and the approval that reaches the quorum also carries the change out."""

from __future__ import annotations

from typing import Annotated, Any

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
    resolve_account,
)
from bcfl.cli.settings import DEFAULTS


def governance(
    manifest: ManifestPath,
    quorum: Annotated[int, typer.Option(help="Member approvals needed; 0 returns approval to the admin.")],
    rpc_url: RpcUrl = DEFAULTS.rpc_url,
    keystore: KeystoreOpt = None,
    password_file: PasswordFileOpt = None,
    key_env: KeyEnvOpt = None,
    dev_account: DevAccountOpt = None,
    fmt: Format = OutputFormat.table,
) -> None:
    """Set how requests and decisions are approved (the admin; in governance mode, the members)."""
    with clean_errors():
        account = resolve_account(keystore, password_file, key_env, dev_account)
        registry = connect(rpc_url, manifest).registry
        short = registry.shortfall(account, lambda: registry.governance_decision(quorum > 0, quorum))
        if short is not None:
            approvals, needed = short
            emit({"changed": False, "approvals": approvals, "needed": needed}, fmt, _line)
            return
        registry.set_governance(account, quorum > 0, quorum)
        enabled, current = registry.governance()
    emit({"changed": True, "governance": enabled, "quorum": current}, fmt, _line)


def _line(data: dict[str, Any]) -> str:
    if not data["changed"]:
        return f"approved: {data['approvals']} of {data['needed']} member approvals for this change"
    if data["governance"]:
        return f"governance: {data['quorum']} member approvals"
    return "governance: admin approval"
