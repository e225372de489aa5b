"""``bcfl chain status``: check a deployment and summarise the consortium's state."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from bcfl.chain.consortium import Consortium
from bcfl.cli.common import Format, ManifestPath, OutputFormat, RpcUrl, clean_errors, connect, emit
from bcfl.cli.settings import DEFAULTS
from bcfl.text import plain


def consortium_status(consortium: Consortium) -> dict[str, Any]:
    """Chain, contracts and headline counts of a deployment."""
    manifest = consortium.manifest
    return {
        "chain_id": manifest.chain_id,
        "latest_block": consortium.client.block_number(),
        "contracts": {name: record.address for name, record in manifest.contracts.items()},
        "members": consortium.registry.member_count(),
        "active_members": consortium.registry.active_member_count(),
        "rounds": consortium.ledger.round_count(),
        "round_budget": consortium.distributor.round_budget(),
        "tokens_paid": consortium.token.total_supply(),
    }


def status(
    manifest: ManifestPath, rpc_url: RpcUrl = DEFAULTS.rpc_url, fmt: Format = OutputFormat.table
) -> None:
    """Verify the deployment in MANIFEST against the chain and print its state."""
    with clean_errors():
        data = consortium_status(connect(rpc_url, manifest))
    emit(data, fmt, _table)


def _table(data: dict[str, Any]) -> Table:
    table = Table("item", "value", title="consortium")
    for key, value in data.items():
        if key == "contracts":
            for name, address in value.items():
                table.add_row(plain(name), plain(address))
        else:
            table.add_row(key.replace("_", " "), plain(value))
    return table
