"""Fast decoding of raw ``eth_getLogs`` results (hex strings, as the node sends them).

The index decodes tens of thousands of logs per sync: web3's result formatters and ``get_event_data``
cost about a millisecond a log, mostly in re-checksumming the same few addresses. This decoder reads
the node's JSON directly, decodes each log's data with one ``eth_abi`` call and caches checksummed
addresses. It yields exactly the records :class:`bcfl.index.decoding.EventDecoder` does (the tests
compare the index with a rescan through web3), arguments in the ABI's order.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from eth_abi import abi
from eth_abi.exceptions import DecodingError
from eth_utils.address import to_checksum_address
from web3 import Web3

from bcfl.index.decoding import GENERIC_EVENTS, EventDecoder
from bcfl.index.records import OUTSIDE_MANIFEST, IndexedEvent

_DYNAMIC_BASES = ("string", "bytes")


@dataclass(frozen=True)
class _EventLayout:
    name: str
    #: Every input in ABI order: (name, type, indexed).
    inputs: tuple[tuple[str, str, bool], ...]
    data_types: tuple[str, ...]
    indexed_count: int


class RawLogDecoder:
    """Decodes raw logs carrying one of the manifest's event topics (see :class:`EventDecoder`)."""

    def __init__(self, decoder: EventDecoder) -> None:
        self.layouts: dict[str, _EventLayout] = {}
        for topic, (_, entry) in decoder.events_by_topic.items():
            inputs = tuple((i["name"], abi_type(i), bool(i.get("indexed"))) for i in entry["inputs"])
            self.layouts["0x" + topic.hex()] = _EventLayout(
                entry["name"],
                inputs,
                tuple(t for _, t, indexed in inputs if not indexed),
                sum(1 for *_, indexed in inputs if indexed),
            )
        self.contract_by_address = {a.lower(): name for a, name in decoder.contract_by_address.items()}
        #: The topic0 of every known event, for an ``eth_getLogs`` filter.
        self.topics = list(self.layouts)

    def decode(self, log: Mapping[str, Any], timestamp: int) -> IndexedEvent | None:
        """The raw log as a record, or ``None`` (not a consortium event, a generic one from outside the
        manifest, or a log whose topics or data do not fit its event)."""
        topics = log["topics"]
        layout = self.layouts.get(topics[0].lower()) if topics else None
        if layout is None or len(topics) != layout.indexed_count + 1:
            return None
        address = str(log["address"]).lower()
        contract = self.contract_by_address.get(address, OUTSIDE_MANIFEST)
        if contract == OUTSIDE_MANIFEST and layout.name in GENERIC_EVENTS:
            return None
        try:
            data = list(abi.decode(layout.data_types, bytes.fromhex(log["data"][2:])))
            indexed = iter(topics[1:])
            args: dict[str, Any] = {}
            for name, type_, is_indexed in layout.inputs:
                args[name] = _topic_value(type_, next(indexed)) if is_indexed else data.pop(0)
        except (DecodingError, ValueError):
            return None
        return IndexedEvent(
            contract=contract,
            address=_checksum(address),
            name=layout.name,
            args={key: _ready(value) for key, value in args.items()},
            block_number=int(log["blockNumber"], 16),
            block_hash=str(log["blockHash"]).lower(),
            timestamp=timestamp,
            tx_hash=str(log["transactionHash"]).lower(),
            log_index=int(log["logIndex"], 16),
        )


def abi_type(entry: Mapping[str, Any]) -> str:
    """An ABI input's type as eth_abi spells it (a tuple as ``(t1,t2)`` with its array suffix)."""
    type_ = str(entry["type"])
    if type_.startswith("tuple"):
        inner = ",".join(abi_type(c) for c in entry["components"])
        return f"({inner}){type_[5:]}"
    return type_


def _topic_value(type_: str, topic: str) -> Any:
    """An indexed argument: a static type decoded from its topic, a dynamic one (string, bytes, an
    array or a tuple) left as the topic, its hash, as web3 does."""
    raw = bytes.fromhex(topic[2:])
    if type_ in _DYNAMIC_BASES or type_.endswith("]") or type_.startswith("("):
        return raw
    return abi.decode([type_], raw)[0]


def _ready(value: Any) -> Any:
    """As :func:`bcfl.index.decoding.json_ready`, with checksummed addresses cached."""
    if isinstance(value, bytes | bytearray):
        return "0x" + bytes(value).hex()
    if isinstance(value, str):
        return _string_ready(value)
    if isinstance(value, list | tuple):
        return [_ready(v) for v in value]
    return value


@lru_cache(maxsize=4096)
def _string_ready(value: str) -> str:
    return to_checksum_address(value) if Web3.is_address(value) else value


@lru_cache(maxsize=4096)
def _checksum(address: str) -> str:
    return to_checksum_address(address)
