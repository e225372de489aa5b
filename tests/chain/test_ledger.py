"""RoundLedger: round life cycle, lineage and approved apps, on-chain EIP-712 signature checks, batches
that skip bad entries, and events."""

from __future__ import annotations

import os
import random
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
from eth_account.messages import encode_typed_data
from eth_account.signers.local import LocalAccount
from eth_typing import HexStr
from eth_utils.crypto import keccak

from bcfl.chain import errors
from bcfl.chain.client import ChainClient
from bcfl.chain.consortium import Consortium
from bcfl.chain.deploy import deploy_consortium
from bcfl.chain.eip712 import (
    DOMAIN_NAME,
    DOMAIN_VERSION,
    MODEL_UPDATE_TYPE,
    LedgerDomain,
    ModelUpdate,
    SignedModelUpdate,
    from_compact,
    recover_signer,
    sign_update,
)
from bcfl.chain.events import query_events
from bcfl.chain.ledger import LineageHead, RoundStatus, SkippedUpdate, SkipReason
from bcfl.chain.registry import COORDINATOR_ROLE
from tests.chain.helpers import (
    GENESIS,
    TEST_APP,
    admit,
    audited_signers,
    fresh_account,
    funded_accounts,
    global_hash_of,
    h,
    open_from,
    prepare_rounds,
    random_hash,
    receipt_block,
    recovered_signers,
    run_round,
    sign,
    submit,
)
from tests.conftest import Actors

ZERO_ADDRESS = "0x" + "00" * 20


def open_round(consortium: Consortium, actors: Actors, label: str | None = None) -> int:
    """Open the next round from the model ``label`` (default: the fixture's lineage start, GENESIS)."""
    model = GENESIS if label is None else h(label)
    return open_from(consortium, actors.admin, actors.coordinator, model)


def good_update(
    consortium: Consortium, account: LocalAccount, round_number: int, label: str = "u", examples: int = 10
) -> SignedModelUpdate:
    """A correctly signed update of ``account`` for an open round."""
    global_hash = global_hash_of(consortium, round_number)
    return sign(consortium, account, round_number, global_hash, h(f"{label} {account.address}"), examples)


def skipped(
    consortium: Consortium, sender: LocalAccount, round_number: int, batch: list[SignedModelUpdate]
) -> list[tuple[int, str, bytes, SkipReason]]:
    """Register ``batch`` and return what the contract skipped: (index, signer, update hash, reason)."""
    receipt = consortium.ledger.register_updates(sender, round_number, batch)
    assert receipt["status"] == 1
    return [(s.index, s.signer, s.update_hash, s.reason) for s in consortium.ledger.skipped_in(receipt)]


# -- life cycle ------------------------------------------------------------------------------------
def test_round_life_cycle(consortium: Consortium, actors: Actors, members: list[int]) -> None:
    ledger = consortium.ledger
    assert ledger.round_count() == 0
    assert ledger.get_round(1).status is RoundStatus.NONE
    assert ledger.lineage_head() == LineageHead(GENESIS, 0, 1)

    round_number = ledger.open_round(actors.coordinator, GENESIS, h("config 1"), TEST_APP)
    assert round_number == 1
    assert ledger.round_count() == 1
    opened = ledger.get_round(1)
    assert opened.status is RoundStatus.OPEN
    assert (opened.global_model_hash, opened.config_hash) == (GENESIS, h("config 1"))
    assert opened.opened_at_block == consortium.client.block_number()
    assert (opened.update_count, opened.participant_count, opened.finalized_at_block) == (0, 0, 0)
    assert (opened.parent_round, opened.lineage) == (0, 1)  # a lineage start has no parent round
    assert opened.aggregated_model_hash == bytes(32)
    (event,) = ledger.events("RoundOpened")
    assert event.args == {
        "round": 1,
        "globalModelHash": GENESIS,
        "configHash": h("config 1"),
        "appHash": TEST_APP,
        "parentRound": 0,
        "lineage": 1,
    }

    submit(consortium, actors.coordinator, 1, actors.hospitals[:3])
    assert ledger.get_round(1).update_count == 3
    assert all(ledger.has_submitted(1, m) for m in members)
    assert not ledger.has_submitted(1, 4)
    assert not ledger.has_submitted(2, members[0])
    assert not any(ledger.is_participant(1, m) for m in members)

    participants, weights = [members[0], members[2]], [600, 400]
    receipt = ledger.finalize_round(
        actors.coordinator, 1, h("model 1"), h("metrics 1"), participants, weights
    )
    record = ledger.get_round(1)
    assert record.status is RoundStatus.FINALIZED
    assert record.aggregated_model_hash == h("model 1")
    assert record.participant_count == 2
    (final,) = ledger.finalized_rounds()
    assert (final.metrics_hash, final.participants, final.weights) == (
        h("metrics 1"), tuple(participants), tuple(weights)
    )  # fmt: skip
    assert record.finalized_at_block == receipt_block(receipt) == final.block_number
    assert record.opened_at_block == opened.opened_at_block
    assert record.update_count == 3
    assert [ledger.is_participant(1, m) for m in members] == [True, False, True]
    # The aggregate is the lineage's new head: the next round starts from it, with round 1 as parent.
    assert ledger.lineage_head() == LineageHead(h("model 1"), 1, 1)

    assert ledger.open_round(actors.coordinator, h("model 1"), h("config 2"), TEST_APP) == 2
    assert ledger.round_count() == 2
    second = ledger.get_round(2)
    assert (second.status, second.parent_round, second.lineage) == (RoundStatus.OPEN, 1, 1)


def test_a_round_may_finalize_with_no_participants(
    consortium: Consortium, actors: Actors, members: list[int]
) -> None:
    round_number = open_round(consortium, actors)
    consortium.ledger.finalize_round(actors.coordinator, round_number, h("same model"), bytes(32), [], [])
    record = consortium.ledger.get_round(round_number)
    assert record.status is RoundStatus.FINALIZED
    assert record.participant_count == 0
    (final,) = consortium.ledger.finalized_rounds()
    assert (final.metrics_hash, final.participants, final.weights) == (bytes(32), (), ())
    assert consortium.ledger.lineage_head() == LineageHead(h("same model"), round_number, 1)


# -- lineage and approved apps ---------------------------------------------------------------------
def test_a_fresh_deployment_has_no_lineage_and_no_approved_app(deployed: Consortium, actors: Actors) -> None:
    ledger = deployed.ledger
    assert ledger.lineage_head() == LineageHead(bytes(32), 0, 0)
    assert not ledger.is_app_approved(TEST_APP)
    # No round opens before a lineage starts, not even from the zero hash.
    for model in (h("any model"), bytes(32)):
        with pytest.raises(errors.RoundLedgerNotOnLineage) as exc:
            ledger.open_round(actors.coordinator, model, h("config"), TEST_APP)
        assert exc.value.args_by_name == {"globalModelHash": model, "head": bytes(32)}
    ledger.start_lineage(actors.admin, h("first"), "a fresh model")
    # On the lineage, but the app is not approved.
    with pytest.raises(errors.RoundLedgerAppNotApproved) as exc_app:
        ledger.open_round(actors.coordinator, h("first"), h("config"), TEST_APP)
    assert exc_app.value.args_by_name == {"appHash": TEST_APP}
    assert ledger.round_count() == 0
    ledger.approve_app(actors.admin, TEST_APP)
    assert ledger.is_app_approved(TEST_APP)
    assert ledger.open_round(actors.coordinator, h("first"), h("config"), TEST_APP) == 1


def test_rounds_open_only_from_the_lineage_head(
    consortium: Consortium, actors: Actors, members: list[int]
) -> None:
    ledger = consortium.ledger
    first = run_round(consortium, actors.coordinator, {members[0]: actors.hospitals[0]})
    head = ledger.lineage_head()
    assert head == LineageHead(h(f"aggregate {first}"), first, 1)
    # Not the previous aggregate, not the lineage's start, not a made-up model.
    for model in (GENESIS, h("made up"), bytes(32)):
        with pytest.raises(errors.RoundLedgerNotOnLineage) as exc:
            ledger.open_round(actors.coordinator, model, h("config"), TEST_APP)
        assert exc.value.args_by_name == {"globalModelHash": model, "head": head.model_hash}
    assert ledger.round_count() == first
    second = ledger.open_round(actors.coordinator, head.model_hash, h("config"), TEST_APP)
    assert (ledger.get_round(second).parent_round, ledger.get_round(second).lineage) == (first, 1)

    # A lineage starts only between rounds, and only by the admin; it resets the head with its reason.
    with pytest.raises(errors.RoundLedgerRoundStillOpen) as exc_open:
        ledger.start_lineage(actors.admin, h("rollback"), "the last aggregate was poisoned")
    assert exc_open.value.args_by_name == {"round": second}
    ledger.finalize_round(actors.coordinator, second, h("poisoned"), h("m"), [], [])
    for caller in (actors.coordinator, actors.hospitals[0], actors.outsider):
        with pytest.raises(errors.ConsortiumAccessUnauthorized) as exc_role:
            ledger.start_lineage(caller, h("rollback"), "not mine to decide")
        assert exc_role.value.args_by_name == {"account": caller.address, "role": bytes(32)}
    with pytest.raises(errors.RoundLedgerEmptyValue):
        ledger.start_lineage(actors.admin, bytes(32), "no model")
    receipt = ledger.start_lineage(actors.admin, h("rollback"), "the last aggregate was poisoned")
    assert ledger.lineage_head() == LineageHead(h("rollback"), 0, 2)
    started = [e for e in ledger.events("LineageStarted") if e.block_number == receipt_block(receipt)]
    assert [e.args for e in started] == [
        {
            "lineage": 2,
            "modelHash": h("rollback"),
            "startedBy": actors.admin.address,
            "reason": "the last aggregate was poisoned",
        }
    ]
    with pytest.raises(errors.RoundLedgerNotOnLineage):
        ledger.open_round(actors.coordinator, h("poisoned"), h("config"), TEST_APP)
    third = ledger.open_round(actors.coordinator, h("rollback"), h("config"), TEST_APP)
    assert (ledger.get_round(third).parent_round, ledger.get_round(third).lineage) == (0, 2)


def test_only_approved_apps_run(consortium: Consortium, actors: Actors, members: list[int]) -> None:
    ledger = consortium.ledger
    other = h("another app")
    with pytest.raises(errors.RoundLedgerAppNotApproved) as exc:
        ledger.open_round(actors.coordinator, GENESIS, h("config"), other)
    assert exc.value.args_by_name == {"appHash": other}
    for caller in (actors.coordinator, actors.hospitals[0]):
        with pytest.raises(errors.ConsortiumAccessUnauthorized):
            ledger.approve_app(caller, other)
        with pytest.raises(errors.ConsortiumAccessUnauthorized):
            ledger.revoke_app(caller, TEST_APP)
    ledger.approve_app(actors.admin, other)
    assert ledger.open_round(actors.coordinator, GENESIS, h("config"), other) == 1
    ledger.finalize_round(actors.coordinator, 1, h("next"), h("m"), [], [])
    ledger.revoke_app(actors.admin, other)
    assert not ledger.is_app_approved(other) and ledger.is_app_approved(TEST_APP)
    with pytest.raises(errors.RoundLedgerAppNotApproved):
        ledger.open_round(actors.coordinator, h("next"), h("config"), other)
    assert [e.args["appHash"] for e in ledger.events("AppApproved")] == [TEST_APP, other]
    assert [e.args["appHash"] for e in ledger.events("AppRevoked")] == [other]


# -- access ----------------------------------------------------------------------------------------
def test_only_the_coordinator_role_opens_and_finalizes(
    consortium: Consortium, actors: Actors, members: list[int]
) -> None:
    ledger = consortium.ledger
    round_number = open_round(consortium, actors)
    update = good_update(consortium, actors.hospitals[0], round_number)
    for caller in (actors.admin, actors.hospitals[0], actors.outsider):
        with pytest.raises(errors.ConsortiumAccessUnauthorized) as exc:
            ledger.open_round(caller, GENESIS, h("y"), TEST_APP)
        assert exc.value.args_by_name == {"account": caller.address, "role": COORDINATOR_ROLE}
        with pytest.raises(errors.ConsortiumAccessUnauthorized) as exc:
            ledger.finalize_round(caller, round_number, h("agg"), h("m"), [], [])
        assert exc.value.args_by_name["role"] == COORDINATOR_ROLE
    assert ledger.get_round(round_number).status is RoundStatus.OPEN

    # The role, not the account, is what counts: the registry's admin moves it.
    consortium.registry.grant_coordinator(actors.admin, actors.outsider.address)
    consortium.registry.revoke_coordinator(actors.admin, actors.coordinator.address)
    ledger.register_updates(actors.outsider, round_number, [update])
    with pytest.raises(errors.ConsortiumAccessUnauthorized) as exc:
        ledger.finalize_round(actors.coordinator, round_number, h("agg"), h("m"), [members[0]], [1])
    assert exc.value.args_by_name["account"] == actors.coordinator.address
    ledger.finalize_round(actors.outsider, round_number, h("agg"), h("m"), [members[0]], [1])
    assert ledger.get_round(round_number).status is RoundStatus.FINALIZED


def test_anyone_may_register_a_signed_update(
    consortium: Consortium, actors: Actors, members: list[int]
) -> None:
    """The hospitals' signatures are the authority: a hospital the coordinator left out registers its
    own update while the round is open, and anyone may relay a member's signed update."""
    ledger = consortium.ledger
    round_number = open_round(consortium, actors)
    own = good_update(consortium, actors.hospitals[0], round_number, "own")
    relayed = good_update(consortium, actors.hospitals[1], round_number, "relayed")
    mine = ledger.register_updates(actors.hospitals[0], round_number, [own])
    theirs = ledger.register_updates(actors.outsider, round_number, [relayed])
    w3 = consortium.client.w3
    assert w3.eth.get_transaction(mine["transactionHash"])["from"] == actors.hospitals[0].address
    assert w3.eth.get_transaction(theirs["transactionHash"])["from"] == actors.outsider.address
    registered = ledger.updates(round_number=round_number)
    assert [(u.member_id, u.update_hash) for u in registered] == [
        (members[0], own.update.update_hash),
        (members[1], relayed.update.update_hash),
    ]
    # The event names no signer: the signatures in the transactions' input recover to the members' keys.
    signers = audited_signers(consortium, registered)
    assert signers == [actors.hospitals[0].address, actors.hospitals[1].address]
    assert signers == [consortium.registry.signer_of(u.member_id) for u in registered]
    assert [u.tx_hash for u in registered] == [r["transactionHash"].to_0x_hex() for r in (mine, theirs)]
    assert ledger.get_round(round_number).update_count == 2
    # Whoever sends it, the update counts for the member who signed it, once.
    assert skipped(consortium, actors.hospitals[1], round_number, [own]) == [
        (0, actors.hospitals[0].address, own.update.update_hash, SkipReason.DUPLICATE_UPDATE)
    ]
    # Once the round is closed, nobody registers anything for it.
    ledger.finalize_round(actors.coordinator, round_number, h("agg"), h("m"), members[:2], [1, 1])
    late = good_update(consortium, actors.hospitals[2], round_number)
    with pytest.raises(errors.RoundLedgerRoundNotOpen):
        ledger.register_updates(actors.hospitals[2], round_number, [late])
    assert not ledger.has_submitted(round_number, members[2])


# -- signatures ------------------------------------------------------------------------------------
#: A bad entry, and the signer the contract must report for it (None: whatever it recovers to).
BadEntry = tuple[SignedModelUpdate, str | None]
SignatureCase = Callable[[Consortium, Actors, list[int], int], BadEntry]


def _forged(consortium: Consortium, actors: Actors, members: list[int], rnd: int) -> BadEntry:
    update = ModelUpdate(rnd, global_hash_of(consortium, rnd), h("forged"), 10)
    return SignedModelUpdate(update, os.urandom(32), os.urandom(32)), None


def _zero_signature(consortium: Consortium, actors: Actors, members: list[int], rnd: int) -> BadEntry:
    # r = s = 0 recovers to no one: the contract maps the recovery error to the zero address.
    good = good_update(consortium, actors.hospitals[1], rnd)
    return SignedModelUpdate(good.update, bytes(32), bytes(32)), ZERO_ADDRESS


def _fresh_key(consortium: Consortium, actors: Actors, members: list[int], rnd: int) -> BadEntry:
    key = fresh_account()
    return good_update(consortium, key, rnd), key.address


def _outsider(consortium: Consortium, actors: Actors, members: list[int], rnd: int) -> BadEntry:
    return good_update(consortium, actors.outsider, rnd), actors.outsider.address


def _coordinator(consortium: Consortium, actors: Actors, members: list[int], rnd: int) -> BadEntry:
    return good_update(consortium, actors.coordinator, rnd), actors.coordinator.address


def _pending(consortium: Consortium, actors: Actors, members: list[int], rnd: int) -> BadEntry:
    consortium.registry.request_membership(actors.hospitals[3], "Pending")
    return good_update(consortium, actors.hospitals[3], rnd), actors.hospitals[3].address


def _suspended(consortium: Consortium, actors: Actors, members: list[int], rnd: int) -> BadEntry:
    consortium.registry.suspend(actors.admin, members[1], "audit")
    return good_update(consortium, actors.hospitals[1], rnd), actors.hospitals[1].address


def _rejected(consortium: Consortium, actors: Actors, members: list[int], rnd: int) -> BadEntry:
    member_id = consortium.registry.request_membership(actors.hospitals[3], "Rejected")
    consortium.registry.reject(actors.admin, member_id, "no")
    return good_update(consortium, actors.hospitals[3], rnd), actors.hospitals[3].address


def _other_chain(consortium: Consortium, actors: Actors, members: list[int], rnd: int) -> BadEntry:
    domain = LedgerDomain(
        chain_id=consortium.client.chain_id + 1, verifying_contract=consortium.ledger.address
    )
    update = sign(consortium, actors.hospitals[1], rnd, global_hash_of(consortium, rnd), h("x"), 10, domain)
    assert recover_signer(domain, update) == actors.hospitals[1].address
    return update, None


def _other_contract(consortium: Consortium, actors: Actors, members: list[int], rnd: int) -> BadEntry:
    twin = deploy_consortium(consortium.client, actors.admin, coordinator=actors.coordinator.address)
    domain = LedgerDomain(chain_id=consortium.client.chain_id, verifying_contract=twin.address("RoundLedger"))
    update = sign(consortium, actors.hospitals[1], rnd, global_hash_of(consortium, rnd), h("x"), 10, domain)
    assert recover_signer(domain, update) == actors.hospitals[1].address
    return update, None


def _other_name(consortium: Consortium, actors: Actors, members: list[int], rnd: int) -> BadEntry:
    # Same chain and contract, but not the "BCFL RoundLedger" domain name.
    update = ModelUpdate(rnd, global_hash_of(consortium, rnd), h("x"), 10)
    signable = encode_typed_data(
        domain_data={
            "name": "Some Other App",
            "version": DOMAIN_VERSION,
            "chainId": consortium.client.chain_id,
            "verifyingContract": consortium.ledger.address,
        },
        message_types={"ModelUpdate": MODEL_UPDATE_TYPE},
        message_data=update.message(),
    )
    signed = actors.hospitals[1].sign_message(signable)
    vs = signed.s | ((signed.v - 27) << 255)
    return SignedModelUpdate(update, signed.r.to_bytes(32, "big"), vs.to_bytes(32, "big")), None


def _other_global_model(consortium: Consortium, actors: Actors, members: list[int], rnd: int) -> BadEntry:
    # Signed over a different global model than the round's: the hospital trained from something else.
    return sign(consortium, actors.hospitals[1], rnd, h("stale model"), h("x"), 10), None


def _tampered_examples(consortium: Consortium, actors: Actors, members: list[int], rnd: int) -> BadEntry:
    # The coordinator inflates the example count the hospital signed.
    good = good_update(consortium, actors.hospitals[1], rnd, examples=10)
    inflated = ModelUpdate(rnd, good.update.global_model_hash, good.update.update_hash, 10_000)
    return SignedModelUpdate(inflated, good.r, good.vs), None


def _tampered_hash(consortium: Consortium, actors: Actors, members: list[int], rnd: int) -> BadEntry:
    good = good_update(consortium, actors.hospitals[1], rnd)
    swapped = ModelUpdate(rnd, good.update.global_model_hash, h("poisoned update"), good.update.num_examples)
    return SignedModelUpdate(swapped, good.r, good.vs), None


SIGNATURE_CASES: dict[str, SignatureCase] = {
    "forged random bytes": _forged,
    "all-zero signature": _zero_signature,
    "fresh non-member key": _fresh_key,
    "outsider": _outsider,
    "coordinator's own key": _coordinator,
    "pending member": _pending,
    "suspended member": _suspended,
    "rejected member": _rejected,
    "another chain id": _other_chain,
    "another contract": _other_contract,
    "another domain name": _other_name,
    "another global model": _other_global_model,
    "tampered example count": _tampered_examples,
    "tampered update hash": _tampered_hash,
}


def python_signer(consortium: Consortium, round_number: int, entry: SignedModelUpdate) -> str:
    """The signer Python recovers from a registration entry as the contract reads it (the entry's hash,
    count and signature, under the round's number and global model), or the zero address where it
    refuses the signature (the contract maps its recovery errors to the zero address)."""
    update = ModelUpdate(
        round_number,
        global_hash_of(consortium, round_number),
        entry.update.update_hash,
        entry.update.num_examples,
    )
    try:
        return recover_signer(consortium.ledger.domain(), SignedModelUpdate(update, entry.r, entry.vs))
    except ValueError:
        return ZERO_ADDRESS


@pytest.mark.parametrize("case", list(SIGNATURE_CASES))
def test_unauthorized_signatures_are_skipped(
    consortium: Consortium, actors: Actors, members: list[int], case: str
) -> None:
    ledger = consortium.ledger
    round_number = open_round(consortium, actors)
    bad, expected_signer = SIGNATURE_CASES[case](consortium, actors, members, round_number)
    good = [good_update(consortium, k, round_number) for k in (actors.hospitals[0], actors.hospitals[2])]
    # The bad entry first, between and last: each time it is skipped, and the good ones register.
    batch = [bad, good[0], bad, good[1], bad]
    result = skipped(consortium, actors.coordinator, round_number, batch)
    assert [(index, reason) for index, _, _, reason in result] == [
        (i, SkipReason.UNAUTHORIZED_SIGNER) for i in (0, 2, 4)
    ]
    assert {update_hash for _, _, update_hash, _ in result} == {bad.update.update_hash}
    (signer,) = {signer for _, signer, _, _ in result}
    if expected_signer is not None:
        assert signer == expected_signer
    else:
        # Whatever it recovers to, it is no member's key.
        assert consortium.registry.active_member_id_of(signer) == 0
        assert signer not in {k.address for k in actors.hospitals}
    # Python's recovery names the same signer, or refuses where the contract recovers no one.
    assert python_signer(consortium, round_number, bad) == signer
    assert ledger.get_round(round_number).update_count == 2
    registered = ledger.updates(round_number=round_number)
    assert [(u.member_id, u.update_hash) for u in registered] == [
        (members[0], good[0].update.update_hash),
        (members[2], good[1].update.update_hash),
    ]
    assert not ledger.has_submitted(round_number, members[1])


def test_a_signature_replayed_from_another_round_is_skipped(
    consortium: Consortium, actors: Actors, members: list[int]
) -> None:
    ledger = consortium.ledger
    # Both rounds start from the same global model, so only the round number tells them apart.
    first = open_round(consortium, actors, "model")
    signed = submit(consortium, actors.coordinator, first, actors.hospitals[:2])
    ledger.finalize_round(actors.coordinator, first, h("model"), h("metrics"), members[:2], [1, 1])
    second = ledger.open_round(actors.coordinator, h("model"), h("config"), TEST_APP)

    ((index, signer, update_hash, reason),) = skipped(consortium, actors.coordinator, second, [signed[1]])
    assert (index, update_hash, reason) == (0, signed[1].update.update_hash, SkipReason.UNAUTHORIZED_SIGNER)
    assert signer != actors.hospitals[1].address
    assert not ledger.has_submitted(second, members[1])
    # Signed anew for the second round, the same update is fine.
    fresh = sign(consortium, actors.hospitals[1], second, h("model"), signed[1].update.update_hash, 100)
    assert skipped(consortium, actors.coordinator, second, [fresh]) == []
    assert ledger.has_submitted(second, members[1])


def test_a_bad_entry_is_skipped_and_the_rest_registered(
    consortium: Consortium, actors: Actors, members: list[int]
) -> None:
    ledger = consortium.ledger
    fourth = admit(consortium, actors.admin, actors.hospitals[3], "Hospital 4")
    round_number = open_round(consortium, actors)
    keys = actors.hospitals[:4]
    batch = [good_update(consortium, k, round_number) for k in keys]
    batch[2] = good_update(consortium, actors.outsider, round_number)

    receipt = ledger.register_updates(actors.coordinator, round_number, batch)
    assert ledger.skipped_in(receipt) == [
        SkippedUpdate(
            round_number,
            2,
            actors.outsider.address,
            batch[2].update.update_hash,
            SkipReason.UNAUTHORIZED_SIGNER,
            receipt_block(receipt),
            receipt["transactionHash"].to_0x_hex(),
        )
    ]
    (event,) = ledger.events("UpdateSkipped")
    assert event.args == {
        "round": round_number,
        "index": 2,
        "signer": actors.outsider.address,
        "updateHash": batch[2].update.update_hash,
        "reason": int(SkipReason.UNAUTHORIZED_SIGNER),
    }
    assert ledger.get_round(round_number).update_count == 3
    assert [ledger.has_submitted(round_number, m) for m in [*members, fourth]] == [True, True, False, True]
    registered = [u.member_id for u in ledger.updates(round_number=round_number)]
    assert registered == [members[0], members[1], fourth]

    # The member left out sends its own update later in the round.
    own = good_update(consortium, actors.hospitals[2], round_number)
    assert skipped(consortium, actors.hospitals[2], round_number, [own]) == []
    assert ledger.get_round(round_number).update_count == 4
    assert [u.member_id for u in ledger.updates(round_number=round_number)] == [
        members[0], members[1], fourth, members[2]
    ]  # fmt: skip


def test_registered_signatures_rebuild_a_batch_for_an_audit(
    consortium: Consortium, actors: Actors, members: list[int]
) -> None:
    """``UpdateRegistered`` names no signer: an auditor rebuilds the batch from the transaction's input,
    every entry in order (skipped ones at the index ``UpdateSkipped`` names), each recovering to the key
    the contract saw; any other transaction is refused in one line."""
    ledger = consortium.ledger
    domain = ledger.domain()
    round_number = open_round(consortium, actors)
    first, second = (good_update(consortium, k, round_number) for k in actors.hospitals[:2])
    foreign = good_update(consortium, actors.outsider, round_number)
    batch = [first, foreign, first, second]
    receipt = ledger.register_updates(actors.outsider, round_number, batch)
    tx_hash = receipt["transactionHash"].to_0x_hex()

    entries = ledger.registered_signatures(tx_hash)
    assert entries == batch
    assert [(s.index, s.signer) for s in ledger.skipped_in(receipt)] == [
        (1, recover_signer(domain, entries[1])),
        (2, recover_signer(domain, entries[2])),
    ]
    registered = ledger.updates(round_number=round_number)
    assert [u.member_id for u in registered] == members[:2]
    assert audited_signers(consortium, registered) == [k.address for k in actors.hospitals[:2]]

    finalized = ledger.finalize_round(actors.coordinator, round_number, h("a"), h("m"), members[:2], [1, 1])
    with pytest.raises(ValueError, match="does not call registerUpdates"):
        ledger.registered_signatures(finalized["transactionHash"].to_0x_hex())
    elsewhere = consortium.registry.grant_coordinator(actors.admin, actors.outsider.address)
    with pytest.raises(ValueError, match="is not sent to the RoundLedger"):
        ledger.registered_signatures(elsewhere["transactionHash"].to_0x_hex())
    # A registration mined with a fixed gas limit (no simulation first) that reverted registered nothing.
    call = ledger.contract.functions.registerUpdates(round_number, [second.contract_tuple()])
    with pytest.raises(errors.RoundLedgerRoundNotOpen):
        consortium.client.transact(call, actors.outsider, gas=200_000)
    (reverted,) = consortium.client.w3.eth.get_block("latest")["transactions"]
    assert isinstance(reverted, bytes)
    with pytest.raises(ValueError, match="reverted and registered nothing"):
        ledger.registered_signatures(reverted.to_0x_hex())


def test_duplicate_updates(consortium: Consortium, actors: Actors, members: list[int]) -> None:
    ledger = consortium.ledger
    round_number = open_round(consortium, actors)
    first = good_update(consortium, actors.hospitals[0], round_number, "a")
    second = good_update(consortium, actors.hospitals[1], round_number, "a")
    again = good_update(consortium, actors.hospitals[0], round_number, "b")  # another update, same member
    duplicate = SkipReason.DUPLICATE_UPDATE
    a0 = actors.hospitals[0].address

    # Within one batch: the member's first entry counts, the later ones are skipped.
    assert skipped(consortium, actors.coordinator, round_number, [first, first, second, again]) == [
        (1, a0, first.update.update_hash, duplicate),
        (3, a0, again.update.update_hash, duplicate),
    ]
    assert ledger.get_round(round_number).update_count == 2
    # Across batches: what the chain holds already is skipped, a new member's entry registers.
    third = good_update(consortium, actors.hospitals[2], round_number)
    assert skipped(consortium, actors.coordinator, round_number, [again, third, first]) == [
        (0, a0, again.update.update_hash, duplicate),
        (2, a0, first.update.update_hash, duplicate),
    ]
    assert ledger.get_round(round_number).update_count == 3
    assert [u.update_hash for u in ledger.updates(member_id=members[0])] == [first.update.update_hash]
    assert [u.member_id for u in ledger.updates(round_number=round_number)] == members


def test_a_rotated_member_cannot_submit_twice(
    consortium: Consortium, actors: Actors, members: list[int]
) -> None:
    ledger = consortium.ledger
    round_number = open_round(consortium, actors)
    ledger.register_updates(
        actors.coordinator, round_number, [good_update(consortium, actors.hospitals[0], round_number)]
    )
    new_key = actors.hospitals[4]
    consortium.registry.propose_key_rotation(actors.hospitals[0], new_key.address)
    consortium.registry.accept_key_rotation(new_key, members[0])
    by_new = good_update(consortium, new_key, round_number)
    assert skipped(consortium, actors.coordinator, round_number, [by_new]) == [
        (0, new_key.address, by_new.update.update_hash, SkipReason.DUPLICATE_UPDATE)
    ]
    # The update registered before the rotation was signed by the key of its day, not today's.
    registered = ledger.updates(member_id=members[0])
    assert audited_signers(consortium, registered) == [actors.hospitals[0].address]
    assert consortium.registry.signer_of(members[0]) == new_key.address


def test_empty_values(consortium: Consortium, actors: Actors, members: list[int]) -> None:
    ledger = consortium.ledger
    with pytest.raises(errors.RoundLedgerNotOnLineage) as exc_lineage:
        ledger.open_round(actors.coordinator, bytes(32), h("config"), TEST_APP)
    assert exc_lineage.value.args_by_name == {"globalModelHash": bytes(32), "head": GENESIS}
    with pytest.raises(errors.RoundLedgerEmptyValue) as exc:
        ledger.start_lineage(actors.admin, bytes(32), "no model")
    assert exc.value.args_by_name == {"index": 0}
    assert ledger.round_count() == 0
    round_number = ledger.open_round(actors.coordinator, GENESIS, bytes(32), TEST_APP)  # config may be 0

    good = good_update(consortium, actors.hospitals[0], round_number)
    # Validly signed, but empty: skipped before any signature check (no signer recovered).
    no_hash = sign(consortium, actors.hospitals[1], round_number, GENESIS, bytes(32), 10)
    no_examples = sign(consortium, actors.hospitals[1], round_number, GENESIS, h("u"), 0)
    assert skipped(consortium, actors.coordinator, round_number, [no_hash, good, no_examples]) == [
        (0, ZERO_ADDRESS, bytes(32), SkipReason.EMPTY_VALUE),
        (2, ZERO_ADDRESS, h("u"), SkipReason.EMPTY_VALUE),
    ]
    assert ledger.get_round(round_number).update_count == 1
    assert not ledger.has_submitted(round_number, members[1])

    with pytest.raises(errors.RoundLedgerEmptyValue) as exc:
        ledger.finalize_round(actors.coordinator, round_number, bytes(32), h("m"), [members[0]], [1])
    assert exc.value.args_by_name == {"index": 0}
    assert ledger.get_round(round_number).status is RoundStatus.OPEN


def test_an_empty_batch_registers_nothing(consortium: Consortium, actors: Actors, members: list[int]) -> None:
    round_number = open_round(consortium, actors)
    assert skipped(consortium, actors.coordinator, round_number, []) == []
    assert consortium.ledger.get_round(round_number).update_count == 0
    assert consortium.ledger.updates() == []


def test_round_not_open(consortium: Consortium, actors: Actors, members: list[int]) -> None:
    ledger = consortium.ledger
    update = sign(consortium, actors.hospitals[0], 1, GENESIS, h("u"), 10)
    for round_number in (0, 1):
        for sender in (actors.coordinator, actors.hospitals[0]):
            with pytest.raises(errors.RoundLedgerRoundNotOpen) as exc:
                ledger.register_updates(sender, round_number, [update])
            assert exc.value.args_by_name == {"round": round_number}
        with pytest.raises(errors.RoundLedgerRoundNotOpen):
            ledger.finalize_round(actors.coordinator, round_number, h("a"), h("m"), [], [])

    assert open_round(consortium, actors) == 1
    with pytest.raises(errors.RoundLedgerRoundNotOpen) as exc:
        ledger.register_updates(actors.coordinator, 2, [update])
    assert exc.value.args_by_name == {"round": 2}
    ledger.register_updates(actors.coordinator, 1, [update])
    ledger.finalize_round(actors.coordinator, 1, h("a"), h("m"), [members[0]], [1])

    late = good_update(consortium, actors.hospitals[1], 1)
    with pytest.raises(errors.RoundLedgerRoundNotOpen) as exc:
        ledger.register_updates(actors.coordinator, 1, [late])
    assert exc.value.args_by_name == {"round": 1}
    with pytest.raises(errors.RoundLedgerRoundNotOpen):
        ledger.finalize_round(actors.coordinator, 1, h("b"), h("m"), [members[0]], [2])
    record = ledger.get_round(1)
    assert (record.aggregated_model_hash, record.update_count) == (h("a"), 1)


def test_previous_round_still_open(consortium: Consortium, actors: Actors, members: list[int]) -> None:
    open_round(consortium, actors)
    with pytest.raises(errors.RoundLedgerRoundStillOpen) as exc:
        consortium.ledger.open_round(actors.coordinator, GENESIS, h("config"), TEST_APP)
    assert exc.value.args_by_name == {"round": 1}
    # Nor can a new lineage start under a round still open.
    with pytest.raises(errors.RoundLedgerRoundStillOpen) as exc:
        open_round(consortium, actors, "another model")
    assert exc.value.args_by_name == {"round": 1}
    assert consortium.ledger.round_count() == 1
    assert consortium.ledger.get_round(2).status is RoundStatus.NONE
    assert consortium.ledger.lineage_head() == LineageHead(GENESIS, 0, 1)


def test_finalize_rules(consortium: Consortium, actors: Actors, members: list[int]) -> None:
    ledger = consortium.ledger
    round_number = open_round(consortium, actors)
    submit(consortium, actors.coordinator, round_number, actors.hospitals[:2])
    m1, m2, m3 = members

    def finalize(participants: list[int], weights: list[int]) -> None:
        ledger.finalize_round(actors.coordinator, round_number, h("agg"), h("m"), participants, weights)

    with pytest.raises(errors.RoundLedgerParticipantsNotSorted) as exc:
        finalize([m2, m1], [1, 1])
    assert exc.value.args_by_name == {"index": 1}
    with pytest.raises(errors.RoundLedgerParticipantsNotSorted) as exc:
        finalize([m1, m1], [1, 1])
    assert exc.value.args_by_name == {"index": 1}
    with pytest.raises(errors.RoundLedgerParticipantsNotSorted) as exc:
        finalize([0, m1], [1, 1])
    assert exc.value.args_by_name == {"index": 0}
    with pytest.raises(errors.RoundLedgerNotSubmitted) as exc_missing:
        finalize([m1, m3], [1, 1])
    assert exc_missing.value.args_by_name == {"round": round_number, "memberId": m3}
    with pytest.raises(errors.RoundLedgerNotSubmitted) as exc_missing:
        finalize([m1, m2, 999], [1, 1, 1])
    assert exc_missing.value.args_by_name == {"round": round_number, "memberId": 999}
    with pytest.raises(errors.RoundLedgerLengthMismatch) as exc_length:
        finalize([m1, m2], [1])
    assert exc_length.value.args_by_name == {"participants": 2, "weights": 1}
    with pytest.raises(errors.RoundLedgerLengthMismatch) as exc_length:
        finalize([], [5])
    assert exc_length.value.args_by_name == {"participants": 0, "weights": 1}

    assert ledger.get_round(round_number).status is RoundStatus.OPEN
    assert not ledger.is_participant(round_number, m1)
    finalize([m1, m2], [3, 7])
    assert ledger.get_round(round_number).status is RoundStatus.FINALIZED


# -- key rotation ----------------------------------------------------------------------------------
def test_after_key_rotation_only_the_new_key_signs(
    consortium: Consortium, actors: Actors, members: list[int]
) -> None:
    ledger = consortium.ledger
    old_key, new_key = actors.hospitals[0], actors.hospitals[4]
    round_number = open_round(consortium, actors)
    consortium.registry.propose_key_rotation(old_key, new_key.address)

    # Proposed but not yet accepted: the old key still signs, the new one not yet.
    too_early = good_update(consortium, new_key, round_number)
    assert skipped(consortium, actors.coordinator, round_number, [too_early]) == [
        (0, new_key.address, too_early.update.update_hash, SkipReason.UNAUTHORIZED_SIGNER)
    ]

    consortium.registry.accept_key_rotation(new_key, members[0])
    by_old = good_update(consortium, old_key, round_number, "old")
    assert skipped(consortium, actors.coordinator, round_number, [by_old]) == [
        (0, old_key.address, by_old.update.update_hash, SkipReason.UNAUTHORIZED_SIGNER)
    ]

    by_new = good_update(consortium, new_key, round_number, "new")
    assert skipped(consortium, actors.coordinator, round_number, [by_new]) == []
    (registered,) = ledger.updates(round_number=round_number)
    assert registered.member_id == members[0]
    assert audited_signers(consortium, [registered]) == [new_key.address]
    assert registered.update_hash == by_new.update.update_hash


# -- the Python EIP-712 code agrees with the contract ----------------------------------------------
def test_python_eip712_agrees_with_the_contract(
    consortium: Consortium, actors: Actors, members: list[int]
) -> None:
    ledger = consortium.ledger
    domain = ledger.domain()
    assert domain == LedgerDomain(consortium.client.chain_id, ledger.address)
    assert domain.as_dict()["name"] == DOMAIN_NAME
    rng = random.Random(20240611)
    keys = [actors.hospitals[0], actors.hospitals[1], actors.hospitals[2], fresh_account()]
    for _ in range(8):
        update = ModelUpdate(
            round=rng.choice([0, 1, rng.getrandbits(64), rng.getrandbits(256)]),
            global_model_hash=rng.randbytes(32),
            update_hash=rng.randbytes(32),
            num_examples=rng.choice([0, 1, 2**64 - 1, rng.getrandbits(64)]),
            epsilon_spent=rng.choice([0, 1, 2**64 - 1, rng.getrandbits(64)]),
            delta_spent=rng.choice([0, 10**13, 2**64 - 1, rng.getrandbits(64)]),
        )
        signable = encode_typed_data(
            domain_data=domain.as_dict(),
            message_types={"ModelUpdate": MODEL_UPDATE_TYPE},
            message_data=update.message(),
        )
        python_digest = keccak(b"\x19" + signable.version + signable.header + signable.body)
        chain_digest = ledger.update_digest(update)
        assert chain_digest == python_digest

        key = rng.choice(keys)
        signed = sign_update(key, domain, update)
        assert recover_signer(domain, signed) == key.address
        assert from_compact(update, signed.signature) == signed
        assert len(signed.signature) == 64

    # And the contract recovers the same signers from the same signatures: each update counts for the
    # member whose key Python recovers from the registration transaction's input.
    round_number = open_round(consortium, actors)
    global_hash = global_hash_of(consortium, round_number)
    signed_updates = [
        sign(consortium, k, round_number, global_hash, rng.randbytes(32), rng.randrange(1, 2**64))
        for k in actors.hospitals[:3]
    ]
    ledger.register_updates(actors.coordinator, round_number, signed_updates)
    registered = ledger.updates(round_number=round_number)
    assert [u.member_id for u in registered] == members[:3]
    assert ledger.registered_signatures(registered[0].tx_hash) == signed_updates
    addresses = [k.address for k in actors.hospitals[:3]]
    assert recovered_signers(consortium, registered) == [recover_signer(domain, s) for s in signed_updates]
    assert recovered_signers(consortium, registered) == addresses
    assert [consortium.registry.signer_of(m) for m in members[:3]] == addresses


def test_from_compact_rejects_a_wrong_length() -> None:
    update = ModelUpdate(1, h("g"), h("u"), 1)
    with pytest.raises(ValueError, match="64 bytes"):
        from_compact(update, bytes(65))


# -- events ----------------------------------------------------------------------------------------
def test_events_carry_exactly_what_was_registered(
    consortium: Consortium, actors: Actors, members: list[int]
) -> None:
    ledger = consortium.ledger
    keys = actors.hospitals[:3]
    expected: dict[int, list[tuple[int, int, bytes, int]]] = {}
    finalized: list[tuple[int, tuple[int, ...], tuple[int, ...]]] = []
    blocks: dict[int, int] = {}
    for round_number in (1, 2, 3):
        assert open_round(consortium, actors, f"model {round_number}") == round_number
        submitters = list(zip(members, keys, strict=True))[:round_number]
        batch = []
        for member_id, key in submitters:
            update_hash, examples = random_hash(), random.randrange(1, 10**6)
            batch.append(
                sign(consortium, key, round_number, h(f"model {round_number}"), update_hash, examples)
            )
            expected.setdefault(round_number, []).append((round_number, member_id, update_hash, examples))
        receipt = ledger.register_updates(actors.coordinator, round_number, batch)
        blocks[round_number] = receipt_block(receipt)
        participants = tuple(m for m, _ in submitters)
        weights = tuple(random.randrange(0, 2**256) for _ in participants)
        ledger.finalize_round(
            actors.coordinator, round_number, h(f"model {round_number + 1}"), h("m"), participants, weights
        )
        finalized.append((round_number, participants, weights))

    def as_tuples(
        round_number: int | None = None, member_id: int | None = None, **kw: int
    ) -> list[tuple[int, int, bytes, int]]:
        return [
            (u.round, u.member_id, u.update_hash, u.num_examples)
            for u in ledger.updates(round_number=round_number, member_id=member_id, **kw)
        ]

    everything = [t for r in (1, 2, 3) for t in expected[r]]
    assert as_tuples() == everything
    for round_number in (1, 2, 3):
        assert as_tuples(round_number) == expected[round_number]
    for member_id in members:
        assert as_tuples(member_id=member_id) == [t for t in everything if t[1] == member_id]
    assert as_tuples(2, members[1]) == [t for t in expected[2] if t[1] == members[1]]
    assert as_tuples(2, members[2]) == []
    assert as_tuples(4) == []
    assert as_tuples(from_block=blocks[2]) == expected[2] + expected[3]
    assert as_tuples(to_block=blocks[2]) == expected[1] + expected[2]
    assert as_tuples(from_block=blocks[2], to_block=blocks[2]) == expected[2]
    assert as_tuples(from_block=blocks[3] + 1) == []

    everyone = ledger.updates()
    signers = dict(zip((u.member_id for u in everyone), audited_signers(consortium, everyone), strict=True))
    assert signers == {m: k.address for m, k in zip(members, keys, strict=True)}
    for update in ledger.updates(round_number=3):
        assert update.block_number == blocks[3]
        assert (
            consortium.client.w3.eth.get_transaction_receipt(HexStr(update.tx_hash))["blockNumber"]
            == blocks[3]
        )

    records = ledger.finalized_rounds()
    assert [(f.round, f.participants, f.weights) for f in records] == finalized
    assert [f.aggregated_model_hash for f in records] == [h(f"model {r + 1}") for r in (1, 2, 3)]
    for f in records:
        assert ledger.get_round(f.round).participant_count == len(f.participants)
        assert ledger.get_round(f.round).finalized_at_block == f.block_number
    (only_two,) = ledger.finalized_rounds(round_number=2)
    assert (only_two.round, only_two.participants) == (2, tuple(members[:2]))
    assert [f.round for f in ledger.finalized_rounds(from_block=blocks[2])] == [2, 3]
    assert [f.round for f in ledger.finalized_rounds(to_block=blocks[2])] == [1]


def test_event_queries_in_small_chunks_find_the_same_events(
    consortium: Consortium, actors: Actors, members: list[int]
) -> None:
    for _ in range(3):
        all_members = dict(zip(members, actors.hospitals, strict=False))
        run_round(consortium, actors.coordinator, all_members)
    ledger = consortium.ledger
    whole = query_events(
        consortium.client,
        "RoundLedger",
        ledger.contract,
        "UpdateRegistered",
        from_block=ledger.deployment_block,
    )
    assert len(whole) == 9
    for chunk in (1, 2, 3, 7):
        chunked = query_events(
            consortium.client,
            "RoundLedger",
            ledger.contract,
            "UpdateRegistered",
            from_block=ledger.deployment_block,
            chunk=chunk,
        )
        assert chunked == whole
    filtered = query_events(
        consortium.client,
        "RoundLedger",
        ledger.contract,
        "UpdateRegistered",
        filters={"memberId": members[1]},
        from_block=ledger.deployment_block,
        chunk=2,
    )
    assert [e.args["round"] for e in filtered] == [1, 2, 3]


def test_events_of_another_deployment_are_not_mixed_in(
    consortium: Consortium, client: ChainClient, actors: Actors, members: list[int]
) -> None:
    run_round(consortium, actors.coordinator, {members[0]: actors.hospitals[0]})
    twin_manifest = deploy_consortium(client, actors.admin, coordinator=actors.coordinator.address)
    twin = Consortium.connect(client, twin_manifest)
    prepare_rounds(twin, actors.admin)
    twin_member = admit(twin, actors.admin, actors.hospitals[0], "Twin member")
    run_round(twin, actors.coordinator, {twin_member: actors.hospitals[0]})
    assert len(consortium.ledger.updates()) == 1
    assert len(twin.ledger.updates()) == 1
    assert consortium.ledger.updates()[0].tx_hash != twin.ledger.updates()[0].tx_hash


# -- a large batch ---------------------------------------------------------------------------------
def test_fifty_updates_in_one_transaction(
    client: ChainClient, consortium: Consortium, actors: Actors
) -> None:
    ledger = consortium.ledger
    hospitals = funded_accounts(client, 50)

    # Each hospital requests with its own key: the client serializes per sender only, so the requests
    # may go out side by side; the admin's approvals then follow one by one.
    def request(index: int) -> int:
        return consortium.registry.request_membership(hospitals[index], f"Hospital {index}")

    with ThreadPoolExecutor(max_workers=10) as pool:
        requested = list(pool.map(request, range(len(hospitals))))
    assert sorted(requested) == list(range(1, 51))
    assert [consortium.registry.member_id_of(k.address) for k in hospitals] == requested
    for member_id in range(1, 51):
        consortium.registry.approve(actors.admin, member_id)
    assert consortium.registry.active_member_count() == 50
    # From here on, hospitals in member id order.
    member_ids = list(range(1, 51))
    hospitals = [k for _, k in sorted(zip(requested, hospitals, strict=True), key=lambda pair: pair[0])]

    round_number = open_round(consortium, actors)
    batch = [
        sign(consortium, k, round_number, GENESIS, random_hash(), i + 1) for i, k in enumerate(hospitals)
    ]
    receipt = ledger.register_updates(actors.coordinator, round_number, batch)
    assert receipt["status"] == 1

    assert ledger.get_round(round_number).update_count == 50
    assert all(ledger.has_submitted(round_number, m) for m in member_ids)
    registered = ledger.updates(round_number=round_number)
    assert len(registered) == 50
    assert {u.tx_hash for u in registered} == {receipt["transactionHash"].to_0x_hex()}
    assert [(u.member_id, u.update_hash, u.num_examples) for u in registered] == [
        (m, s.update.update_hash, s.update.num_examples) for m, s in zip(member_ids, batch, strict=True)
    ]
    weights = [s.update.num_examples for s in batch]
    ledger.finalize_round(actors.coordinator, round_number, h("agg"), h("m"), member_ids, weights)
    assert all(ledger.is_participant(round_number, m) for m in member_ids)
    assert ledger.finalized_rounds()[0].weights == tuple(weights)
