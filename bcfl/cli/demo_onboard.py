"""``bcfl demo-onboard``: onboard a demo consortium's hospitals and the coordinator; safe to run again.

Also runnable as ``python -m bcfl.cli.demo_onboard`` (the compose file does so).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bcfl.apps import hash_text
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
    run_alone,
)
from bcfl.cli.settings import DEFAULTS
from bcfl.demo.consortia import CONSORTIA
from bcfl.demo.onboarding import onboard_consortium
from bcfl.demo.tls_setup import prepare_tls, publish_superlink_certificate
from bcfl.paths import REPO_ROOT


def onboard(
    manifest: ManifestPath,
    hospital: Annotated[
        list[str], typer.Option("--hospital", help="A demo hospital (its folder under HOSPITALS_DIR).")
    ],
    coordinator_dir: Annotated[
        Path,
        typer.Option(help="Where the coordinator's keystore goes (Anvil's PUBLIC dev key, demo only)."),
    ],
    consortium: Annotated[str, typer.Option(help=f"The demo consortium: {', '.join(CONSORTIA)}.")] = "heart",
    hospitals_dir: Annotated[
        Path, typer.Option(help="Where each hospital's own folder (its own volume) is.")
    ] = Path("/data/hospitals"),
    coordinator_dev_account: Annotated[
        int, typer.Option(help="Anvil PUBLIC dev key index of the coordinator (demo only).")
    ] = 1,
    app_dir: Annotated[
        Path, typer.Option(help="The demo's Flower App (what the run submits), approved on chain.")
    ] = REPO_ROOT,
    tls_dir: Annotated[
        Path | None,
        typer.Option(help="Where the consortium's CA and the SuperLink's certificate and keys go (TLS)."),
    ] = None,
    tls_name: Annotated[
        list[str] | None,
        typer.Option(help="A name or IP the SuperLink or its Fleet gateway is dialed by (repeatable)."),
    ] = None,
    ca_dir: Annotated[
        Path | None, typer.Option(help="Where the CA certificate's public copy goes (with --tls-dir).")
    ] = None,
    tls_endpoint: Annotated[
        str | None,
        typer.Option(
            help="host:port hospitals' SuperNodes dial (the Fleet gateway): pinned on chain with the "
            "certificate's fingerprint (with --tls-dir)."
        ),
    ] = None,
    rpc_url: RpcUrl = DEFAULTS.rpc_url,
    keystore: KeystoreOpt = None,
    password_file: PasswordFileOpt = None,
    key_env: KeyEnvOpt = None,
    dev_account: DevAccountOpt = None,
) -> None:
    """Give each demo hospital its data, its own encrypted key and an approved membership, and approve
    the demo's Flower App on chain; with --tls-dir, make the consortium's TLS files.

    The signing key options are the admin's (it funds the new keys and approves). Whatever already
    exists (data, keystore, membership, approvals) is reused, so a restarted stack is not re-onboarded.
    """
    if consortium not in CONSORTIA:
        raise typer.BadParameter(f"unknown consortium {consortium!r}; choose one of {', '.join(CONSORTIA)}")
    with clean_errors():
        chain = connect(rpc_url, manifest)
        admin = resolve_account(keystore, password_file, key_env, dev_account)
        key = bytes(public_dev_account(coordinator_dev_account).key)
        onboarded = onboard_consortium(
            chain, admin, CONSORTIA[consortium], hospitals_dir, hospital, coordinator_dir, key, app_dir
        )
        if tls_dir is not None:
            files = prepare_tls(
                tls_dir,
                tls_name or [],
                ca_dir or tls_dir,
                [site.folder for site in onboarded.hospitals],
                consortium,
            )
            console.print(
                f"TLS: CA {files.ca_cert}, SuperLink certificate {files.server_cert} "
                f"(SHA-256 {files.fingerprint()})",
                soft_wrap=True,
            )
            if tls_endpoint is not None:
                pinned = publish_superlink_certificate(chain.registry, admin, files, tls_endpoint)
                state = "pinned on chain" if pinned else "already pinned on chain"
                console.print(f"SuperLink certificate for {tls_endpoint}: {state}", soft_wrap=True)
        for site in onboarded.hospitals:
            done = "; ".join(site.actions) if site.actions else "already onboarded, nothing to do"
            console.print(
                f"{site.name}: member #{site.member_id} ({site.address}) active: {done}", soft_wrap=True
            )
        state = "keystore created" if onboarded.coordinator_created else "keystore already there"
        console.print(
            f"coordinator {onboarded.coordinator} (Anvil PUBLIC dev key #{coordinator_dev_account}, "
            f"demo only): {state}",
            soft_wrap=True,
        )
        approval = "approved on chain" if onboarded.app_approved else "already approved on chain"
        console.print(f"app {hash_text(onboarded.app_hash)} ({app_dir}): {approval}", soft_wrap=True)


def main() -> None:
    """Entry point for ``python -m bcfl.cli.demo_onboard``."""
    run_alone(onboard)


if __name__ == "__main__":
    main()
