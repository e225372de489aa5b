"""``bcfl privacy show|set|approve``: the consortium's differential-privacy budget. Each member may spend
at most ε per lineage (each update's δ at most δ); the ledger keeps every member's total and skips an
update past the budget. The budget changes with the admin, or, in governance mode, the members' quorum."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from bcfl.chain.consortium import Consortium
from bcfl.chain.privacy import NOT_PRIVATE, PrivacyBudget, epsilon_value
from bcfl.cli.chain_deploy import privacy_budget_of
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
    console,
    emit,
    resolve_account,
)
from bcfl.cli.settings import DEFAULTS
from bcfl.text import plain

Epsilon = Annotated[float, typer.Option("--epsilon", help="Each member's ε per lineage, at most.")]
Delta = Annotated[float, typer.Option("--delta", help="Each update's δ, at most.")]


def privacy_state(consortium: Consortium) -> dict[str, Any]:
    """The budget and every member's ε in the current lineage, from the chain."""
    ledger, registry = consortium.ledger, consortium.registry
    budget = ledger.privacy_budget()
    lineage = ledger.lineage_head().lineage
    members = []
    for member in registry.members():
        spent = ledger.epsilon_spent(lineage, member.member_id)
        left = None if not budget.bounded else max(0, budget.epsilon - spent)
        members.append(
            {
                "member_id": member.member_id,
                "signer": member.signer,
                "epsilon_spent": None if spent >= NOT_PRIVATE else epsilon_value(spent),
                "epsilon_left": None if left is None else epsilon_value(left),
            }
        )
    return {
        "budget": {
            "epsilon": None if not budget.bounded else epsilon_value(budget.epsilon),
            "delta_units": budget.delta,
            "text": budget.describe(),
        },
        "lineage": lineage,
        "members": members,
    }


def show(
    manifest: ManifestPath, rpc_url: RpcUrl = DEFAULTS.rpc_url, fmt: Format = OutputFormat.table
) -> None:
    """Print the privacy budget and each member's ε spent and left in the current lineage."""
    with clean_errors():
        data = privacy_state(connect(rpc_url, manifest))
    emit(data, fmt, _table)


def set_budget(
    epsilon: Epsilon,
    manifest: ManifestPath,
    delta: Delta = 1e-5,
    rpc_url: RpcUrl = DEFAULTS.rpc_url,
    keystore: KeystoreOpt = None,
    password_file: PasswordFileOpt = None,
    key_env: KeyEnvOpt = None,
    dev_account: DevAccountOpt = None,
) -> None:
    """Set each member's privacy budget per lineage (the admin; anyone once the members approved it)."""
    with clean_errors():
        budget = _budget(epsilon, delta)
        account = resolve_account(keystore, password_file, key_env, dev_account)
        ledger = connect(rpc_url, manifest).ledger
        ledger.set_privacy_budget(account, budget)
        now = ledger.privacy_budget()
    console.print(f"privacy budget: {now.describe()} per member and lineage", soft_wrap=True)


def approve(
    epsilon: Epsilon,
    manifest: ManifestPath,
    delta: Delta = 1e-5,
    rpc_url: RpcUrl = DEFAULTS.rpc_url,
    keystore: KeystoreOpt = None,
    password_file: PasswordFileOpt = None,
    key_env: KeyEnvOpt = None,
    dev_account: DevAccountOpt = None,
) -> None:
    """Approve, as an active member (governance mode), setting the privacy budget to ε and δ."""
    with clean_errors():
        budget = _budget(epsilon, delta)
        account = resolve_account(keystore, password_file, key_env, dev_account)
        consortium = connect(rpc_url, manifest)
        decision = consortium.ledger.privacy_budget_decision(budget)
        consortium.registry.approve_decision(account, decision)
        approvals = consortium.registry.decision_approvals(decision)
        _enabled, quorum = consortium.registry.governance()
    console.print(
        f"privacy budget decision 0x{decision.hex()}: {approvals} of {quorum} approvals", soft_wrap=True
    )


def _budget(epsilon: float, delta: float) -> PrivacyBudget:
    """The budget asked for; the same limits as ``bcfl chain deploy --privacy-epsilon``."""
    return privacy_budget_of(epsilon, delta)


def _table(data: dict[str, Any]) -> Table:
    title = f"privacy budget: {data['budget']['text']} per member and lineage; lineage {data['lineage']}"
    table = Table("member", "signer", "ε spent", "ε left", title=plain(title))
    for m in data["members"]:
        spent = "∞ (no DP)" if m["epsilon_spent"] is None else f"{m['epsilon_spent']:g}"
        left = "no bound" if m["epsilon_left"] is None else f"{m['epsilon_left']:g}"
        table.add_row(plain(m["member_id"]), plain(m["signer"]), spent, left)
    return table
