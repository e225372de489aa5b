"""What a sync asks of the node: logs over big block windows, and blocks and transactions in batches.

Logs come from one ``eth_getLogs`` per window with every consortium topic in one filter and no address
filter (so an impostor contract's events are found too); a window the node refuses as too large is
halved. Block hashes and times, and registration transactions, are asked for in JSON-RPC batches, each
block once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from web3.providers.base import JSONBaseProvider
from web3.types import RPCEndpoint

from bcfl.chain.client import ChainClient
from bcfl.chain.events import is_range_limit
from bcfl.index.errors import EventIndexError

#: Requests in one JSON-RPC batch.
BATCH_SIZE = 500


@dataclass(frozen=True)
class BlockHeader:
    """What the index keeps of a block."""

    number: int
    hash: str
    timestamp: int


def get_logs(
    client: ChainClient, topics: list[str], start: int, end: int
) -> tuple[list[dict[str, Any]], int]:
    """The raw logs (the node's JSON: hex strings) carrying any of ``topics`` from ``start`` up to at
    most ``end``, and the last block they cover: a window the node refuses as too large is halved
    until it is accepted."""
    provider = client.w3.provider
    while True:
        query = {"fromBlock": hex(start), "toBlock": hex(end), "topics": [topics]}
        response = client.retrying(
            "eth_getLogs",
            lambda q=query: provider.make_request(RPCEndpoint("eth_getLogs"), [q]),  # type: ignore[misc]
        )
        if "error" not in response:
            return list(response["result"]), end
        message = str(response["error"].get("message", response["error"]))
        if end > start and is_range_limit(message):
            end = start + (end - start) // 2
            continue
        raise EventIndexError(f"the node refused eth_getLogs for blocks {start}-{end}: {message}")


def get_headers(client: ChainClient, numbers: Iterable[int]) -> dict[int, BlockHeader | None]:
    """Hash and time of each block (``None`` for a block the chain does not have, e.g. after a
    reorganisation made it shorter), in batches."""
    wanted = sorted(set(numbers))
    results = _batch(client, "eth_getBlockByNumber", [[hex(n), False] for n in wanted])
    return {
        n: None if block is None else BlockHeader(n, str(block["hash"]), int(block["timestamp"], 16))
        for n, block in zip(wanted, results, strict=True)
    }


def get_transactions(client: ChainClient, tx_hashes: Iterable[str]) -> dict[str, dict[str, Any]]:
    """The raw transactions (``to`` and ``input`` as hex), in batches."""
    wanted = sorted(set(tx_hashes))
    results = _batch(client, "eth_getTransactionByHash", [[h] for h in wanted])
    return {h: tx for h, tx in zip(wanted, results, strict=True) if tx is not None}


def _batch(client: ChainClient, method: str, params: Sequence[list[Any]]) -> list[Any]:
    provider = cast(JSONBaseProvider, client.w3.provider)  # ChainClient's HTTPProvider
    found: list[Any] = []
    for start in range(0, len(params), BATCH_SIZE):
        chunk = [(RPCEndpoint(method), p) for p in params[start : start + BATCH_SIZE]]
        responses = client.retrying(method, lambda c=chunk: provider.make_batch_request(c))  # type: ignore[misc]
        if not isinstance(responses, list):
            raise EventIndexError(f"the node refused a batch of {method}: {responses.get('error')}")
        by_id = sorted(responses, key=lambda r: int(r.get("id") or 0))
        for response in by_id:
            if "error" in response:
                raise EventIndexError(f"the node refused {method}: {response['error']}")
            found.append(response.get("result"))
    return found
