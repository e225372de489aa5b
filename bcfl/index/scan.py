"""A full rescan: every consortium event from the deployment block on, straight from ``eth_getLogs``.

The index (:mod:`bcfl.index.store`) is the fast, incremental way; this is the naive one it is
checked and benchmarked against.
"""

from __future__ import annotations

from bcfl.chain.client import ChainClient
from bcfl.chain.manifest import DeploymentManifest
from bcfl.index.decoding import EventDecoder
from bcfl.index.records import IndexedEvent

#: Blocks asked for in one eth_getLogs call.
SCAN_WINDOW = 10_000


def scan_events(
    client: ChainClient, manifest: DeploymentManifest, to_block: int | None = None
) -> list[IndexedEvent]:
    """Every log carrying one of the consortium's event topics, from any address (so an impostor's
    events are found too), in chain order."""
    decoder = EventDecoder.for_manifest(manifest)
    last = client.block_number() if to_block is None else to_block
    found: list[IndexedEvent] = []
    timestamps: dict[int, int] = {}
    for start in range(manifest.deployment_block, last + 1, SCAN_WINDOW):
        end = min(start + SCAN_WINDOW - 1, last)
        logs = client.retrying(
            "eth_getLogs",
            lambda s=start, e=end: client.w3.eth.get_logs(  # type: ignore[misc]
                {"fromBlock": s, "toBlock": e, "topics": [decoder.topics]}
            ),
        )
        for log in logs:
            number = int(log["blockNumber"])
            if number not in timestamps:
                block = client.retrying(
                    "eth_getBlockByNumber",
                    lambda n=number: client.w3.eth.get_block(n),  # type: ignore[misc]
                )
                timestamps[number] = int(block["timestamp"])
            event = decoder.decode(client.w3, log, timestamps[number])
            if event is not None:
                found.append(event)
    return found
