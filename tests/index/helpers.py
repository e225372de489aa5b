"""Checks shared by the event index tests: the index against a full rescan of the chain."""

from __future__ import annotations

from bcfl.chain.client import ChainClient
from bcfl.chain.consortium import Consortium
from bcfl.index.scan import scan_events
from bcfl.index.store import EventIndex


def assert_matches_rescan(index: EventIndex, client: ChainClient, consortium: Consortium) -> None:
    """The index holds exactly what a full rescan up to its last block finds, and the signed entries of
    every registration transaction, as the ledger rebuilds them from the transaction's input."""
    indexed = index.events()
    rescanned = scan_events(client, consortium.manifest, to_block=index.last_block())
    assert indexed == rescanned
    assert index.count() == len(rescanned)
    ledger = consortium.manifest.address("RoundLedger")
    registrations = {e.tx_hash for e in indexed if e.name == "UpdateRegistered" and e.address == ledger}
    for tx_hash in registrations:
        assert index.registrations(tx_hash) == consortium.ledger.registered_signatures(tx_hash)
