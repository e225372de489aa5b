"""Contract event queries by block range, chunked so large ranges work on any node."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

from web3.contract import Contract
from web3.types import EventData

from bcfl.chain.client import ChainClient

#: Largest block span asked of the node in one eth_getLogs call.
DEFAULT_CHUNK = 10_000


@dataclass(frozen=True)
class ChainEvent:
    """One decoded contract event."""

    contract: str
    name: str
    args: dict[str, Any]
    block_number: int
    tx_hash: str
    log_index: int


def query_events(
    client: ChainClient,
    contract_name: str,
    contract: Contract,
    event: str,
    *,
    filters: dict[str, Any] | None = None,
    from_block: int = 0,
    to_block: int | None = None,
    chunk: int = DEFAULT_CHUNK,
) -> list[ChainEvent]:
    """Events ``event`` of ``contract`` in [from_block, to_block], filtered on indexed arguments."""
    last = client.block_number() if to_block is None else to_block
    found: list[ChainEvent] = []
    start = from_block
    while start <= last:
        end = min(start + chunk - 1, last)
        logs = client.retrying(
            f"eth_getLogs {event}", partial(_get_logs, contract, event, filters, start, end)
        )
        for log in logs:
            found.append(
                ChainEvent(
                    contract=contract_name,
                    name=event,
                    args=dict(log["args"]),
                    block_number=log["blockNumber"],
                    tx_hash=log["transactionHash"].to_0x_hex(),
                    log_index=log["logIndex"],
                )
            )
        start = end + 1
    return found


def _get_logs(
    contract: Contract, event: str, filters: dict[str, Any] | None, start: int, end: int
) -> list[EventData]:
    return list(
        contract.events[event]().get_logs(argument_filters=filters or None, from_block=start, to_block=end)
    )
