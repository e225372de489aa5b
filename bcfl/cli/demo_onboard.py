"""``bcfl demo-onboard``: onboard the demo hospitals of ``docker compose up``; safe to run again.

Also runnable as ``python -m bcfl.cli.demo_onboard`` (the compose file does so).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bcfl.chain.devkeys import dev_account as public_dev_account
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
from bcfl.demo.compose import onboard_hospital, prepare_coordinator_key


def onboard(
    manifest: ManifestPath,
    hospital: Annotated[
        list[str], typer.Option("--hospital", help="A demo hospital (its folder under HOSPITALS_DIR).")
    ],
    hospitals_dir: Annotated[
        Path, typer.Option(help="Where each hospital's own folder (its own volume) is.")
    ] = Path("/data/hospitals"),
    coordinator_dir: Annotated[
        Path | None,
        typer.Option(help="Also put the coordinator's keystore here (Anvil's PUBLIC dev key, demo only)."),
    ] = None,
    coordinator_dev_account: Annotated[
        int, typer.Option(help="Anvil PUBLIC dev key index of the coordinator (demo only).")
    ] = 1,
    rpc_url: RpcUrl = "http://127.0.0.1:8545",
    keystore: KeystoreOpt = None,
    password_file: PasswordFileOpt = None,
    key_env: KeyEnvOpt = None,
    dev_account: DevAccountOpt = None,
) -> None:
    """Give each demo hospital its data, its own encrypted key and an approved membership.

    The signing key options are the admin's (it funds the new keys and approves). Whatever already
    exists (data, keystore, membership, approval) is reused, so a restarted stack is not re-onboarded.
    """
    with clean_errors():
        consortium = connect(rpc_url, manifest)
        admin = resolve_account(keystore, password_file, key_env, dev_account)
        for name in hospital:
            site = onboard_hospital(consortium, admin, hospitals_dir, name)
            done = "; ".join(site.actions) if site.actions else "already onboarded, nothing to do"
            console.print(
                f"{site.name}: member #{site.member_id} ({site.address}) active: {done}", soft_wrap=True
            )
        if coordinator_dir is not None:
            key = bytes(public_dev_account(coordinator_dev_account).key)
            address, created = prepare_coordinator_key(consortium, coordinator_dir, key)
            state = "keystore created" if created else "keystore already there"
            index = coordinator_dev_account
            console.print(
                f"coordinator {address} (Anvil PUBLIC dev key #{index}, demo only): {state}", soft_wrap=True
            )


def main() -> None:
    """Entry point for ``python -m bcfl.cli.demo_onboard``."""
    typer.run(onboard)


if __name__ == "__main__":
    main()
