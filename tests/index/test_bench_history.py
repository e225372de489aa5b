"""The benchmark's synthetic history: real rounds whose every model hash on chain names a stored file."""

from __future__ import annotations

from pathlib import Path

from hexbytes import HexBytes

from bcfl.chain.client import ChainClient
from bcfl.chain.eip712 import recover_signer
from bcfl.index.store import EventIndex
from benchmarks.history import add_rounds, start_history
from tests.conftest import Actors


def test_a_generated_history_is_paid_and_its_models_are_stored(
    tmp_path: Path, client: ChainClient, actors: Actors
) -> None:
    history = start_history(client, actors.admin, actors.coordinator, tmp_path, hospitals=4)
    add_rounds(history, actors.coordinator, 2)
    consortium = history.consortium
    with EventIndex.open(str(tmp_path / "index.sqlite"), consortium.manifest) as index:
        index.sync(client)
        ours = [e for e in index.events() if e.in_manifest]
        names = [e.name for e in ours]
        assert names.count("RoundFinalized") == names.count("RoundPaid") == 2
        assert names.count("UpdateRegistered") == names.count("RewardPaid") == 8
        hashes = [
            e.args[key]
            for e in ours
            for key in ("globalModelHash", "updateHash", "aggregatedModelHash")
            if key in e.args
        ]
        store = history.store
        assert len(hashes) == 2 + 8 + 2
        assert all(bytes(HexBytes(h)) in store for h in hashes)
        domain = consortium.ledger.domain()
        keys = {k.address for k in history.hospitals}
        for tx in {e.tx_hash for e in ours if e.name == "UpdateRegistered"}:
            assert {recover_signer(domain, s) for s in index.registrations(tx)} == keys
    assert (tmp_path / "rounds.json").is_file()
