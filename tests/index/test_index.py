"""The event index on a real Anvil: incremental syncs, restarts, confirmations, reorganisations,
impostor contracts and another deployment's index."""

from __future__ import annotations

from pathlib import Path

import pytest
from web3.types import RPCEndpoint

from bcfl.chain.anvil import AnvilNode
from bcfl.chain.client import ChainClient
from bcfl.chain.consortium import Consortium
from bcfl.index.errors import EventIndexError
from bcfl.index.records import OUTSIDE_MANIFEST, IndexedEvent
from bcfl.index.store import EventIndex
from tests.chain.helpers import deploy_ready, mine_blocks, run_round
from tests.conftest import Actors
from tests.index.helpers import assert_matches_rescan


def test_the_index_matches_a_full_rescan_across_restarts(
    tmp_path: Path, client: ChainClient, consortium: Consortium, members: list[int], actors: Actors
) -> None:
    path = str(tmp_path / "index.sqlite")
    submitters = dict(zip(members, actors.hospitals, strict=False))
    run_round(consortium, actors.coordinator, submitters)
    with EventIndex.open(path, consortium.manifest) as index:
        first = index.sync(client)
        assert first.from_block == consortium.manifest.deployment_block
        assert first.to_block == client.block_number() == index.last_block()
        assert first.added == index.count() > 0
        assert_matches_rescan(index, client, consortium)
    for _ in range(2):  # a restart between syncs: the index resumes from its last block
        run_round(consortium, actors.coordinator, submitters)
        with EventIndex.open(path, consortium.manifest) as index:
            before = index.count()
            result = index.sync(client)
            assert result.from_block > first.to_block
            assert result.added == index.count() - before > 0
            assert result.rolled_back_to is None
            assert_matches_rescan(index, client, consortium)
    with EventIndex.open(path, consortium.manifest) as index:
        counted = index.count()
        again = index.sync(client)  # nothing new: nothing counted twice
        assert (again.added, index.count()) == (0, counted)
        rounds = index.events(name="RoundOpened", contract="RoundLedger")
        assert [e.args["round"] for e in rounds] == [1, 2, 3]
        mine = index.events(contract="RoundLedger", name="UpdateRegistered", round=2, member=members[0])
        assert [(e.args["round"], e.args["memberId"]) for e in mine] == [(2, members[0])]
        window = index.events(from_block=rounds[1].block_number, to_block=rounds[1].block_number)
        assert {e.block_number for e in window} == {rounds[1].block_number}


def test_only_confirmed_blocks_are_indexed(
    tmp_path: Path, client: ChainClient, consortium: Consortium, members: list[int], actors: Actors
) -> None:
    run_round(consortium, actors.coordinator, dict(zip(members, actors.hospitals, strict=False)))
    head = client.block_number()
    with EventIndex.open(str(tmp_path / "index.sqlite"), consortium.manifest) as index:
        result = index.sync(client, confirmations=3)
        assert result.to_block == index.last_block() == head - 3
        assert max(e.block_number for e in index.events()) <= head - 3
        assert_matches_rescan(index, client, consortium)
        mine_blocks(client, 3)
        assert index.sync(client, confirmations=3).to_block == head
        assert_matches_rescan(index, client, consortium)


def test_a_reorganised_tail_is_rolled_back_to_the_fork_point(
    tmp_path: Path, anvil: AnvilNode, client: ChainClient, consortium: Consortium, actors: Actors
) -> None:
    """Anvil's snapshot and revert stand for a reorganisation: the blocks the index saw are replaced by
    others at the same heights. Transactions in the replaced branch go through their own clients, so
    the session client's nonces stay true."""
    hospitals = actors.hospitals[3:5]
    branch_a = Consortium.connect(ChainClient(anvil.rpc_url), consortium.manifest)
    ids = [branch_a.registry.request_membership(h, f"Branch hospital {i}") for i, h in enumerate(hospitals)]
    for member_id in ids:
        branch_a.registry.approve(actors.admin, member_id)
    fork = client.block_number()
    snapshot = client.w3.provider.make_request(RPCEndpoint("evm_snapshot"), [])["result"]
    run_round(branch_a, actors.coordinator, dict(zip(ids, hospitals, strict=True)))
    run_round(branch_a, actors.coordinator, dict(zip(ids, hospitals, strict=True)))
    path = str(tmp_path / "index.sqlite")
    with EventIndex.open(path, consortium.manifest) as index:
        index.sync(client)
        seen = index.last_block()
        assert len(index.events(name="RoundOpened", contract="RoundLedger")) == 2
    assert client.w3.provider.make_request(RPCEndpoint("evm_revert"), [snapshot])["result"] is True
    # An empty block first: branch B's first transaction could otherwise be branch A's, in the same
    # second, giving the same block and hash, and the true fork point one block higher.
    mine_blocks(client, 1)
    branch_b = Consortium.connect(ChainClient(anvil.rpc_url), consortium.manifest)
    run_round(branch_b, actors.coordinator, {ids[0]: hospitals[0]}, [ids[0]], finalize=False)
    assert client.block_number() < seen  # shorter than the branch the index saw
    with EventIndex.open(path, consortium.manifest) as index:
        result = index.sync(client)
        assert result.rolled_back_to == fork
        assert result.from_block == fork + 1
        assert_matches_rescan(index, client, consortium)
        opened = index.events(name="RoundOpened", contract="RoundLedger")
        assert [e.args["round"] for e in opened] == [1]
        assert not index.events(name="RoundFinalized", contract="RoundLedger")
        assert index.events(name="UpdateRegistered", member=ids[1]) == []
        mine_blocks(client, seen - client.block_number() + 2)  # now longer than the replaced branch
        assert index.sync(client).rolled_back_to is None
        assert_matches_rescan(index, client, consortium)


def test_events_from_outside_the_manifest_are_kept_with_no_contract_name(
    tmp_path: Path, client: ChainClient, consortium: Consortium, actors: Actors
) -> None:
    impostor = deploy_ready(client, actors.admin, actors.coordinator)  # a second RoundLedger, same chain
    ledger = impostor.manifest.address("RoundLedger")
    with EventIndex.open(str(tmp_path / "index.sqlite"), consortium.manifest) as index:
        index.sync(client)
        outside = [e for e in index.events(contract=OUTSIDE_MANIFEST) if e.address == ledger]
        assert [e.name for e in outside] == ["PrivacyBudgetChanged", "AppApproved", "LineageStarted"]
        assert not any(e.in_manifest for e in outside)
        generic = {"Transfer", "Approval", "RoleGranted", "RoleRevoked", "EIP712DomainChanged"}
        assert not [e for e in index.events(contract=OUTSIDE_MANIFEST) if e.name in generic]
        assert index.events(contract="ConsortiumRegistry", name="RoleGranted")  # the manifest's own
        assert_matches_rescan(index, client, consortium)


def test_an_index_refuses_another_deployment(
    tmp_path: Path, client: ChainClient, consortium: Consortium, actors: Actors
) -> None:
    path = str(tmp_path / "index.sqlite")
    with EventIndex.open(path, consortium.manifest) as index:
        index.sync(client)
    other = deploy_ready(client, actors.admin, actors.coordinator)
    with pytest.raises(EventIndexError, match="built for another deployment") as refused:
        EventIndex.open(path, other.manifest)
    assert "\n" not in str(refused.value)
    wrong_chain = consortium.manifest.model_copy(update={"chain_id": 1})
    with pytest.raises(EventIndexError, match="another deployment"):
        EventIndex.open(path, wrong_chain)
    fresh = EventIndex.open(str(tmp_path / "fresh.sqlite"), wrong_chain)
    with fresh, pytest.raises(EventIndexError, match="chain id 31337"):
        fresh.sync(client)
    with pytest.raises(EventIndexError, match="in SQLite or PostgreSQL, not mysql"):
        EventIndex.open("mysql://nowhere/db", consortium.manifest)
    with pytest.raises(EventIndexError, match="does not exist"):
        EventIndex.open(str(tmp_path / "missing" / "index.sqlite"), consortium.manifest)


def test_cursors_page_through_every_event_once_forwards_and_backwards(
    tmp_path: Path, client: ChainClient, consortium: Consortium, members: list[int], actors: Actors
) -> None:
    run_round(consortium, actors.coordinator, dict(zip(members, actors.hospitals, strict=False)))
    with EventIndex.open(str(tmp_path / "index.sqlite"), consortium.manifest) as index:
        index.sync(client)
        every = index.events()
        assert len(every) > 7
        forwards: list[IndexedEvent] = []
        cursor: tuple[int, int] | None = None
        while page := index.events(after=cursor, limit=7):
            assert len(page) <= 7
            forwards += page
            cursor = (page[-1].block_number, page[-1].log_index)
        assert forwards == every
        backwards: list[IndexedEvent] = []
        cursor = (every[-1].block_number, every[-1].log_index + 1)
        while page := index.events(before=cursor, limit=5):
            backwards = page + backwards
            cursor = (page[0].block_number, page[0].log_index)
        assert backwards == every
        opened = index.events(name="RoundOpened")[-1]
        newest = index.events(contract="RoundLedger", before=(10**12, 0), limit=2)
        assert newest == [e for e in every if e.contract == "RoundLedger"][-2:]
        assert (
            index.events(after=(opened.block_number, opened.log_index), limit=1)[0]
            == every[every.index(opened) + 1]
        )


def test_two_syncs_of_one_index_at_once_store_every_event_once(
    tmp_path: Path, client: ChainClient, consortium: Consortium, members: list[int], actors: Actors
) -> None:
    """The dashboard's watcher and an audit command may sync one index at the same time. Here the
    other sync runs between two windows of the first, after the first has read where to start, and
    stops half-way through its next window: the first stores only the blocks above it."""
    run_round(consortium, actors.coordinator, dict(zip(members, actors.hospitals, strict=False)))
    path = str(tmp_path / "index.sqlite")
    first_block, head = consortium.manifest.deployment_block, client.block_number()
    window = max(2, (head - first_block + 1) // 3)
    other_stops_at = first_block + window + window // 2
    others: list[int] = []
    manifest = consortium.manifest
    with EventIndex.open(path, manifest) as one, EventIndex.open(path, manifest) as other:

        def meanwhile(done: int, _total: int) -> None:
            if done == window:
                result = other.sync(client, confirmations=client.block_number() - other_stops_at)
                assert result.to_block == other_stops_at
                others.append(result.added)

        result = one.sync(client, window=window, progress=meanwhile)
        assert result.to_block == head == one.last_block() and len(others) == 1
        assert result.added + others[0] == one.count()
        assert_matches_rescan(one, client, consortium)
