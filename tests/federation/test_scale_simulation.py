"""The scale benchmark's path at a small size: six virtual hospitals in Flower's Simulation Engine (Ray)
on a real Anvil, one round; every hospital's update is on chain, signed by its own member key."""

from __future__ import annotations

import os
from pathlib import Path

from bcfl.chain.anvil import AnvilNode
from bcfl.chain.client import ChainClient
from bcfl.chain.consortium import Consortium
from bcfl.chain.devkeys import dev_account
from bcfl.chain.eip712 import recover_signer
from bcfl.chain.manifest import DeploymentManifest
from benchmarks.scale import hospital_key, run_scale
from benchmarks.scale_apps import ScaleRun
from benchmarks.sites import thyroid_shards

HOSPITALS = 6


def test_every_simulated_hospitals_update_is_registered_with_its_own_signature(tmp_path: Path) -> None:
    pythonpath = os.environ.get("PYTHONPATH")
    with AnvilNode(log_path=tmp_path / "anvil.log") as node:
        client = ChainClient(node.rpc_url)
        result = run_scale(
            client,
            HOSPITALS,
            admin=dev_account(0),
            coordinator=dev_account(1),
            funder=dev_account(2),
            work=tmp_path / "run",
        )
        manifest = DeploymentManifest.load(ScaleRun(node.rpc_url, tmp_path / "run", b"", 0, 0).manifest)
        consortium = Consortium.connect(client, manifest)
        ledger = consortium.ledger
        updates = ledger.updates(round_number=1)
        expected = {hospital_key(i).address for i in range(HOSPITALS)}
        # One update per hospital, each registered for the member whose key is that hospital's.
        assert {consortium.registry.signer_of(u.member_id) for u in updates} == expected
        assert len(updates) == HOSPITALS
        # The signatures in the registration transaction recover to the hospitals' own keys.
        domain = ledger.domain()
        (tx_hash,) = {u.tx_hash for u in updates}
        signed = ledger.registered_signatures(tx_hash)
        assert {recover_signer(domain, s) for s in signed} == expected
        assert {s.update.update_hash for s in signed} == {u.update_hash for u in updates}
        # The round went on to its end: finalized with every hospital, and the gas of each step read.
        (final,) = ledger.finalized_rounds()
        assert sorted(final.participants) == sorted(u.member_id for u in updates)
        assert result.registered == result.valid_signatures == HOSPITALS
        assert {"openRound", "registerUpdates", "recordScores", "finalizeRound", "payRound"} <= set(
            result.gas
        )
        assert result.gas_per_update > 0
    # The checkout was on PYTHONPATH for Ray's workers only: programs started later (Debian's
    # docker-compose, in the compose tests) must not inherit it.
    assert os.environ.get("PYTHONPATH") == pythonpath


def test_a_thousand_shards_hold_as_many_patients_and_positives_as_the_five_sites() -> None:
    few, many = thyroid_shards(5), thyroid_shards(1_000)
    assert len(many) == 1_000
    # Every hospital can train and test, and the shards hold the same patients as five sites do.
    assert min(len(s.train) for s in many.values()) >= 1
    assert min(len(s.test) for s in many.values()) >= 1
    for split in ("train", "test"):
        rows = [getattr(s, split) for s in many.values()]
        assert sum(len(r) for r in rows) == sum(len(getattr(s, split)) for s in few.values())
        positives = sum(int(r.labels.sum()) for r in rows)
        assert positives == sum(int(getattr(s, split).labels.sum()) for s in few.values())
