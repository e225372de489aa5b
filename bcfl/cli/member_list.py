"""``bcfl member list``: the consortium's members."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from rich.table import Table

from bcfl.chain.consortium import Consortium
from bcfl.chain.registry import Member, MemberStatus
from bcfl.cli.common import Format, ManifestPath, OutputFormat, RpcUrl, clean_errors, connect, emit
from bcfl.cli.settings import DEFAULTS
from bcfl.text import plain


def list_members(
    manifest: ManifestPath, rpc_url: RpcUrl = DEFAULTS.rpc_url, fmt: Format = OutputFormat.table
) -> None:
    """List every membership with its status, reputation, exclusion and reward-token balance."""
    with clean_errors():
        consortium = connect(rpc_url, manifest)
        decimals = consortium.token.decimals()
        rows = [_row(consortium, m, decimals) for m in consortium.registry.members()]
    emit(rows, fmt, _table)


def _row(consortium: Consortium, member: Member, decimals: int) -> dict[str, Any]:
    excluded = consortium.reputation.is_excluded(member.member_id)
    balance = consortium.token.balance_of(member.signer)
    return {
        **asdict(member),
        "status": member.status.name.lower(),
        "reputation_bps": consortium.reputation.reputation_of(member.member_id),
        "excluded": excluded,
        "aggregated": aggregated(member.status, excluded),
        "balance": str(balance),
        "balance_tokens": balance / 10**decimals,
    }


def aggregated(status: MemberStatus, excluded: bool) -> bool:
    """Whether the coordinator aggregates this member's updates: only an active member's, and only
    while its reputation keeps it above the exclusion threshold."""
    return status is MemberStatus.ACTIVE and not excluded


def _aggregated_cell(row: dict[str, Any]) -> str:
    if row["aggregated"]:
        return "yes"
    if row["status"] != MemberStatus.ACTIVE.name.lower():
        return f"no ({row['status']})"
    return "no (excluded: reputation)"


def _table(rows: list[dict[str, Any]]) -> Table:
    table = Table(
        "id", "name", "status", "signer", "reputation (bps)", "aggregated", "reward balance", title="members"
    )
    for row in rows:
        table.add_row(
            str(row["member_id"]),
            plain(row["name"]),
            row["status"],
            plain(row["signer"]),
            str(row["reputation_bps"]),
            _aggregated_cell(row),
            f"{row['balance_tokens']:,.2f}",
        )
    return table
