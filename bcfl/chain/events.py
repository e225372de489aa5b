"""Contract event queries by block range, chunked so large ranges work on any node."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

from web3.contract import Contract
from web3.exceptions import Web3RPCError
from web3.types import EventData

from bcfl.chain.client import ChainClient
from bcfl.chain.exceptions import ChainError

# Re-exported: the light bcfl.chain.view reads logs in the same windows, without web3.
from bcfl.chain.log_windows import DEFAULT_CHUNK as DEFAULT_CHUNK
from bcfl.chain.log_windows import is_range_limit as is_range_limit


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
    """Events ``event`` of ``contract`` in [from_block, to_block], filtered on indexed arguments.

    The range is asked for in windows of ``chunk`` blocks; a window the node refuses as too large
    (a block-range or result-count cap) is halved until it is accepted.
    """
    last = client.block_number() if to_block is None else to_block
    found: list[ChainEvent] = []
    start, window = from_block, max(1, chunk)
    while start <= last:
        end = min(start + window - 1, last)
        try:
            logs = client.retrying(
                f"eth_getLogs {event}", partial(_get_logs, contract, event, filters, start, end)
            )
        except Web3RPCError as exc:
            if window > 1 and _is_range_limit(exc):
                window //= 2
                continue
            raise ChainError(
                f"the node refused eth_getLogs for {event} in blocks {start}-{end}: {exc}"
            ) from exc
        found.extend(
            ChainEvent(
                contract=contract_name,
                name=event,
                args=dict(log["args"]),
                block_number=log["blockNumber"],
                tx_hash=log["transactionHash"].to_0x_hex(),
                log_index=log["logIndex"],
            )
            for log in logs
        )
        start = end + 1
    return found


def _is_range_limit(exc: Web3RPCError) -> bool:
    return is_range_limit(str(exc))


def _get_logs(
    contract: Contract, event: str, filters: dict[str, Any] | None, start: int, end: int
) -> list[EventData]:
    return list(
        contract.events[event]().get_logs(argument_filters=filters or None, from_block=start, to_block=end)
    )
