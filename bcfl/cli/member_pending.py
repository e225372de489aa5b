"""``bcfl member pending``: the requests waiting for approval, with their votes against the quorum."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from bcfl.chain.registry import MemberStatus, Registry
from bcfl.cli.common import Format, ManifestPath, OutputFormat, RpcUrl, clean_errors, connect, emit
from bcfl.cli.settings import DEFAULTS
from bcfl.text import plain


def pending_requests(registry: Registry) -> list[dict[str, Any]]:
    """Every pending request: who asked, its node key, its approvals against what activates it (one
    admin approval, or the governance quorum) and which active members approved it already."""
    enabled, quorum = registry.governance()
    members = registry.members()
    voters = [m.member_id for m in members if m.status is MemberStatus.ACTIVE] if enabled else []
    return [
        {
            "member_id": m.member_id,
            "name": m.name,
            "signer": m.signer,
            "requested_at": m.requested_at,
            "node_key_fingerprint": m.node_key_fingerprint,
            "node_key_published": registry.published_node_key(m.member_id) is not None,
            "metadata_uri": m.metadata_uri,
            "approvals": m.approvals,
            "needed": quorum if enabled else 1,
            "approved_by": [v for v in voters if registry.has_approved(m.member_id, v)],
        }
        for m in members
        if m.status is MemberStatus.PENDING
    ]


def pending(
    manifest: ManifestPath, rpc_url: RpcUrl = DEFAULTS.rpc_url, fmt: Format = OutputFormat.table
) -> None:
    """List the pending membership requests, with their approvals against the quorum.

    Flower: a pending hospital's SuperNode is refused until its request is approved."""
    with clean_errors():
        registry = connect(rpc_url, manifest).registry
        rows = pending_requests(registry)
        enabled, quorum = registry.governance()
    approver = f"{quorum} member approvals (governance)" if enabled else "the admin's approval"
    emit(rows, fmt, lambda r: _table(r, approver))


def _table(rows: list[dict[str, Any]], approver: str) -> Table | str:
    if not rows:
        return "no pending requests"
    table = Table(
        "id",
        "name",
        "signer",
        "node key",
        "approvals",
        "metadata",
        title=f"pending requests: each needs {approver}",
    )
    for row in rows:
        voted = f" (by #{', #'.join(map(str, row['approved_by']))})" if row["approved_by"] else ""
        table.add_row(
            str(row["member_id"]),
            plain(row["name"]),
            row["signer"],
            "published" if row["node_key_published"] else "not published",
            f"{row['approvals']} of {row['needed']}{voted}",
            plain(row["metadata_uri"]),
        )
    return table
