"""The round service on a real Anvil, without Flower: a round from open to paid, and a coordinator
restarted after each step resuming from the chain and the model store without doing anything twice."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from eth_account.signers.local import LocalAccount
from web3.types import RPCEndpoint

from bcfl.chain.client import ChainClient
from bcfl.chain.consortium import Consortium
from bcfl.chain.deploy import DEFAULT_PARAMETERS
from bcfl.chain.eip712 import ModelUpdate, sign_update
from bcfl.chain.ledger import LineageHead
from bcfl.models.canonical import document_hash, model_hash
from bcfl.models.store import ModelStore
from coordinator.aggregation import DEFAULT_AGGREGATION
from coordinator.errors import CoordinatorError
from coordinator.incentives import split_budget
from coordinator.journal import RunJournal
from coordinator.rounds.assessment import weights_on_chain
from coordinator.rounds.finalization import evaluation_document
from coordinator.rounds.opening import resume_point
from coordinator.rounds.service import RoundService
from coordinator.rounds.state import Arrays, RoundSettings, RoundState
from coordinator.scoring import DEFAULT_RULE, LEGACY_RULE
from coordinator.verification import Rejection, VerifiedUpdate
from tests.chain.helpers import TEST_APP, admit, deploy_ready, h, mine_to_window_start, prepare_rounds
from tests.conftest import Actors

GLOBAL = {"w": np.linspace(-1, 1, 24, dtype=np.float32), "b": np.zeros(4, dtype=np.float32)}
EXAMPLES = (120, 80, 100)
SETTINGS = RoundSettings(
    min_valid_updates=2, aggregation=DEFAULT_AGGREGATION, num_malicious=1, app_hash=TEST_APP
)
CONFIG = {"local-epochs": 1, "learning-rate": 0.01, "batch-size": 32, "seed": 0}


@pytest.fixture
def consortium(deployed: Consortium, actors: Actors) -> Consortium:
    """A fresh consortium whose lineage starts from ``GLOBAL``, the model these coordinators start
    from, with the test app approved."""
    prepare_rounds(deployed, actors.admin, start=model_hash(GLOBAL))
    return deployed


def service_in(consortium: Consortium, actors: Actors, run_dir: Path) -> RoundService:
    """A coordinator's round service over ``run_dir`` (a new one models a restart)."""
    return RoundService(
        consortium,
        actors.coordinator,
        ModelStore(run_dir / "models"),
        RunJournal(run_dir / "rounds.json"),
        SETTINGS,
    )


def trained(base: Arrays, seed: int, scale: float = 1.0) -> dict[str, np.ndarray]:
    """An honest-looking update: ``base`` moved a little in a shared direction, plus noise (``scale``
    near 0: a free rider's update, nearly the model it was sent)."""
    rng = np.random.default_rng(seed)
    return {
        k: (v + scale * (0.05 + rng.normal(0, 0.01, v.shape))).astype(np.float32) for k, v in base.items()
    }


def signed_updates(
    service: RoundService,
    state: RoundState,
    hospitals: Sequence[LocalAccount],
    members: Sequence[int],
    seed: int = 0,
    scales: Sequence[float] = (1.0, 1.0, 1.0),
) -> list[VerifiedUpdate]:
    """Each hospital's update, signed with its key over this round, as verification hands them on."""
    domain = service.domain()
    result = []
    for index, (account, member_id) in enumerate(zip(hospitals, members, strict=True)):
        arrays = trained(state.opened.global_arrays, seed + index, scales[index])
        update = ModelUpdate(state.chain_round, state.opened.global_hash, model_hash(arrays), EXAMPLES[index])
        result.append(
            VerifiedUpdate(
                index + 1, member_id, account.address, sign_update(account, domain, update), arrays
            )
        )
    return result


def opened_round(
    consortium: Consortium, actors: Actors, members: list[int], run_dir: Path
) -> tuple[RoundService, RoundState, list[VerifiedUpdate]]:
    """A coordinator that opened round 1 and received the three hospitals' signed updates."""
    service = service_in(consortium, actors, run_dir)
    state = service.open(1, GLOBAL, CONFIG)
    return service, state, signed_updates(service, state, actors.hospitals[:3], members)


def journal(run_dir: Path, chain_round: int) -> dict[str, Any]:
    record: dict[str, Any] = next(
        r for r in json.loads((run_dir / "rounds.json").read_text()) if r["chain_round"] == chain_round
    )
    return record


def test_a_round_goes_from_open_to_paid_without_evaluation(
    consortium: Consortium, actors: Actors, members: list[int], tmp_path: Path
) -> None:
    service = service_in(consortium, actors, tmp_path)
    state = service.open(1, GLOBAL, CONFIG)
    assert consortium.ledger.get_round(state.chain_round).status.name == "OPEN"
    updates = signed_updates(service, state, actors.hospitals[:3], members)
    rejected = Rejection(9, "the signature is not theirs", actors.outsider.address)
    state = service.close(service.train(state, [*updates, rejected]))
    on_chain = consortium.ledger.get_round(state.chain_round)
    assert on_chain.status.name == "FINALIZED" and state.finalized and state.paid
    assert state.aggregate is not None and on_chain.aggregated_model_hash == state.aggregate.model_hash
    assert model_hash(service.store.get(on_chain.aggregated_model_hash)) == on_chain.aggregated_model_hash
    assert not np.array_equal(state.aggregate.arrays["w"], GLOBAL["w"])  # the model moved
    (final,) = consortium.ledger.finalized_rounds(round_number=state.chain_round)
    # Trimmed mean (the default) weighs every participant's coordinates alike: weight 1 each.
    assert list(final.participants) == members and list(final.weights) == [1, 1, 1]
    assert final.metrics_hash == document_hash(evaluation_document(None, (), ()))
    # The round's config document: in the store under the hash it was opened with, and journaled.
    document = service.store.get_document(on_chain.config_hash)
    assert document_hash(document) == on_chain.config_hash
    assert document["aggregation"] == {"rule": DEFAULT_AGGREGATION, "num-malicious": 1, "version": 1}
    assert document["learning"] == CONFIG and document["min-valid-updates"] == 2
    assert state.assessment is not None
    paid = {p.member_id: p.amount for p in consortium.distributor.payments(round_number=state.chain_round)}
    budget = consortium.distributor.budget_of(state.chain_round)
    assert paid == split_budget(budget, state.assessment.weights) and 0 < sum(paid.values()) <= budget
    record = journal(tmp_path, state.chain_round)
    assert [u["member_id"] for u in record["updates"]] == members
    assert record["rejected"] == [
        {"node_id": 9, "reason": "the signature is not theirs", "signer": actors.outsider.address}
    ]
    assert record["metrics_hash"] == "0x" + final.metrics_hash.hex()
    assert record["aggregated_model_hash"] == "0x" + on_chain.aggregated_model_hash.hex()
    assert record["config"] == document and record["config_hash"] == "0x" + on_chain.config_hash.hex()
    assert record["aggregation_weights"] == {str(m): 1 for m in members}
    assert set(record) >= {"register_tx", "finalize_tx", "payout_tx", "payouts", "assessment", "evaluation"}
    assert "resent" not in record  # the chain lost nothing: nothing was sent twice


def test_signed_evaluations_go_into_the_finalized_metrics_hash(
    consortium: Consortium, actors: Actors, members: list[int], tmp_path: Path
) -> None:
    service = service_in(consortium, actors, tmp_path)
    state = service.open(1, GLOBAL, CONFIG)
    state = service.train(state, signed_updates(service, state, actors.hospitals[:3], members))
    document = {
        "aggregate": {"accuracy": 0.75},
        "per_member": {"member 1": {"metrics": {"accuracy": 0.75}}},
        "rejected": [],
    }
    service.close(state, document)
    (final,) = consortium.ledger.finalized_rounds(round_number=state.chain_round)
    assert final.metrics_hash == document_hash(document)
    assert journal(tmp_path, state.chain_round)["evaluation"] == document


def test_too_few_valid_updates_fail_the_round_without_registering_or_paying(
    consortium: Consortium, actors: Actors, members: list[int], tmp_path: Path
) -> None:
    service = service_in(consortium, actors, tmp_path)
    state = service.open(1, GLOBAL, CONFIG)
    (only,) = signed_updates(service, state, actors.hospitals[:1], members[:1])
    state = service.close(service.train(state, [only]))
    assert consortium.ledger.updates(round_number=state.chain_round) == []
    (final,) = consortium.ledger.finalized_rounds(round_number=state.chain_round)
    assert final.participants == () and final.aggregated_model_hash == state.opened.global_hash
    assert consortium.distributor.payments(round_number=state.chain_round) == []
    assert journal(tmp_path, state.chain_round)["failed"] == "1 valid updates, need 2"


def test_restarted_after_open_the_round_is_resumed(
    consortium: Consortium, actors: Actors, members: list[int], tmp_path: Path
) -> None:
    first = service_in(consortium, actors, tmp_path).open(1, GLOBAL, CONFIG)
    service = service_in(consortium, actors, tmp_path)  # the coordinator restarts
    state = service.open(1, GLOBAL, CONFIG)
    assert state.chain_round == first.chain_round == consortium.ledger.round_count()
    service.close(service.train(state, signed_updates(service, state, actors.hospitals[:3], members)))
    assert consortium.ledger.get_round(state.chain_round).status.name == "FINALIZED"


def test_a_round_opened_before_scoring_version_2_is_resumed_and_scored_as_it_was_opened(
    consortium: Consortium, actors: Actors, members: list[int], tmp_path: Path
) -> None:
    """A coordinator upgraded while a round is open: the round's config document names no scoring
    rule (version 1), so the upgraded coordinator resumes it with that document and scores it with
    version 1, and the next round with its own rule."""
    old = service_in(consortium, actors, tmp_path)
    old.rule = LEGACY_RULE
    first = old.open(1, GLOBAL, CONFIG)
    assert "scoring" not in old.store.get_document(first.opened.config_hash)
    upgraded = service_in(consortium, actors, tmp_path)
    state = upgraded.open(1, GLOBAL, CONFIG)
    assert state.chain_round == first.chain_round and state.opened.scoring == LEGACY_RULE
    state = upgraded.close(
        upgraded.train(state, signed_updates(upgraded, state, actors.hospitals[:3], members))
    )
    assert consortium.ledger.get_round(state.chain_round).status.name == "FINALIZED"
    assert state.aggregate is not None
    after = upgraded.open(2, state.aggregate.arrays, CONFIG)
    assert after.chain_round == 2 and after.opened.scoring == DEFAULT_RULE
    assert upgraded.store.get_document(after.opened.config_hash)["scoring"] == DEFAULT_RULE.to_document()


def test_a_round_open_with_another_config_document_is_not_resumed(
    consortium: Consortium, actors: Actors, tmp_path: Path
) -> None:
    service_in(consortium, actors, tmp_path).open(1, GLOBAL, CONFIG)
    restarted = service_in(consortium, actors, tmp_path)
    restarted.settings = RoundSettings(2, "median", 1, TEST_APP)  # restarted with another rule
    with pytest.raises(CoordinatorError, match="open on chain with config document 0x"):
        restarted.open(1, GLOBAL, CONFIG)
    assert consortium.ledger.round_count() == 1


def test_restarted_after_register_nothing_is_registered_twice(
    consortium: Consortium, actors: Actors, members: list[int], tmp_path: Path
) -> None:
    before, opened, sent = opened_round(consortium, actors, members, tmp_path)
    before.register(opened, sent)
    registered = consortium.ledger.updates(round_number=opened.chain_round)
    register_tx = journal(tmp_path, opened.chain_round)["register_tx"]
    service = service_in(consortium, actors, tmp_path)
    state = service.open(1, GLOBAL, CONFIG)
    # The hospitals send again: two the same, one a different update than the one on chain.
    changed = signed_updates(service, state, actors.hospitals[2:3], members[2:3], seed=99)
    state = service.close(service.train(state, [*sent[:2], *changed]))
    assert consortium.ledger.updates(round_number=state.chain_round) == registered
    record = journal(tmp_path, state.chain_round)
    assert record["register_tx"] == register_tx
    assert [r["reason"] for r in record["rejected"]] == ["differs from the update registered earlier"]
    (final,) = consortium.ledger.finalized_rounds(round_number=state.chain_round)
    assert list(final.participants) == members[:2]


def test_restarted_after_scoring_nothing_is_scored_twice(
    consortium: Consortium, actors: Actors, members: list[int], tmp_path: Path
) -> None:
    before, opened, sent = opened_round(consortium, actors, members, tmp_path)
    scored = before.assess(before.register(opened, sent))
    history = consortium.reputation.history(round_number=opened.chain_round)
    service = service_in(consortium, actors, tmp_path)
    state = service.train(service.open(1, GLOBAL, CONFIG), sent)
    assert consortium.reputation.history(round_number=state.chain_round) == history
    assert state.assessment == scored.assessment  # read back from the chain, not recomputed anew
    service.close(state)
    assert consortium.ledger.get_round(state.chain_round).status.name == "FINALIZED"


def test_restarted_after_finalize_the_round_is_paid_once(
    consortium: Consortium, actors: Actors, members: list[int], tmp_path: Path
) -> None:
    before, opened, sent = opened_round(consortium, actors, members, tmp_path)
    finalized = before.finalize(before.train(opened, sent))
    assert consortium.distributor.payments(round_number=opened.chain_round) == []
    service = service_in(consortium, actors, tmp_path)
    assert service.settle() == opened.chain_round
    assert finalized.assessment is not None
    paid = {p.member_id: p.amount for p in consortium.distributor.payments(round_number=opened.chain_round)}
    assert paid == split_budget(
        consortium.distributor.budget_of(opened.chain_round), finalized.assessment.weights
    )
    assert journal(tmp_path, opened.chain_round)["payouts"] == {str(m): str(a) for m, a in paid.items()}
    assert service_in(consortium, actors, tmp_path).settle() is None  # never paid twice
    assert len(consortium.distributor.payments(round_number=opened.chain_round)) == len(members)


def saved_state(consortium: Consortium) -> str:
    """A snapshot of the chain, as its state file's last save holds it."""
    snapshot: str = consortium.client.w3.provider.make_request(RPCEndpoint("evm_snapshot"), [])["result"]
    return snapshot


def restarted_from(consortium: Consortium, snapshot: str) -> None:
    """The chain back as ``snapshot`` left it, as a chain killed and started again from its state file
    comes back: without what it did since the file was saved."""
    reverted = consortium.client.w3.provider.make_request(RPCEndpoint("evm_revert"), [snapshot])["result"]
    assert reverted is True


def on_chain(
    consortium: Consortium, chain_round: int
) -> tuple[list[tuple[int, bytes]], list[tuple[int, int, int, int]]]:
    """The round's registered updates (member, hash) and recorded scores (member, score, before, after)."""
    updates = [(u.member_id, u.update_hash) for u in consortium.ledger.updates(round_number=chain_round)]
    scores = [
        (c.member_id, c.contribution, c.previous, c.current)
        for c in consortium.reputation.history(round_number=chain_round)
    ]
    return updates, scores


@pytest.mark.parametrize("lost", ["registrations and scores", "scores"])
def test_what_a_restarted_chain_lost_of_a_round_is_sent_again_before_it_is_finalized(
    consortium: Consortium, actors: Actors, members: list[int], tmp_path: Path, lost: str
) -> None:
    """The chain is killed after the coordinator registered and scored the round, and comes back from
    a state saved before: the coordinator, which holds the receipts, registers and scores again what
    the chain lost before it finalizes, so the round is paid as it was assessed."""
    service, opened, sent = opened_round(consortium, actors, members, tmp_path)
    registered = service.register(opened, sent) if lost == "scores" else opened
    saved = saved_state(consortium)
    state = service.train(opened, sent) if lost != "scores" else service.aggregate(service.assess(registered))
    chain_round = state.chain_round
    held = on_chain(consortium, chain_round)
    assert len(held[0]) == len(held[1]) == len(members)
    restarted_from(consortium, saved)
    assert on_chain(consortium, chain_round)[1] == []  # the scores are gone
    assert (on_chain(consortium, chain_round)[0] == []) == (lost != "scores")
    closed = service.close(state)
    assert on_chain(consortium, chain_round) == held  # the same updates, the same scores, once each
    assert closed.assessment is not None
    assert weights_on_chain(consortium, chain_round) == closed.assessment.weights
    paid = {p.member_id: p.amount for p in consortium.distributor.payments(round_number=chain_round)}
    assert paid == split_budget(consortium.distributor.budget_of(chain_round), closed.assessment.weights)
    record = journal(tmp_path, chain_round)
    resent = {"register_tx", "scores_tx"} if lost != "scores" else {"scores_tx"}
    assert set(record["resent"]) == resent
    receipts = [record["register_tx"], *record["resent"].values(), record["finalize_tx"], record["payout_tx"]]
    for tx in receipts:  # the journal names transactions the chain holds, not the lost ones
        assert consortium.client.w3.eth.get_transaction_receipt(tx)["status"] == 1


def test_a_round_whose_finalization_the_chain_lost_is_closed_again_before_the_next_opens(
    consortium: Consortium, actors: Actors, members: list[int], tmp_path: Path
) -> None:
    """The chain comes back from a state saved before the round was finalized and paid: the round is
    open on chain again, and the coordinator finalizes and pays it again before it opens the next one
    from its aggregate."""
    service, opened, sent = opened_round(consortium, actors, members, tmp_path)
    state = service.train(opened, sent)
    saved = saved_state(consortium)
    closed = service.close(state)
    restarted_from(consortium, saved)
    ledger = consortium.ledger
    assert ledger.get_round(closed.chain_round).status.name == "OPEN"
    assert closed.aggregate is not None and closed.assessment is not None
    following = service.open(2, closed.aggregate.arrays, CONFIG)
    assert following.chain_round == closed.chain_round + 1
    (final,) = ledger.finalized_rounds(round_number=closed.chain_round)
    assert final.aggregated_model_hash == closed.aggregate.model_hash and list(final.participants) == members
    assert ledger.get_round(following.chain_round).global_model_hash == closed.aggregate.model_hash
    paid = {p.member_id: p.amount for p in consortium.distributor.payments(round_number=closed.chain_round)}
    assert paid == split_budget(
        consortium.distributor.budget_of(closed.chain_round), closed.assessment.weights
    )
    record = journal(tmp_path, closed.chain_round)
    assert record["payouts"] == {str(m): str(a) for m, a in paid.items()}
    for tx in (record["finalize_tx"], record["payout_tx"]):
        assert consortium.client.w3.eth.get_transaction_receipt(tx)["status"] == 1
    service.close(service.train(following, signed_updates(service, following, actors.hospitals[:3], members)))
    assert consortium.distributor.paid_rounds() == {closed.chain_round, following.chain_round}


def test_a_fresh_chain_or_a_paid_round_needs_no_settling(
    consortium: Consortium, actors: Actors, members: list[int], tmp_path: Path
) -> None:
    service = service_in(consortium, actors, tmp_path)
    assert service.settle() is None
    state = service.open(1, GLOBAL, CONFIG)
    service.close(service.train(state, signed_updates(service, state, actors.hospitals[:3], members)))
    elsewhere = service_in(consortium, actors, tmp_path / "another-run")
    assert service.settle() is None and elsewhere.settle() is None
    assert elsewhere.journal.rounds == []  # nothing paid, nothing journaled
    assert not (tmp_path / "another-run" / "rounds.json").exists()


@pytest.mark.parametrize("aggregation", ["reputation", "fedavg", "median"])
def test_every_rule_aggregates_the_registered_updates(
    consortium: Consortium, actors: Actors, members: list[int], tmp_path: Path, aggregation: str
) -> None:
    service = service_in(consortium, actors, tmp_path)
    service.settings = RoundSettings(2, aggregation, 1, TEST_APP)
    state = service.open(1, GLOBAL, CONFIG)
    updates = signed_updates(service, state, actors.hospitals[:3], members)
    state = service.train(state, updates)
    assert state.aggregate is not None and len(state.aggregate.participants) == 3
    if aggregation == "fedavg":
        total = sum(EXAMPLES)
        expected: Arrays = {
            k: np.sum(
                [u.arrays[k].astype(np.float64) * n for u, n in zip(updates, EXAMPLES, strict=True)], axis=0
            )
            / total
            for k in GLOBAL
        }
        assert all(np.allclose(state.aggregate.arrays[k], expected[k], atol=1e-6) for k in GLOBAL)
    assert model_hash(state.aggregate.arrays) == state.aggregate.model_hash


def test_a_round_failed_for_exclusions_pays_nobody(
    consortium: Consortium, actors: Actors, members: list[int], tmp_path: Path
) -> None:
    """Members in good standing whose round failed (another excluded, too few left) are not its
    participants, and the distributor pays participants only: the round is finalized, nobody paid."""
    service = service_in(consortium, actors, tmp_path)
    service.settings = RoundSettings(3, DEFAULT_AGGREGATION, 1, TEST_APP)  # every member's update is needed
    state = service.open(1, GLOBAL, CONFIG)
    # Round 1: the third member free-rides, scores 0, and falls below the exclusion threshold.
    updates = signed_updates(service, state, actors.hospitals[:3], members, scales=(1, 1, 1e-4))
    first = service.close(service.train(state, updates))
    assert first.assessment is not None and first.aggregate is not None
    assert first.assessment.reputation_after[members[2]] == 2_500
    # Round 2: two members in good standing, fewer than the three the run requires.
    state = service.open(2, first.aggregate.arrays, CONFIG)
    state = service.close(service.train(state, signed_updates(service, state, actors.hospitals[:3], members)))
    assert state.assessment is not None and list(state.assessment.weights) == members[:2]
    (final,) = consortium.ledger.finalized_rounds(round_number=state.chain_round)
    assert final.participants == () and final.aggregated_model_hash == state.opened.global_hash
    assert consortium.distributor.payments(round_number=state.chain_round) == []
    record = journal(tmp_path, state.chain_round)
    assert record["failed"] == "2 updates from members in good standing" and "payouts" not in record


def test_a_resumed_round_weighs_members_by_the_scores_on_chain(
    consortium: Consortium, actors: Actors, members: list[int], tmp_path: Path
) -> None:
    """Scores are relative to the round's other updates: after a restart with one hospital missing,
    a fresh score of the two left would differ from what the chain recorded, and settle() pays by."""
    before, opened, sent = opened_round(consortium, actors, members, tmp_path)
    before.assess(before.register(opened, sent))
    service = service_in(consortium, actors, tmp_path)
    state = service.train(service.open(1, GLOBAL, CONFIG), sent[:2])
    assert state.assessment is not None
    on_chain = weights_on_chain(consortium, state.chain_round)
    assert state.assessment.weights == {m: on_chain[m] for m in members[:2] if m in on_chain}


# -- what the chain refuses or leaves out ----------------------------------------------------------
def test_an_update_skipped_on_chain_is_journaled_and_the_round_goes_on(
    consortium: Consortium, actors: Actors, members: list[int], tmp_path: Path
) -> None:
    """A member rotates its key after the coordinator checked its update off chain and before the
    registration: the contract skips that update, and the round completes with the others."""
    service, state, updates = opened_round(consortium, actors, members, tmp_path)
    rotated = actors.hospitals[2]
    new_key = actors.hospitals[4]
    consortium.registry.propose_key_rotation(rotated, new_key.address)
    consortium.registry.accept_key_rotation(new_key, members[2])
    state = service.close(service.train(state, updates))
    assert state.registration is not None and not state.registration.failed
    assert [u.member_id for u in state.registration.updates] == members[:2]
    assert [u.member_id for u in consortium.ledger.updates(round_number=state.chain_round)] == members[:2]
    (skipped,) = consortium.ledger.events("UpdateSkipped")
    assert skipped.args["signer"] == rotated.address and skipped.args["index"] == 2
    (final,) = consortium.ledger.finalized_rounds(round_number=state.chain_round)
    assert list(final.participants) == members[:2]
    assert {p.member_id for p in consortium.distributor.payments(round_number=state.chain_round)} == set(
        members[:2]
    )
    record = journal(tmp_path, state.chain_round)
    assert [u["member_id"] for u in record["updates"]] == members[:2]
    assert record["rejected"] == [
        {"node_id": 3, "reason": "skipped on chain: unauthorized signer", "signer": rotated.address}
    ]
    assert "failed" not in record


def test_too_few_updates_left_after_a_skip_fail_the_round(
    consortium: Consortium, actors: Actors, members: list[int], tmp_path: Path
) -> None:
    service, state, updates = opened_round(consortium, actors, members, tmp_path)
    service.settings = RoundSettings(3, DEFAULT_AGGREGATION, 1, TEST_APP)
    consortium.registry.suspend(actors.admin, members[0], "audit")  # after the off-chain check
    state = service.close(service.train(state, updates))
    assert state.registration is not None and state.registration.failed == "2 valid updates, need 3"
    (final,) = consortium.ledger.finalized_rounds(round_number=state.chain_round)
    assert final.participants == () and final.aggregated_model_hash == state.opened.global_hash
    record = journal(tmp_path, state.chain_round)
    assert record["failed"] == "2 valid updates, need 3" and record["updates"] == []
    assert [r["reason"] for r in record["rejected"]] == ["skipped on chain: unauthorized signer"]


def test_rounds_follow_the_lineage(
    consortium: Consortium, actors: Actors, members: list[int], tmp_path: Path
) -> None:
    service, state, updates = opened_round(consortium, actors, members, tmp_path)
    first = service.close(service.train(state, updates))
    assert first.aggregate is not None
    head = consortium.ledger.lineage_head()
    assert head == LineageHead(first.aggregate.model_hash, first.chain_round, 1)
    # Starting over from the fresh model is no longer on the lineage: one line, nothing sent.
    block = consortium.client.block_number()
    with pytest.raises(CoordinatorError) as exc:
        service.open(2, GLOBAL, CONFIG)
    message = str(exc.value)
    assert "\n" not in message
    assert f"0x{model_hash(GLOBAL).hex()} is not the head of the consortium's lineage" in message
    assert f"0x{head.model_hash.hex()}, lineage 1" in message and "bcfl lineage start" in message
    assert consortium.client.block_number() == block
    # A restarted coordinator finds where to go on in its store: the lineage's head.
    restarted = service_in(consortium, actors, tmp_path)
    resumed = resume_point(consortium, restarted.store)
    assert resumed is not None and model_hash(resumed) == head.model_hash
    assert resume_point(consortium, ModelStore(tmp_path / "elsewhere")) is None  # not in that store
    second = restarted.open(2, resumed, CONFIG)
    on_chain = consortium.ledger.get_round(second.chain_round)
    assert (on_chain.global_model_hash, on_chain.parent_round, on_chain.lineage) == (
        head.model_hash, first.chain_round, 1
    )  # fmt: skip
    assert journal(tmp_path, second.chain_round)["global_model_hash"] == "0x" + head.model_hash.hex()


def test_a_round_of_an_app_the_consortium_did_not_approve_is_not_opened(
    consortium: Consortium, actors: Actors, tmp_path: Path
) -> None:
    service = service_in(consortium, actors, tmp_path)
    service.settings = RoundSettings(2, DEFAULT_AGGREGATION, 1, h("unapproved app"))
    with pytest.raises(CoordinatorError, match="is not approved by the consortium on chain") as exc:
        service.open(1, GLOBAL, CONFIG)
    assert f"0x{h('unapproved app').hex()}" in str(exc.value) and "\n" not in str(exc.value)
    assert consortium.ledger.round_count() == 0


def test_a_round_below_the_minimum_participants_is_finalized_but_not_paid(
    consortium: Consortium,
    actors: Actors,
    members: list[int],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    assert consortium.distributor.minting_rule()[0] == 2
    service = service_in(consortium, actors, tmp_path)
    service.settings = RoundSettings(1, DEFAULT_AGGREGATION, 1, TEST_APP)  # one update is enough to learn
    state = service.open(1, GLOBAL, CONFIG)
    (only,) = signed_updates(service, state, actors.hospitals[:1], members[:1])
    with caplog.at_level(logging.WARNING, logger="coordinator.rounds.payment"):
        state = service.close(service.train(state, [only]))
    (final,) = consortium.ledger.finalized_rounds(round_number=state.chain_round)
    assert list(final.participants) == members[:1]  # the model moved on...
    assert consortium.ledger.lineage_head().model_hash == final.aggregated_model_hash
    assert consortium.distributor.payments(round_number=state.chain_round) == []  # ...nobody was paid
    assert consortium.distributor.payout_of(state.chain_round) == (False, 0)
    assert f"round {state.chain_round} is not paid: 1 participants, a paid round needs 2" in caplog.text
    assert "payouts" not in journal(tmp_path, state.chain_round)
    assert service_in(consortium, actors, tmp_path).settle() is None  # and settling does not retry it


def test_a_payment_over_the_mint_limit_is_left_payable(
    client: ChainClient, actors: Actors, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    consortium = deploy_ready(client, actors.admin, actors.coordinator, mint_limit=10**18)
    consortium.ledger.start_lineage(actors.admin, model_hash(GLOBAL), "the round service's model")
    members = [
        admit(consortium, actors.admin, k, f"Hospital {i + 1}") for i, k in enumerate(actors.hospitals[:3])
    ]
    service, state, updates = opened_round(consortium, actors, members, tmp_path)
    with caplog.at_level(logging.WARNING, logger="coordinator.rounds.payment"):
        state = service.close(service.train(state, updates))
    assert consortium.ledger.get_round(state.chain_round).status.name == "FINALIZED"
    assert consortium.distributor.payout_of(state.chain_round) == (False, 0)
    assert f"round {state.chain_round} is not paid yet" in caplog.text
    assert "RewardDistributorMintLimitExceeded" in caplog.text and "stays payable" in caplog.text
    assert "payouts" not in journal(tmp_path, state.chain_round)


def one_round_per_window(client: ChainClient, actors: Actors) -> tuple[Consortium, list[int]]:
    """A consortium of three whose mint limit is one round's budget per 100 blocks, at a window's start."""
    consortium = deploy_ready(
        client,
        actors.admin,
        actors.coordinator,
        mint_limit=DEFAULT_PARAMETERS.round_budget,
        mint_window_blocks=100,
    )
    consortium.ledger.start_lineage(actors.admin, model_hash(GLOBAL), "the round service's model")
    members = [
        admit(consortium, actors.admin, k, f"Hospital {i + 1}") for i, k in enumerate(actors.hospitals[:3])
    ]
    mine_to_window_start(client, 100)
    return consortium, members


def test_a_payment_deferred_by_the_mint_limit_is_settled_in_a_later_window(
    client: ChainClient, actors: Actors, tmp_path: Path
) -> None:
    consortium, members = one_round_per_window(client, actors)
    service, state, updates = opened_round(consortium, actors, members, tmp_path)
    first = service.close(service.train(state, updates))
    assert consortium.distributor.payout_of(first.chain_round)[0]  # the window's budget is spent
    state = service.open(2, first.aggregate.arrays if first.aggregate else GLOBAL, CONFIG)
    second = service.close(
        service.train(state, signed_updates(service, state, actors.hospitals[:3], members))
    )
    assert consortium.distributor.payout_of(second.chain_round) == (False, 0)  # deferred by the limit
    assert service.settle() is None  # still the same window: nothing can be paid yet
    mine_to_window_start(client, 100)
    assert service.settle() == second.chain_round
    paid, total = consortium.distributor.payout_of(second.chain_round)
    assert paid and 0 < total <= DEFAULT_PARAMETERS.round_budget
    assert service.settle() is None  # paid once


def test_a_long_run_pays_the_rounds_the_mint_limit_deferred_oldest_first_without_a_restart(
    client: ChainClient, actors: Actors, tmp_path: Path
) -> None:
    """One window's limit is one round's budget: round 2 is deferred; in the next window round 3's
    close pays round 2 first (no coordinator restart needed) and defers itself."""
    consortium, members = one_round_per_window(client, actors)
    service, state, updates = opened_round(consortium, actors, members, tmp_path)
    rounds = [service.close(service.train(state, updates))]
    for number in (2, 3):
        if number == 3:
            mine_to_window_start(client, 100)
        previous = rounds[-1].aggregate
        state = service.open(number, previous.arrays if previous else GLOBAL, CONFIG)
        updates = signed_updates(service, state, actors.hospitals[:3], members)
        rounds.append(service.close(service.train(state, updates)))
    first, second, third = (r.chain_round for r in rounds)
    payout = consortium.distributor.payout_of
    assert [payout(first)[0], payout(second)[0], payout(third)[0]] == [True, True, False]
    assert "payouts" in journal(tmp_path, second) and "payouts" not in journal(tmp_path, third)
