"""Crafted chain histories the contracts would refuse (made by changing their storage for one
transaction, see :mod:`tests.audit.crafting`): an update signed by a suspended member's key, a
payout to an excluded member, a round opened off the lineage; and histories the ledger accepts (a
member in good standing left out of the aggregate, participants finalized without a score). The
audit names each, in the one check that proves it, and ``bcfl audit report`` exits 2."""

from __future__ import annotations

import csv
import dataclasses
import io
from pathlib import Path

import pytest

from bcfl.audit.context import AuditContext
from bcfl.audit.model import AuditReport
from bcfl.audit.report import build_report
from bcfl.audit.source import ScanSource
from bcfl.chain.consortium import Consortium
from bcfl.chain.errors import (
    RewardDistributorNotParticipant,
    RoundLedgerNotOnLineage,
    RoundLedgerParticipantExcluded,
)
from bcfl.chain.privacy import PrivacyBudget
from bcfl.models.canonical import model_hash
from coordinator.incentives import split_budget
from coordinator.rounds.finalization import evaluation_document
from coordinator.rounds.service import RoundService
from coordinator.rounds.state import RoundState
from tests.audit.crafting import (
    lineage_head,
    participant,
    privacy_budget_lifted,
    reputation_before,
    signer_active,
)
from tests.audit.runs import Run, evaluations, trained_round
from tests.audit.test_commands import audit
from tests.chain.helpers import TEST_APP, h
from tests.conftest import Actors
from tests.coordinator.test_round_service import CONFIG, GLOBAL, service_in, signed_updates, trained

#: Every check, in report order.
CHECKS = (
    "signatures", "one-update-per-member", "lineage", "payouts", "reputation-replay", "chain-state",
    "manifest-addresses", "privacy-budget", "store-files", "recompute", "evaluations",
)  # fmt: skip


def closed(service: RoundService, state: RoundState, actors: Actors, members: list[int]) -> RoundState:
    """The trained round finalized with its signed evaluations and paid."""
    return service.close(state, evaluations(service, state, actors, members))


def failed_checks(run: Run) -> tuple[AuditReport, dict[str, tuple[str, ...]]]:
    report = build_report(AuditContext.load(ScanSource(run.consortium), run.store))
    assert [c.name for c in report.checks] == list(CHECKS)
    assert not report.clean and report.verdict.startswith("FAILED: ")
    return report, {c.name: c.problems for c in report.checks if not c.ok}


def named_by_the_command(run: Run, cwd: Path, check: str, problem: str) -> None:
    done = audit(run, cwd, "report")
    assert done.returncode == 2, done.stderr
    assert f"check failed: {check}: {problem}" in done.stderr


def excluded_in_round_two(
    service: RoundService, actors: Actors, members: list[int]
) -> tuple[RoundState, int]:
    """Round 1, where the third member free-rides, scores 0 and falls below the exclusion
    threshold, closed; round 2 trained (its aggregate leaves that member out); and the member."""
    state = service.open(1, GLOBAL, CONFIG)
    free_rider = signed_updates(service, state, actors.hospitals[:3], members, seed=10, scales=(1, 1, 1e-4))
    first = closed(service, service.train(state, free_rider), actors, members)
    assert first.aggregate is not None
    state = trained_round(service, actors, members, 2, first.aggregate.arrays)
    assert state.assessment is not None and state.assessment.excluded == [members[2]]
    return state, members[2]


def test_an_update_signed_by_a_suspended_members_key_is_named(
    consortium: Consortium, actors: Actors, members: list[int], tmp_path: Path
) -> None:
    run = Run(consortium, tmp_path / "run", members)
    service = service_in(consortium, actors, run.run_dir)
    first = closed(service, trained_round(service, actors, members, 1, GLOBAL), actors, members)
    assert first.aggregate is not None
    suspended, key = members[2], actors.hospitals[2].address
    consortium.registry.suspend(actors.admin, suspended, "data use agreement lapsed")
    state = service.open(2, first.aggregate.arrays, CONFIG)
    updates = signed_updates(service, state, actors.hospitals[:3], members, seed=20)
    with signer_active(consortium, key) as was_active:
        state = service.register(state, updates)
    assert was_active == 0 and consortium.registry.active_member_id_of(key) == 0  # restored
    assert state.registration is not None and len(state.registration.updates) == 3
    state = service.aggregate(service.assess(state))
    document = evaluations(service, state, actors, members)
    del document["per_member"][f"member {suspended}"]  # a suspended member evaluates nothing
    service.close(state, document)

    report, failed = failed_checks(run)
    assert list(failed) == ["signatures"], failed
    (problem,) = failed["signatures"]
    update = next(u for u in report.rounds[1].updates if u.member_id == suspended)
    assert problem == (
        f"round 2 member {suspended} update {update.update_hash}: "
        f"signed by {key}, whose member was suspended at that block"
    )
    assert not update.signature_valid
    assert all(u.signature_valid for r in report.rounds for u in r.updates if u is not update)
    named_by_the_command(run, tmp_path / "audit", "signatures", f"round 2 member {suspended} update")


def test_a_payout_to_an_excluded_member_is_named(
    consortium: Consortium, actors: Actors, members: list[int], tmp_path: Path
) -> None:
    run = Run(consortium, tmp_path / "run", members)
    service = service_in(consortium, actors, run.run_dir)
    state, excluded = excluded_in_round_two(service, actors, members)
    # Finalized without it (the ledger refuses it as a participant), then paid with it.
    assert state.assessment is not None
    honest = state.assessment.weights
    service.finalize(state, evaluations(service, state, actors, members))
    weights = {**honest, excluded: min(honest.values())}  # its share, as if it were in good standing
    amounts = split_budget(consortium.distributor.budget_of(2), weights)
    paid = sorted(amounts)
    with pytest.raises(RewardDistributorNotParticipant):  # what the distributor says without crafting
        consortium.distributor.pay_round(actors.coordinator, 2, paid, [amounts[m] for m in paid])
    with participant(consortium, 2, excluded) as was_participant:
        consortium.distributor.pay_round(actors.coordinator, 2, paid, [amounts[m] for m in paid])
    assert not was_participant & (1 << excluded)
    assert not consortium.ledger.is_participant(2, excluded)  # restored

    report, failed = failed_checks(run)
    assert list(failed) == ["payouts"], failed
    assert f"round 2 member {excluded}: paid {amounts[excluded]} while excluded" in "\n".join(
        failed["payouts"]
    )
    assert all(not p.startswith("round 1") for p in failed["payouts"])
    assert {p.member_id for p in report.rounds[1].payouts} == set(members)
    named_by_the_command(run, tmp_path / "audit", "payouts", f"round 2 member {excluded}: paid")


def test_an_excluded_member_finalized_as_a_participant_is_named(
    consortium: Consortium, actors: Actors, members: list[int], tmp_path: Path
) -> None:
    """Not paid, but aggregated: the round's participants break the ledger's rule, named from the
    events alone (and, with the store, the aggregate no longer recomputes)."""
    run = Run(consortium, tmp_path / "run", members)
    service = service_in(consortium, actors, run.run_dir)
    state, excluded = excluded_in_round_two(service, actors, members)
    assert state.aggregate is not None
    document = evaluations(service, state, actors, members)
    metrics = service.store.put_document(document)
    weights = {**state.aggregate.weights, excluded: 1}
    ids = sorted(weights)
    finalize = (state.aggregate.model_hash, metrics, ids, [weights[m] for m in ids])
    with pytest.raises(RoundLedgerParticipantExcluded):  # what the ledger says without crafting
        consortium.ledger.finalize_round(actors.coordinator, 2, *finalize)
    with reputation_before(consortium, excluded, 5_000) as was:
        consortium.ledger.finalize_round(actors.coordinator, 2, *finalize)
    assert was == 2_500 and consortium.reputation.reputation_before(2, excluded) == 2_500  # restored
    service.pay(dataclasses.replace(state, finalized=True))
    assert {p.member_id for p in consortium.distributor.payments(round_number=2)} == set(members[:2])

    problem = (
        f"round 2 member {excluded}: finalized as a participant while excluded "
        "(reputation 2500 before the round, below the threshold 3000)"
    )
    chain_only = build_report(run.audit(with_store=False))
    assert {c.name: c.problems for c in chain_only.checks if not c.ok} == {"payouts": (problem,)}
    _, failed = failed_checks(run)
    assert list(failed) == ["payouts", "recompute"] and failed["payouts"] == (problem,)
    named_by_the_command(run, tmp_path / "audit", "payouts", problem)


def test_a_round_opened_off_the_lineage_is_named(
    consortium: Consortium, actors: Actors, members: list[int], tmp_path: Path
) -> None:
    run = Run(consortium, tmp_path / "run", members)
    service = service_in(consortium, actors, run.run_dir)
    first = closed(service, trained_round(service, actors, members, 1, GLOBAL), actors, members)
    assert first.aggregate is not None
    head = "0x" + first.aggregate.model_hash.hex()
    elsewhere = trained(GLOBAL, seed=99, scale=3.0)  # neither round 1's aggregate nor a lineage start
    with pytest.raises(RoundLedgerNotOnLineage):  # what the ledger says without crafting
        consortium.ledger.open_round(actors.coordinator, model_hash(elsewhere), h("config"), TEST_APP)
    with lineage_head(consortium, model_hash(elsewhere)) as was_head:
        state = service.open(2, elsewhere, CONFIG)
    assert was_head == int(head, 16) and consortium.ledger.lineage_head().model_hash != model_hash(elsewhere)
    updates = signed_updates(service, state, actors.hospitals[:3], members, seed=20)
    second = closed(service, service.train(state, updates), actors, members)
    assert second.aggregate is not None  # round 3 follows round 2 honestly: only round 2 is named
    closed(service, trained_round(service, actors, members, 3, second.aggregate.arrays), actors, members)

    _, failed = failed_checks(run)
    assert list(failed) == ["lineage"], failed
    (problem,) = failed["lineage"]
    assert problem == (
        f"round 2: opened from 0x{model_hash(elsewhere).hex()} (parent round 1, lineage 1), "
        f"but the head was {head} (round 1's aggregate, lineage 1)"
    )
    named_by_the_command(run, tmp_path / "audit", "lineage", "round 2: opened from")


def test_an_update_registered_past_the_privacy_budget_is_named(
    consortium: Consortium, actors: Actors, members: list[int], tmp_path: Path
) -> None:
    run = Run(consortium, tmp_path / "run", members)
    service = service_in(consortium, actors, run.run_dir)
    consortium.ledger.set_privacy_budget(actors.admin, PrivacyBudget.of(1.0, 1e-5))
    state = service.open(1, GLOBAL, CONFIG)
    updates = signed_updates(service, state, actors.hospitals[:3], members, seed=30)  # trained without DP
    with privacy_budget_lifted(consortium) as packed:
        closed(service, service.train(state, updates), actors, members)
    assert packed == (10**13 << 64) | 1_000_000  # δ and ε, as the budget event says
    assert len(consortium.ledger.updates(round_number=1)) == 3

    _, failed = failed_checks(run)
    assert list(failed) == ["privacy-budget"], failed
    assert failed["privacy-budget"] == tuple(
        f"round 1 member {m}: registered past the privacy budget then in force (ε ≤ 1 at δ ≤ 1e-05)"
        for m in members
    )
    named_by_the_command(run, tmp_path / "audit", "privacy-budget", "round 1 member")


def test_a_member_in_good_standing_left_out_of_the_aggregate_is_named(
    consortium: Consortium, actors: Actors, members: list[int], tmp_path: Path
) -> None:
    """The ledger accepts a finalization that leaves out a registered update of a member in good
    standing (nothing on chain says it had to be in); recomputing the round from the store names it."""
    run = Run(consortium, tmp_path / "run", members)
    service = service_in(consortium, actors, run.run_dir)
    state = trained_round(service, actors, members, 1, GLOBAL)
    assert state.aggregate is not None and len(state.aggregate.weights) == 3
    left_out = members[2]
    weights = {m: w for m, w in state.aggregate.weights.items() if m != left_out}
    metrics = service.store.put_document(evaluations(service, state, actors, members))
    ids = sorted(weights)
    consortium.ledger.finalize_round(
        actors.coordinator, 1, state.aggregate.model_hash, metrics, ids, [weights[m] for m in ids]
    )
    chain_only = build_report(run.audit(with_store=False))
    assert chain_only.clean  # the events alone cannot tell
    _, failed = failed_checks(run)
    assert list(failed) == ["recompute"], failed
    assert f"round 1: member {left_out}: weight absent on chain" in "\n".join(failed["recompute"])
    named_by_the_command(run, tmp_path / "audit", "recompute", f"round 1: member {left_out}: weight absent")
    rows = list(
        csv.DictReader(io.StringIO(audit(run, tmp_path / "audit", "recompute", "--format", "csv").stdout))
    )
    assert [(r["round"], r["matches"]) for r in rows] == [("1", "False")]
    assert f"round 1: member {left_out}: weight absent" in rows[0]["problems"]


def test_participants_finalized_without_a_recorded_score_are_named(
    consortium: Consortium, actors: Actors, members: list[int], tmp_path: Path
) -> None:
    """The ledger finalizes a participant the round recorded no score for (as a coordinator that went
    on after a restarted chain lost its scores once did): its weight, payout and reputation cannot be
    checked, and the events alone name each such participant."""
    run = Run(consortium, tmp_path / "run", members)
    service = service_in(consortium, actors, run.run_dir)
    state = service.open(1, GLOBAL, CONFIG)
    state = service.register(state, signed_updates(service, state, actors.hospitals[:3], members))
    aggregate = trained(GLOBAL, seed=7)
    metrics = service.store.put_document(evaluation_document(None, (), ()))
    consortium.ledger.finalize_round(
        actors.coordinator, 1, service.store.put(aggregate), metrics, members, [1] * len(members)
    )
    assert consortium.reputation.history(round_number=1) == []
    chain_only = build_report(run.audit(with_store=False))
    failed = {c.name: c.problems for c in chain_only.checks if not c.ok}
    assert failed == {
        "payouts": tuple(
            f"round 1 member {m}: finalized as a participant without a recorded score (its weight, "
            "payout and reputation cannot be checked)"
            for m in members
        )
    }
    named_by_the_command(run, tmp_path / "audit", "payouts", f"round 1 member {members[0]}: finalized as")
