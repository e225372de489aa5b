"""Decoding raw logs of the consortium's contracts into :class:`IndexedEvent` records.

A log from an address outside the manifest is kept (``contract`` ``""``, which the audit flags) when
its topic is one of the consortium's own events. The standard events the contracts inherit from
OpenZeppelin (:data:`GENERIC_EVENTS`: ERC-20 ``Transfer``/``Approval``, AccessControl's role events,
EIP-712's domain change) are emitted by every token and access-controlled contract on a shared chain:
from outside the manifest they say nothing about the consortium and are not decoded.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from eth_abi.exceptions import DecodingError
from eth_utils.abi import event_abi_to_log_topic
from eth_utils.address import to_checksum_address
from hexbytes import HexBytes
from web3 import Web3
from web3._utils.events import get_event_data
from web3.exceptions import MismatchedABI
from web3.types import LogReceipt

from bcfl.chain.artifacts import abi_of
from bcfl.chain.manifest import DeploymentManifest
from bcfl.index.records import OUTSIDE_MANIFEST, IndexedEvent

#: Events the contracts inherit from OpenZeppelin, which any contract may emit: decoded only from the
#: manifest's own addresses.
GENERIC_EVENTS = frozenset(
    {
        "Transfer",
        "Approval",
        "RoleGranted",
        "RoleRevoked",
        "RoleAdminChanged",
        "DefaultAdminDelayChangeCanceled",
        "DefaultAdminDelayChangeScheduled",
        "DefaultAdminTransferCanceled",
        "DefaultAdminTransferScheduled",
        "EIP712DomainChanged",
    }
)


@dataclass(frozen=True)
class EventDecoder:
    """Every event of the manifest's contracts, by topic; the contract name by address."""

    events_by_topic: Mapping[bytes, tuple[str, dict[str, Any]]]
    contract_by_address: Mapping[str, str]

    @classmethod
    def for_manifest(cls, manifest: DeploymentManifest) -> EventDecoder:
        by_topic: dict[bytes, tuple[str, dict[str, Any]]] = {}
        for name in manifest.contracts:
            for entry in abi_of(name):
                if entry.get("type") == "event" and not entry.get("anonymous", False):
                    topic = bytes(event_abi_to_log_topic(entry))  # type: ignore[arg-type]
                    by_topic.setdefault(topic, (name, entry))
        return cls(
            by_topic,
            {to_checksum_address(r.address): name for name, r in manifest.contracts.items()},
        )

    @property
    def names(self) -> list[str]:
        """Every known event's name, sorted."""
        return sorted({name for _, (_, entry) in self.events_by_topic.items() for name in [entry["name"]]})

    @property
    def topics(self) -> list[str]:
        """The topic0 of every known event, for an ``eth_getLogs`` filter."""
        return ["0x" + t.hex() for t in self.events_by_topic]

    def decode(self, w3: Web3, log: LogReceipt, timestamp: int) -> IndexedEvent | None:
        """The log as a record, or ``None`` if its topic is none of the consortium's events (or a
        generic one, :data:`GENERIC_EVENTS`, from outside the manifest)."""
        if not log["topics"]:
            return None
        known = self.events_by_topic.get(bytes(log["topics"][0]))
        if known is None:
            return None
        _, abi = known
        address = to_checksum_address(log["address"])
        contract = self.contract_by_address.get(address, OUTSIDE_MANIFEST)
        if contract == OUTSIDE_MANIFEST and abi["name"] in GENERIC_EVENTS:
            return None
        try:
            data = get_event_data(w3.codec, abi, log)
        except (MismatchedABI, DecodingError):
            return None  # the topic of a consortium event over other data: not one of its events
        return IndexedEvent(
            contract=contract,
            address=address,
            name=data["event"],
            args={key: json_ready(value) for key, value in data["args"].items()},
            block_number=int(log["blockNumber"]),
            block_hash=HexBytes(log["blockHash"]).to_0x_hex(),
            timestamp=timestamp,
            tx_hash=HexBytes(log["transactionHash"]).to_0x_hex(),
            log_index=int(log["logIndex"]),
        )


def json_ready(value: Any) -> Any:
    """A decoded ABI value as JSON: bytes as ``0x`` hex, addresses checksummed, tuples as lists."""
    if isinstance(value, bytes | bytearray):
        return "0x" + bytes(value).hex()
    if isinstance(value, str) and Web3.is_address(value):
        return to_checksum_address(value)
    if isinstance(value, list | tuple):
        return [json_ready(v) for v in value]
    return value
