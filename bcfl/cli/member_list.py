"""``bcfl member list``: the consortium's members."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from rich.table import Table

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
        rows = [
            {
                **asdict(m),
                "status": m.status.name.lower(),
                "reputation_bps": consortium.reputation.reputation_of(m.member_id),
                "excluded": consortium.reputation.is_excluded(m.member_id),
                "balance": str(consortium.token.balance_of(m.signer)),
                "balance_tokens": consortium.token.balance_of(m.signer) / 10**decimals,
            }
            for m in consortium.registry.members()
        ]
    emit(rows, fmt, _table)


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
            "excluded" if row["excluded"] else "yes",
            f"{row['balance_tokens']:,.2f}",
        )
    return table
