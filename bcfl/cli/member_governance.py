"""``bcfl member governance``: admin approval or k-of-n member approval of new hospitals and of
consortium decisions. The admin switches governance on; once it is on, only the members change it:
each runs the same command, and the approval that reaches the quorum also carries the change out."""

from __future__ import annotations

from typing import Annotated

import typer

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


def governance(
    manifest: ManifestPath,
    quorum: Annotated[int, typer.Option(help="Member approvals needed; 0 returns approval to the admin.")],
    rpc_url: RpcUrl = DEFAULTS.rpc_url,
    keystore: KeystoreOpt = None,
    password_file: PasswordFileOpt = None,
    key_env: KeyEnvOpt = None,
    dev_account: DevAccountOpt = None,
) -> None:
    """Set how requests and decisions are approved (the admin; in governance mode, the members)."""
    with clean_errors():
        account = resolve_account(keystore, password_file, key_env, dev_account)
        registry = connect(rpc_url, manifest).registry
        on, needed = registry.governance()
        if on:
            decision = registry.governance_decision(quorum > 0, quorum)
            if not registry.support(account, decision):
                approvals = registry.decision_approvals(decision)
                console.print(f"approved: {approvals} of {needed} member approvals for this change")
                return
        registry.set_governance(account, quorum > 0, quorum)
        enabled, current = registry.governance()
    console.print(f"governance: {f'{current} member approvals' if enabled else 'admin approval'}")
