"""``bcfl app hash|status|approve``: the Flower Apps hospitals run are those the consortium approved.

Each hospital's SuperExec starts a run's app only if its hash (the SHA-256 of the bundle ``flwr run``
sends) is approved on chain; these commands compute that hash from an app folder, say whether it is
approved, and approve it (the admin's key; the demo's onboarding approves the demo's app).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from bcfl.apps import app_hash, approve_or_vote, hash_text, resolve_app
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

App = Annotated[str, typer.Argument(help="A Flower App folder, or an app hash (64 hex digits).")]
AppDir = Annotated[Path, typer.Argument(help="A Flower App folder (the one `flwr run` is given).")]


def app_hash_command(app: AppDir, fmt: Format = OutputFormat.table) -> None:
    """Print the hash of the app bundle `flwr run APP` sends (what hospitals look up on chain)."""
    with clean_errors():
        digest = app_hash(app)
    emit({"app": str(app), "hash": hash_text(digest)}, fmt, lambda r: r["hash"])


def status(
    app: App, manifest: ManifestPath, rpc_url: RpcUrl = DEFAULTS.rpc_url, fmt: Format = OutputFormat.table
) -> None:
    """Say whether hospitals may run APP: whether its hash is approved on chain."""
    with clean_errors():
        digest = resolve_app(app)
        approved = connect(rpc_url, manifest).ledger.is_app_approved(digest)
    emit({"app": app, "hash": hash_text(digest), "approved": approved}, fmt, _line)


def approve(
    app: App,
    manifest: ManifestPath,
    rpc_url: RpcUrl = DEFAULTS.rpc_url,
    keystore: KeystoreOpt = None,
    password_file: PasswordFileOpt = None,
    key_env: KeyEnvOpt = None,
    dev_account: DevAccountOpt = None,
    fmt: Format = OutputFormat.table,
) -> None:
    """Approve APP on chain so hospitals' SuperExecs start it: the admin; in governance mode each member
    runs it, and the approval that reaches the quorum carries it out. Nothing to do if it already is."""
    with clean_errors():
        digest = resolve_app(app)
        account = resolve_account(keystore, password_file, key_env, dev_account)
        approved, what = approve_or_vote(connect(rpc_url, manifest), account, digest)
    emit({"app": app, "hash": hash_text(digest), "approved": approved, "outcome": what}, fmt, _line)


def _line(result: dict[str, Any]) -> str:
    outcome = result.get("outcome")
    if not result["approved"]:
        if outcome:
            return f"app {result['hash']}: not approved yet ({outcome})"
        return f"app {result['hash']}: NOT approved (hospitals refuse it; an admin runs `bcfl app approve`)"
    return f"app {result['hash']}: approved" + (f" ({outcome})" if outcome else "")
