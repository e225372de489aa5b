"""The replay rule's record of registered updates on a real Anvil: read once, then only from the blocks
added since, read again when the chain it read is gone; and a replayed update scores zero through the
round service, as an auditor recomputes it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from web3.types import RPCEndpoint

from bcfl.chain.anvil import AnvilNode
from bcfl.chain.client import ChainClient
from bcfl.chain.consortium import Consortium
from bcfl.chain.eip712 import ModelUpdate, sign_update
from bcfl.chain.ledger import Ledger, RegisteredUpdate
from bcfl.models.canonical import model_hash
from coordinator.rounds.assessment import recompute_scores
from coordinator.rounds.replay import RegisteredUpdates
from coordinator.verification import VerifiedUpdate
from tests.chain.helpers import global_hash_of, h, mine_blocks, open_next, prepare_rounds, run_round, sign
from tests.conftest import Actors
from tests.coordinator.test_round_service import CONFIG, EXAMPLES, GLOBAL, service_in, signed_updates


@pytest.fixture
def consortium(deployed: Consortium, actors: Actors) -> Consortium:
    """A fresh consortium whose lineage starts from the round service tests' model."""
    prepare_rounds(deployed, actors.admin, start=model_hash(GLOBAL))
    return deployed


def first_rounds_on_chain(ledger: Ledger) -> dict[bytes, int]:
    """The oracle: every update registered, read at once."""
    found: dict[bytes, int] = {}
    for update in ledger.updates():
        found[update.update_hash] = min(update.round, found.get(update.update_hash, update.round))
    return found


def test_registered_updates_are_read_once_then_from_new_blocks_and_again_after_a_reorg(
    anvil: AnvilNode,
    consortium: Consortium,
    actors: Actors,
    members: list[int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Its own client: the snapshot reverted below must not leave the session client's nonces behind.
    branch = Consortium.connect(ChainClient(anvil.rpc_url), consortium.manifest)
    ledger = Ledger(branch.client, branch.ledger.address, branch.ledger.deployment_block)
    starts: list[int | None] = []
    read = ledger.updates

    def spy(*args: Any, **kwargs: Any) -> list[RegisteredUpdate]:
        starts.append(kwargs.get("from_block"))
        return read(*args, **kwargs)

    monkeypatch.setattr(ledger, "updates", spy)
    registered = RegisteredUpdates(ledger)
    hospitals = dict(zip(members, actors.hospitals, strict=False))
    snapshot = branch.client.w3.provider.make_request(RPCEndpoint("evm_snapshot"), [])["result"]
    run_round(branch, actors.coordinator, hospitals)
    assert registered.first_rounds() == first_rounds_on_chain(branch.ledger)
    assert len(registered.first_rounds()) == len(members)
    seen = branch.client.block_number()
    # Round 2: the first member registers its round-1 update again (signed for round 2): a replay.
    replayed = h(f"update 1 {actors.hospitals[0].address}")
    second = open_next(branch, actors.coordinator)
    global_hash = global_hash_of(branch, second)
    entries = [sign(branch, actors.hospitals[0], second, global_hash, replayed, 100)]
    entries += [
        sign(branch, key, second, global_hash, h(f"fresh {key.address}"), 100)
        for key in actors.hospitals[1:3]
    ]
    branch.ledger.register_updates(actors.coordinator, second, entries)
    assert registered.replayed(
        second, {m: e.update.update_hash for m, e in zip(members, entries, strict=True)}
    ) == [members[0]]
    assert registered.replayed(1, {members[0]: replayed}) == []  # not before its first round
    assert registered.first_rounds() == first_rounds_on_chain(branch.ledger)
    assert starts[:2] == [ledger.deployment_block, seen + 1]  # the second read began after the first
    head = branch.client.block_number()
    # The chain reorganises: back to before round 1, then past the block last read, on another branch.
    assert branch.client.w3.provider.make_request(RPCEndpoint("evm_revert"), [snapshot])["result"] is True
    mine_blocks(branch.client, head - branch.client.block_number() + 1)
    assert registered.first_rounds() == first_rounds_on_chain(branch.ledger) == {}
    assert starts[-1] == ledger.deployment_block


def test_an_update_registered_again_in_a_later_round_scores_zero_as_a_replay(
    consortium: Consortium, actors: Actors, members: list[int], tmp_path: Path
) -> None:
    service = service_in(consortium, actors, tmp_path)
    state = service.open(1, GLOBAL, CONFIG)
    first_updates = signed_updates(service, state, actors.hospitals[:3], members)
    first = service.close(service.train(state, first_updates))
    assert first.aggregate is not None
    state = service.open(2, first.aggregate.arrays, CONFIG)
    updates = signed_updates(service, state, actors.hospitals[:3], members, seed=10)
    again = first_updates[0].arrays  # the first hospital sends its round-1 update, signed anew
    update = ModelUpdate(state.chain_round, state.opened.global_hash, model_hash(again), EXAMPLES[0])
    updates[0] = VerifiedUpdate(
        1,
        members[0],
        actors.hospitals[0].address,
        sign_update(actors.hospitals[0], service.domain(), update),
        again,
    )
    assessed = service.assess(service.register(state, updates)).assessment
    assert assessed is not None
    scores = assessed.scores
    assert scores[members[0]].score_bps == 0 and "replays" in scores[members[0]].reason
    assert all("replays" not in scores[m].reason for m in members[1:])
    recomputed = recompute_scores(consortium, service.store, state.chain_round)
    assert {m: c.score_bps for m, c in recomputed.items()} == {m: c.score_bps for m, c in scores.items()}
