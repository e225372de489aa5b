"""Crafted chain histories for the audit tests: the contracts refuse a suspended member's update, a
payout to an excluded member and a round off the lineage, so each is made on the real Anvil by
changing a contract's storage (``anvil_setStorageAt``) just for the one transaction that the
contract would otherwise refuse, then putting the word back. The events left behind tell the
true story (a suspension with no reinstatement, then that member's update), which is what the
audit must name.

Slots come from solc's ``storageLayout`` of the contracts' sources (the pinned compiler, as the
build uses it): a mapping's entry lives at ``keccak256(pad(key) ++ pad(slot))``, and packed
fields are read-modify-written within their 32-byte word.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Any

import solcx
from eth_utils.crypto import keccak
from web3.types import RPCEndpoint

from bcfl.build.compile import SETTINGS, standard_input
from bcfl.build.solc import find_solc
from bcfl.chain.client import ChainClient
from bcfl.chain.consortium import Consortium
from bcfl.paths import REPO_ROOT


@dataclass(frozen=True)
class Field:
    """Where a value lives: its slot, its byte offset within the word (from the low end) and size."""

    slot: int
    offset: int
    size: int


@functools.cache
def _layouts() -> dict[str, dict[str, Any]]:
    """Each contract's ``storageLayout``, compiled from contracts/src (no code generated: ~2 s)."""
    source = standard_input()
    source["settings"] = {
        "remappings": SETTINGS["remappings"],
        "evmVersion": SETTINGS["evmVersion"],
        "outputSelection": {"*": {"*": ["storageLayout"]}},
    }
    output = solcx.compile_standard(
        source,
        base_path=str(REPO_ROOT),
        allow_paths=[str(REPO_ROOT / "node_modules")],
        solc_binary=str(find_solc()),
    )
    return {
        name: data["storageLayout"]
        for contracts in output["contracts"].values()
        for name, data in contracts.items()
    }


def variable(contract: str, label: str) -> tuple[int, int, str]:
    """A state variable's slot, byte offset and solc type id."""
    layout = _layouts()[contract]
    (entry,) = [e for e in layout["storage"] if e["label"] == label]
    return int(entry["slot"]), int(entry["offset"]), str(entry["type"])


def member(contract: str, type_id: str, label: str) -> Field:
    """A struct member of solc type ``type_id`` (a mapping's type resolves to its value's struct),
    relative to the struct's first slot."""
    types = _layouts()[contract]["types"]
    struct = types[type_id]
    if struct["encoding"] == "mapping":
        struct = types[struct["value"]]
    (entry,) = [m for m in struct["members"] if m["label"] == label]
    return Field(int(entry["slot"]), int(entry["offset"]), int(types[entry["type"]]["numberOfBytes"]))


def entry_slot(slot: int, *keys: int | str) -> int:
    """The slot of ``mapping[key1][key2]...`` whose base is ``slot`` (a str key is an address)."""
    for key in keys:
        padded = bytes.fromhex(key[2:]).rjust(32, b"\0") if isinstance(key, str) else key.to_bytes(32, "big")
        slot = int.from_bytes(keccak(padded + slot.to_bytes(32, "big")), "big")
    return slot


def read_word(client: ChainClient, address: str, slot: int) -> int:
    return int.from_bytes(client.w3.eth.get_storage_at(client.w3.to_checksum_address(address), slot), "big")


def write_word(client: ChainClient, address: str, slot: int, value: int) -> None:
    response = client.w3.provider.make_request(
        RPCEndpoint("anvil_setStorageAt"), [address, hex(slot), "0x" + value.to_bytes(32, "big").hex()]
    )
    assert "error" not in response, response


@contextmanager
def with_storage(client: ChainClient, address: str, field: Field, value: int) -> Iterator[int]:
    """``field`` of ``address`` set to ``value`` (the rest of its word kept) inside the block; the
    original word restored on leaving. Yields the field's original value."""
    original = read_word(client, address, field.slot)
    mask = ((1 << (8 * field.size)) - 1) << (8 * field.offset)
    write_word(client, address, field.slot, (original & ~mask) | ((value << (8 * field.offset)) & mask))
    try:
        yield (original & mask) >> (8 * field.offset)
    finally:
        write_word(client, address, field.slot, original)
    assert read_word(client, address, field.slot) == original


def signer_active(consortium: Consortium, signer: str) -> AbstractContextManager[int]:
    """The registry's record of ``signer`` marked active (a suspended member's key signs again)."""
    slot, _, type_id = variable("ConsortiumRegistry", "_signers")
    active = member("ConsortiumRegistry", type_id, "active")
    base = entry_slot(slot, signer)
    field = Field(base + active.slot, active.offset, active.size)
    return with_storage(consortium.client, consortium.registry.address, field, 1)


def lineage_head(consortium: Consortium, model_hash: bytes) -> AbstractContextManager[int]:
    """The ledger's lineage head set to ``model_hash`` (a round may open from it)."""
    slot, offset, _ = variable("RoundLedger", "_head")
    field = Field(slot, offset, 32)
    return with_storage(
        consortium.client, consortium.ledger.address, field, int.from_bytes(model_hash, "big")
    )


def participant(consortium: Consortium, chain_round: int, member_id: int) -> AbstractContextManager[int]:
    """``member_id`` marked a participant of finalized ``chain_round`` (so the distributor pays it)."""
    slot, _, _ = variable("RoundLedger", "_participants")
    word = entry_slot(slot, chain_round, member_id >> 8)
    current = read_word(consortium.client, consortium.ledger.address, word)
    field = Field(word, 0, 32)
    bits = current | (1 << (member_id & 0xFF))
    return with_storage(consortium.client, consortium.ledger.address, field, bits)


def reputation_before(consortium: Consortium, member_id: int, reputation: int) -> AbstractContextManager[int]:
    """The reputation ledger's record of ``member_id`` showing ``reputation`` before its last scored
    round (what the ledger judges that round's exclusion on)."""
    slot, _, type_id = variable("ReputationLedger", "_records")
    previous = member("ReputationLedger", type_id, "previous")
    field = Field(entry_slot(slot, member_id) + previous.slot, previous.offset, previous.size)
    return with_storage(consortium.client, consortium.reputation.address, field, reputation)


def privacy_budget_lifted(consortium: Consortium) -> AbstractContextManager[int]:
    """The RoundLedger's privacy budget (ε and δ, two packed uint64) bounding nothing, with no event."""
    slot, offset, _ = variable("RoundLedger", "_privacyBudget")
    return with_storage(consortium.client, consortium.ledger.address, Field(slot, offset, 16), (1 << 128) - 1)
