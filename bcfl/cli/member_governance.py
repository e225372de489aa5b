"""``bcfl member governance``: admin approval or k-of-n member approval of new hospitals."""

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
    """Set how membership requests are approved (admin)."""
    with clean_errors():
        admin = resolve_account(keystore, password_file, key_env, dev_account)
        registry = connect(rpc_url, manifest).registry
        registry.set_governance(admin, quorum > 0, quorum)
        enabled, current = registry.governance()
    console.print(f"governance: {f'{current} member approvals' if enabled else 'admin approval'}")
