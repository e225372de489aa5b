"""ReputationLedger and RewardDistributor: on-chain arithmetic, payout rules, tokens and events."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bcfl.chain import errors
from bcfl.chain.client import ChainClient
from bcfl.chain.consortium import Consortium
from bcfl.chain.deploy import DEFAULT_PARAMETERS
from bcfl.chain.exceptions import UnknownRevertError
from bcfl.chain.registry import ADMIN_ROLE, COORDINATOR_ROLE
from bcfl.chain.reputation import MAX_SCORE, Reputation, ReputationParameters, excluded, next_reputation
from tests.chain.helpers import admit, deploy_ready, h, mine_blocks, mine_to_window_start, run_round
from tests.conftest import Actors

HYPOTHESIS = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
INITIAL, SMOOTHING = DEFAULT_PARAMETERS.initial_reputation, DEFAULT_PARAMETERS.smoothing
THRESHOLD = DEFAULT_PARAMETERS.exclusion_threshold
BUDGET = DEFAULT_PARAMETERS.round_budget


def all_submit(consortium: Consortium, actors: Actors, members: list[int], *, finalize: bool = True) -> int:
    """A round in which the three members submit and all in good standing take part (the ledger
    refuses a member excluded before the round as a participant)."""
    included = [m for m in members if not consortium.reputation.is_excluded(m)]
    return run_round(
        consortium,
        actors.coordinator,
        dict(zip(members, actors.hospitals[:3], strict=True)),
        included,
        finalize=finalize,
    )


# == reputation ====================================================================================
def test_reputation_follows_the_reference_ema(
    consortium: Consortium, actors: Actors, members: list[int]
) -> None:
    reputation = consortium.reputation
    assert reputation.parameters() == ReputationParameters(INITIAL, SMOOTHING, THRESHOLD)
    assert [reputation.reputation_of(m) for m in members] == [INITIAL] * 3
    assert [reputation.last_scored_round(m) for m in members] == [0] * 3

    expected = {m: INITIAL for m in members}
    for contributions in ([10_000, 0, 4_321], [9_999, 1, 4_321], [0, 10_000, 7]):
        round_number = all_submit(consortium, actors, members)
        reputation.record_scores(actors.coordinator, round_number, members, contributions)
        for member_id, contribution in zip(members, contributions, strict=True):
            previous = expected[member_id]
            expected[member_id] = next_reputation(previous, contribution, SMOOTHING)
            assert reputation.reputation_of(member_id) == expected[member_id]
            assert reputation.is_excluded(member_id) == excluded(expected[member_id], THRESHOLD)
            assert reputation.last_scored_round(member_id) == round_number
            (change,) = reputation.history(member_id=member_id, round_number=round_number)
            assert (change.contribution, change.previous, change.current) == (
                contribution,
                previous,
                expected[member_id],
            )
    assert expected[members[0]] == next_reputation(
        next_reputation(next_reputation(INITIAL, 10_000, SMOOTHING), 9_999, SMOOTHING), 0, SMOOTHING
    )
    assert len(reputation.history()) == 9
    assert [c.round for c in reputation.history(member_id=members[1])] == [1, 2, 3]
    assert reputation.reputation_of(99) == INITIAL  # never scored


def test_next_reputation_reference() -> None:
    assert next_reputation(5_000, 10_000, 3_000) == 6_500
    assert next_reputation(5_000, 0, 3_000) == 3_500
    assert next_reputation(3, 0, 5_000) == 1  # rounds down
    assert next_reputation(7_777, 1_234, MAX_SCORE) == 1_234
    assert next_reputation(MAX_SCORE, MAX_SCORE, 1) == MAX_SCORE
    # The deployment defaults: half smoothing, threshold 3,000.
    assert (INITIAL, SMOOTHING, THRESHOLD) == (5_000, 5_000, 3_000)
    assert next_reputation(5_000, 0, 5_000) == 2_500 and excluded(2_500, 3_000)
    assert next_reputation(2_500, 3_500, 5_000) == 3_000 and not excluded(3_000, 3_000)
    assert next_reputation(0, 6_000, 5_000) == 3_000  # one round at 6,000 brings anyone back
    assert not excluded(0, 0)  # a threshold of 0 excludes no one


def test_only_some_members_need_scores(consortium: Consortium, actors: Actors, members: list[int]) -> None:
    round_number = all_submit(consortium, actors, members)
    consortium.reputation.record_scores(actors.coordinator, round_number, [members[1]], [8_000])
    assert consortium.reputation.reputation_of(members[1]) == next_reputation(INITIAL, 8_000, SMOOTHING)
    assert consortium.reputation.reputation_of(members[0]) == INITIAL
    # A later round may score the others; order within the batch does not matter.
    round_2 = all_submit(consortium, actors, members)
    consortium.reputation.record_scores(actors.coordinator, round_2, [members[2], members[0]], [1, 2])
    assert consortium.reputation.last_scored_round(members[2]) == round_2
    assert consortium.reputation.reputation_of(members[0]) == next_reputation(INITIAL, 2, SMOOTHING)


def test_submitters_left_out_of_the_aggregate_can_still_be_scored(
    consortium: Consortium, actors: Actors, members: list[int]
) -> None:
    # Scores need a registered update, not participation: the coordinator may score an update it
    # excluded from the aggregate (e.g. to lower a suspected poisoner's reputation), even before
    # the round is finalized.
    round_number = all_submit(consortium, actors, members, finalize=False)
    consortium.reputation.record_scores(actors.coordinator, round_number, [members[2]], [0])
    consortium.ledger.finalize_round(actors.coordinator, round_number, h("agg"), h("m"), members[:2], [1, 1])
    assert not consortium.ledger.is_participant(round_number, members[2])
    assert consortium.reputation.reputation_of(members[2]) == next_reputation(INITIAL, 0, SMOOTHING)


def test_score_bounds(consortium: Consortium, actors: Actors, members: list[int]) -> None:
    round_number = all_submit(consortium, actors, members)
    for score in (MAX_SCORE + 1, 2**16 - 1):
        with pytest.raises(errors.ReputationLedgerOutOfBounds) as exc:
            consortium.reputation.record_scores(actors.coordinator, round_number, members, [0, score, 0])
        assert exc.value.args_by_name == {"value": score}
    assert consortium.reputation.history() == []
    consortium.reputation.record_scores(actors.coordinator, round_number, members, [0, MAX_SCORE, 0])
    assert consortium.reputation.reputation_of(members[1]) == next_reputation(INITIAL, MAX_SCORE, SMOOTHING)


def test_parameter_bounds_and_access(consortium: Consortium, actors: Actors, members: list[int]) -> None:
    reputation = consortium.reputation
    for initial, smoothing, threshold, offending in (
        (MAX_SCORE + 1, 1, 0, MAX_SCORE + 1),
        (0, 0, 0, 0),
        (0, MAX_SCORE + 1, 0, MAX_SCORE + 1),
        (MAX_SCORE, 1, MAX_SCORE + 1, MAX_SCORE + 1),
    ):
        with pytest.raises(errors.ReputationLedgerOutOfBounds) as exc:
            reputation.set_parameters(actors.admin, initial, smoothing, threshold)
        assert exc.value.args_by_name == {"value": offending}
    for caller in (actors.coordinator, actors.hospitals[0], actors.outsider):
        with pytest.raises(errors.ConsortiumAccessUnauthorized) as exc_access:
            reputation.set_parameters(caller, 1_000, 1_000, 1_000)
        assert exc_access.value.args_by_name == {"account": caller.address, "role": ADMIN_ROLE}
    assert reputation.parameters() == ReputationParameters(INITIAL, SMOOTHING, THRESHOLD)

    reputation.set_parameters(actors.admin, 0, MAX_SCORE, 0)
    assert reputation.parameters() == ReputationParameters(0, MAX_SCORE, 0)
    assert reputation.exclusion_threshold() == 0
    params = reputation.events("ReputationParametersSet")
    assert [e.args for e in params] == [
        {
            "setBy": actors.admin.address,
            "initialReputation": INITIAL,
            "smoothing": SMOOTHING,
            "exclusionThreshold": THRESHOLD,
        },
        {
            "setBy": actors.admin.address,
            "initialReputation": 0,
            "smoothing": MAX_SCORE,
            "exclusionThreshold": 0,
        },
    ]
    # A member never scored has the new initial reputation; full smoothing takes the score as is.
    assert reputation.reputation_of(members[0]) == 0
    round_number = all_submit(consortium, actors, members)
    reputation.record_scores(actors.coordinator, round_number, members, [1_234, 0, MAX_SCORE])
    assert [reputation.reputation_of(m) for m in members] == [1_234, 0, MAX_SCORE]
    assert not any(reputation.is_excluded(m) for m in members)  # a threshold of 0 excludes no one


# == exclusion =====================================================================================
def test_initial_below_threshold_is_refused(
    client: ChainClient, consortium: Consortium, actors: Actors, members: list[int]
) -> None:
    reputation = consortium.reputation
    # New members must not start excluded: at setParameters...
    for initial, threshold in ((2_999, 3_000), (0, 1), (MAX_SCORE - 1, MAX_SCORE)):
        with pytest.raises(errors.ReputationLedgerInitialBelowThreshold) as exc:
            reputation.set_parameters(actors.admin, initial, SMOOTHING, threshold)
        assert exc.value.args_by_name == {"initialReputation": initial, "exclusionThreshold": threshold}
    assert reputation.parameters() == ReputationParameters(INITIAL, SMOOTHING, THRESHOLD)
    # ...and at deployment.
    with pytest.raises(errors.ReputationLedgerInitialBelowThreshold) as exc:
        client.deploy(
            "ReputationLedger",
            actors.admin,
            consortium.registry.address,
            consortium.ledger.address,
            10,
            1,
            11,
        )
    assert exc.value.args_by_name == {"initialReputation": 10, "exclusionThreshold": 11}
    # At the bounds: everyone starts at the top, and the top is the threshold.
    reputation.set_parameters(actors.admin, MAX_SCORE, SMOOTHING, MAX_SCORE)
    assert reputation.parameters() == ReputationParameters(MAX_SCORE, SMOOTHING, MAX_SCORE)
    assert not reputation.is_excluded(members[0])


def test_is_excluded_flips_exactly_at_the_threshold(
    consortium: Consortium, actors: Actors, members: list[int]
) -> None:
    reputation = consortium.reputation
    assert reputation.exclusion_threshold() == THRESHOLD
    assert not any(reputation.is_excluded(m) for m in [*members, 99])  # never scored: included
    # Full smoothing makes the reputation the latest score.
    reputation.set_parameters(actors.admin, INITIAL, MAX_SCORE, THRESHOLD)
    round_number = all_submit(consortium, actors, members)
    reputation.record_scores(
        actors.coordinator, round_number, members, [THRESHOLD, THRESHOLD - 1, THRESHOLD + 1]
    )
    assert [reputation.is_excluded(m) for m in members] == [False, True, False]
    # The admin's threshold applies at once, with no new score.
    reputation.set_parameters(actors.admin, INITIAL, MAX_SCORE, THRESHOLD + 1)
    assert [reputation.is_excluded(m) for m in members] == [True, True, False]
    reputation.set_parameters(actors.admin, INITIAL, MAX_SCORE, THRESHOLD - 1)
    assert [reputation.is_excluded(m) for m in members] == [False, False, False]


def rounds_until(start: int, score: int, goal: Callable[[int], bool]) -> int:
    """Rounds of a constant score, by the reference EMA, until ``goal`` holds for the reputation."""
    value, rounds = start, 0
    while not goal(value):
        value, rounds = next_reputation(value, score, SMOOTHING), rounds + 1
    return rounds


def test_a_poisoner_is_excluded_and_comes_back(
    consortium: Consortium, actors: Actors, members: list[int]
) -> None:
    """The way back, as the coordinator plays it: every member keeps submitting signed updates, all
    are registered and scored, only members not excluded are aggregated and paid."""
    reputation, distributor = consortium.reputation, consortium.distributor
    honest, poisoner = members[:2], members[2]
    keys = dict(zip(members, actors.hospitals[:3], strict=True))
    history: list[tuple[int, bool, int]] = []  # (round, poisoner aggregated, reputation after)

    def play(poisoner_score: int) -> None:
        included = [m for m in members if not reputation.is_excluded(m)]
        round_number = run_round(consortium, actors.coordinator, keys, participants=included)
        assert all(consortium.ledger.has_submitted(round_number, m) for m in members)
        scores = {**dict.fromkeys(honest, 9_000), poisoner: poisoner_score}
        reputation.record_scores(actors.coordinator, round_number, members, [scores[m] for m in members])
        distributor.pay_round(actors.coordinator, round_number, included, [10**18] * len(included))
        history.append((round_number, poisoner in included, reputation.reputation_of(poisoner)))

    # Scored 0 (its update is far from the others'): with the defaults one round is enough.
    to_exclusion = rounds_until(INITIAL, 0, lambda r: excluded(r, THRESHOLD))
    assert to_exclusion == 1  # (5000 + 0) / 2 = 2500 < 3000
    for _ in range(3):
        play(0)
    assert [r for _, _, r in history] == [2_500, 1_250, 625]
    assert [aggregated for _, aggregated, _ in history] == [True, False, False]
    assert reputation.is_excluded(poisoner)
    # Left out of the aggregate, so not paid: the distributor refuses to pay a non-participant.
    with pytest.raises(errors.RewardDistributorNotParticipant):
        distributor.pay_round(
            actors.coordinator, run_round(consortium, actors.coordinator, keys, honest), [poisoner], [1]
        )

    # It turns honest: a score of 4,000 takes it back to the threshold in the expected rounds.
    to_recovery = rounds_until(625, 4_000, lambda r: not excluded(r, THRESHOLD))
    assert to_recovery == 2  # 625 -> 2312 -> 3156
    for _ in range(to_recovery):
        assert reputation.is_excluded(poisoner)
        play(4_000)
    assert [r for _, _, r in history[3:]] == [2_312, 3_156]
    assert not reputation.is_excluded(poisoner)
    play(4_000)  # aggregated (and paid) again
    final_round, aggregated, _ = history[-1]
    assert aggregated and consortium.ledger.is_participant(final_round, poisoner)
    assert [p.round for p in distributor.payments(member_id=poisoner)] == [history[0][0], final_round]
    # The whole story is in the logs.
    assert [(c.contribution, c.current) for c in reputation.history(member_id=poisoner)] == [
        (0, 2_500),
        (0, 1_250),
        (0, 625),
        (4_000, 2_312),
        (4_000, 3_156),
        (4_000, 3_578),
    ]


def test_a_member_excluded_before_a_round_is_no_participant_of_it(
    consortium: Consortium, actors: Actors, members: list[int]
) -> None:
    """Exclusion is enforced on chain: a member whose reputation before the round is below the
    threshold cannot be finalized as the round's participant, whatever the coordinator sends."""
    ledger, reputation = consortium.ledger, consortium.reputation
    keys = dict(zip(members, actors.hospitals[:3], strict=True))
    first = run_round(consortium, actors.coordinator, keys)
    reputation.record_scores(actors.coordinator, first, members, [9_000, 9_000, 0])
    poisoner = members[2]
    # What the first round was decided on is the reputation before its score.
    assert reputation.reputation_before(first, poisoner) == INITIAL
    assert not reputation.is_excluded_before(first, poisoner)
    second = run_round(consortium, actors.coordinator, keys, finalize=False)
    assert reputation.reputation_before(second, poisoner) == 2_500
    assert reputation.is_excluded_before(second, poisoner)
    assert not reputation.is_excluded_before(second, members[0])
    with pytest.raises(errors.RoundLedgerParticipantExcluded) as exc:
        ledger.finalize_round(actors.coordinator, second, h("agg"), h("m"), members, [1, 1, 1])
    assert exc.value.args_by_name == {"round": second, "memberId": poisoner}
    assert ledger.get_round(second).status.name == "OPEN"
    # Scored in the round it is excluded from, it may be (a suspected poisoner's score goes on record).
    reputation.record_scores(actors.coordinator, second, [poisoner], [0])
    assert reputation.reputation_before(second, poisoner) == 2_500  # still the value before the round
    ledger.finalize_round(actors.coordinator, second, h("agg"), h("m"), members[:2], [1, 1])
    assert [ledger.is_participant(second, m) for m in members] == [True, True, False]
    # Once a later round is scored, what stood before an earlier one is no longer known.
    with pytest.raises(errors.ReputationLedgerAlreadyRecorded):
        reputation.reputation_before(first, poisoner)


def test_record_scores_needs_the_coordinator(
    consortium: Consortium, actors: Actors, members: list[int]
) -> None:
    round_number = all_submit(consortium, actors, members)
    for caller in (actors.admin, actors.hospitals[0], actors.outsider):
        with pytest.raises(errors.ConsortiumAccessUnauthorized) as exc:
            consortium.reputation.record_scores(caller, round_number, members[:1], [10_000])
        assert exc.value.args_by_name == {"account": caller.address, "role": COORDINATOR_ROLE}
    assert consortium.reputation.last_scored_round(members[0]) == 0


def test_scores_need_a_submission(consortium: Consortium, actors: Actors, members: list[int]) -> None:
    round_number = run_round(consortium, actors.coordinator, {members[0]: actors.hospitals[0]})
    for member_id in (members[1], 99, 0):
        with pytest.raises(errors.ReputationLedgerNotSubmitted) as exc:
            consortium.reputation.record_scores(
                actors.coordinator, round_number, [members[0], member_id], [1, 1]
            )
        assert exc.value.args_by_name == {"round": round_number, "memberId": member_id}
    for other_round in (0, round_number + 1):
        with pytest.raises(errors.ReputationLedgerNotSubmitted) as exc:
            consortium.reputation.record_scores(actors.coordinator, other_round, [members[0]], [1])
        assert exc.value.args_by_name == {"round": other_round, "memberId": members[0]}
    assert consortium.reputation.history() == []


def test_scores_are_recorded_once(consortium: Consortium, actors: Actors, members: list[int]) -> None:
    reputation = consortium.reputation
    round_1 = all_submit(consortium, actors, members)
    with pytest.raises(errors.ReputationLedgerAlreadyRecorded) as exc:
        reputation.record_scores(actors.coordinator, round_1, [members[0], members[0]], [1, 2])
    assert exc.value.args_by_name == {"round": round_1, "memberId": members[0]}

    reputation.record_scores(actors.coordinator, round_1, members, [1, 2, 3])
    with pytest.raises(errors.ReputationLedgerAlreadyRecorded) as exc:
        reputation.record_scores(actors.coordinator, round_1, [members[2]], [9])
    assert exc.value.args_by_name == {"round": round_1, "memberId": members[2]}

    # Once a later round is scored, an earlier one can no longer be.
    round_2 = all_submit(consortium, actors, members)
    round_3 = all_submit(consortium, actors, members)
    reputation.record_scores(actors.coordinator, round_3, [members[0]], [5])
    with pytest.raises(errors.ReputationLedgerAlreadyRecorded) as exc:
        reputation.record_scores(actors.coordinator, round_2, [members[0]], [5])
    assert exc.value.args_by_name == {"round": round_2, "memberId": members[0]}
    reputation.record_scores(actors.coordinator, round_2, [members[1]], [5])
    assert reputation.last_scored_round(members[1]) == round_2
    assert len(reputation.history(member_id=members[0])) == 2


def test_score_length_mismatch(consortium: Consortium, actors: Actors, members: list[int]) -> None:
    round_number = all_submit(consortium, actors, members)
    with pytest.raises(errors.ReputationLedgerLengthMismatch) as exc:
        consortium.reputation.record_scores(actors.coordinator, round_number, members, [1, 2])
    assert exc.value.args_by_name == {"members": 3, "scores": 2}
    with pytest.raises(errors.ReputationLedgerLengthMismatch) as exc:
        consortium.reputation.record_scores(actors.coordinator, round_number, [], [1])
    assert exc.value.args_by_name == {"members": 0, "scores": 1}


# == payouts =======================================================================================
def test_pay_round(consortium: Consortium, actors: Actors, members: list[int]) -> None:
    distributor, token = consortium.distributor, consortium.token
    round_number = all_submit(consortium, actors, members)
    assert distributor.payout_of(round_number) == (False, 0)
    assert token.total_supply() == 0
    amounts = [3 * 10**18, 0, 5 * 10**18]

    receipt = distributor.pay_round(actors.coordinator, round_number, members, amounts)
    assert distributor.payout_of(round_number) == (True, sum(amounts))
    assert token.total_supply() == sum(amounts)
    assert [token.balance_of(k.address) for k in actors.hospitals[:3]] == amounts
    assert token.balance_of(actors.coordinator.address) == 0
    assert (token.symbol(), token.decimals()) == (DEFAULT_PARAMETERS.token_symbol, 18)

    payments = distributor.payments()
    # A zero amount is counted but not paid: no event, no mint.
    assert [(p.round, p.member_id, p.account, p.amount) for p in payments] == [
        (round_number, members[0], actors.hospitals[0].address, amounts[0]),
        (round_number, members[2], actors.hospitals[2].address, amounts[2]),
    ]
    assert {p.tx_hash for p in payments} == {receipt["transactionHash"].to_0x_hex()}
    assert distributor.payments(member_id=members[1]) == []
    assert [p.member_id for p in distributor.payments(round_number=round_number, member_id=members[2])] == [
        members[2]
    ]
    (paid,) = distributor.events("RoundPaid")
    assert paid.args == {"round": round_number, "total": sum(amounts), "budget": BUDGET}

    # A second round adds up.
    round_2 = all_submit(consortium, actors, members)
    distributor.pay_round(actors.coordinator, round_2, members[:1], [10**18])
    assert token.balance_of(actors.hospitals[0].address) == 4 * 10**18
    assert [p.round for p in distributor.payments(member_id=members[0])] == [round_number, round_2]
    assert len(distributor.payments(round_number=round_2)) == 1
    assert distributor.payments(from_block=paid.block_number + 1)[0].round == round_2


def test_only_participants_are_paid(consortium: Consortium, actors: Actors, members: list[int]) -> None:
    fourth = consortium.registry.request_membership(actors.hospitals[3], "Hospital 4")
    consortium.registry.approve(actors.admin, fourth)
    # Members 1 to 3 submit, only members 1 and 2 enter the aggregate; member 4 does not submit.
    round_number = run_round(
        consortium,
        actors.coordinator,
        dict(zip(members, actors.hospitals[:3], strict=True)),
        members[:2],
    )
    assert consortium.ledger.has_submitted(round_number, members[2])
    for outsider_id in (members[2], fourth, 77):
        ids = sorted([members[0], outsider_id])
        with pytest.raises(errors.RewardDistributorNotParticipant) as exc:
            consortium.distributor.pay_round(actors.coordinator, round_number, ids, [1, 1])
        assert exc.value.args_by_name == {"round": round_number, "memberId": outsider_id}
    assert consortium.distributor.payout_of(round_number) == (False, 0)
    assert consortium.token.total_supply() == 0
    consortium.distributor.pay_round(actors.coordinator, round_number, members[:2], [1, 2])
    assert consortium.token.total_supply() == 3


def test_participation_is_per_round(consortium: Consortium, actors: Actors, members: list[int]) -> None:
    round_1 = all_submit(consortium, actors, members)
    round_2 = run_round(
        consortium, actors.coordinator, {members[0]: actors.hospitals[0], members[2]: actors.hospitals[2]}
    )
    with pytest.raises(errors.RewardDistributorNotParticipant) as exc:
        consortium.distributor.pay_round(actors.coordinator, round_2, members[:2], [1, 1])
    assert exc.value.args_by_name == {"round": round_2, "memberId": members[1]}
    consortium.distributor.pay_round(actors.coordinator, round_1, members[:2], [1, 1])


def test_a_round_below_the_minimum_participants_is_not_paid(
    consortium: Consortium, actors: Actors, members: list[int]
) -> None:
    distributor = consortium.distributor
    minimum, window, limit = distributor.minting_rule()
    assert (minimum, window, limit) == (
        DEFAULT_PARAMETERS.min_participants,
        DEFAULT_PARAMETERS.mint_window_blocks,
        DEFAULT_PARAMETERS.mint_limit,
    )
    assert minimum == 2
    lonely = run_round(consortium, actors.coordinator, {members[0]: actors.hospitals[0]})
    nobody = run_round(consortium, actors.coordinator, {})
    for round_number, count in ((lonely, 1), (nobody, 0)):
        with pytest.raises(errors.RewardDistributorTooFewParticipants) as exc:
            distributor.pay_round(actors.coordinator, round_number, members[:count], [10] * count)
        assert exc.value.args_by_name == {"round": round_number, "participants": count, "minimum": 2}
        assert distributor.payout_of(round_number) == (False, 0)
    assert consortium.token.total_supply() == 0
    pair = run_round(
        consortium, actors.coordinator, dict(zip(members[:2], actors.hospitals[:2], strict=True))
    )
    distributor.pay_round(actors.coordinator, pair, members[:1], [10])  # two participants, one paid
    assert consortium.token.total_supply() == 10


def test_a_member_excluded_before_the_round_is_not_paid(
    consortium: Consortium, actors: Actors, members: list[int]
) -> None:
    """An excluded member is never paid: the ledger refuses it as a participant of a round it is excluded
    from, and the distributor pays participants only (``NotParticipant``). Participation is settled at
    finalization, so a round is paid on it even after the threshold rose above a participant's reputation
    before the round, and after its participants were scored in a later round (when what stood before the
    round is no longer known)."""
    reputation, distributor, ledger = consortium.reputation, consortium.distributor, consortium.ledger
    token = consortium.token
    first = all_submit(consortium, actors, members)
    reputation.record_scores(actors.coordinator, first, members, [4_000, 9_000, 0])  # 4,500 7,000 2,500
    second = all_submit(consortium, actors, members)
    excluded_member = members[2]
    assert ledger.has_submitted(second, excluded_member)
    assert not ledger.is_participant(second, excluded_member)
    with pytest.raises(errors.RewardDistributorNotParticipant) as exc:
        distributor.pay_round(actors.coordinator, second, members, [1, 1, 1])
    assert exc.value.args_by_name == {"round": second, "memberId": excluded_member}
    distributor.pay_round(actors.coordinator, second, members[:2], [1, 1])

    third = all_submit(consortium, actors, members)
    assert [ledger.is_participant(third, m) for m in members] == [True, True, False]
    reputation.set_parameters(actors.admin, INITIAL, SMOOTHING, INITIAL)
    assert reputation.is_excluded_before(third, members[0])  # 4,500 < 5,000 now
    fourth = all_submit(consortium, actors, members)
    assert [ledger.is_participant(fourth, m) for m in members] == [False, True, False]
    reputation.record_scores(actors.coordinator, fourth, members[:2], [9_000, 9_000])
    with pytest.raises(errors.ReputationLedgerAlreadyRecorded):
        reputation.reputation_before(third, members[0])
    distributor.pay_round(actors.coordinator, third, members[:2], [5, 5])
    assert distributor.payout_of(third) == (True, 10)
    assert [token.balance_of(k.address) for k in actors.hospitals[:3]] == [6, 6, 0]


def test_minting_is_limited_per_block_window(client: ChainClient, actors: Actors) -> None:
    """At most the mint limit is minted in one window of blocks: a round over it stays payable and is
    paid in a later window."""
    window = 50
    consortium = deploy_ready(
        client, actors.admin, actors.coordinator, round_budget=100, mint_window_blocks=window, mint_limit=150
    )
    members = [
        admit(consortium, actors.admin, k, f"Hospital {i + 1}") for i, k in enumerate(actors.hospitals[:2])
    ]
    keys = dict(zip(members, actors.hospitals[:2], strict=True))
    distributor = consortium.distributor
    assert distributor.minting_rule() == (2, window, 150)
    first = run_round(consortium, actors.coordinator, keys)
    second = run_round(consortium, actors.coordinator, keys)
    mine_to_window_start(client, window)
    receipt = distributor.pay_round(actors.coordinator, first, members, [60, 40])
    assert distributor.minted_in_current_window() == 100
    with pytest.raises(errors.RewardDistributorMintLimitExceeded) as exc:
        distributor.pay_round(actors.coordinator, second, members, [50, 50])
    assert exc.value.args_by_name == {"window": receipt["blockNumber"] // window, "minted": 200, "limit": 150}
    assert distributor.payout_of(second) == (False, 0)
    distributor.pay_round(actors.coordinator, second, members, [30, 20])  # within the limit: 150
    assert distributor.minted_in_current_window() == 150
    third = run_round(consortium, actors.coordinator, keys)
    with pytest.raises(errors.RewardDistributorMintLimitExceeded):
        distributor.pay_round(actors.coordinator, third, members, [1, 0])
    mine_to_window_start(client, window)  # the next window
    assert distributor.minted_in_current_window() == 0
    later = distributor.pay_round(actors.coordinator, third, members, [100, 0])
    assert later["blockNumber"] // window == receipt["blockNumber"] // window + 1
    assert distributor.minted_in_current_window() == 100
    assert consortium.token.total_supply() == 250


def test_a_payment_estimated_in_one_window_and_mined_in_the_next_goes_through(
    client: ChainClient, actors: Actors
) -> None:
    """Gas is estimated against the latest block; a payment mined in the first block of the next
    minting window writes more storage than estimated, and must still have the gas for it."""
    window = 50
    consortium = deploy_ready(client, actors.admin, actors.coordinator, mint_window_blocks=window)
    members = [
        admit(consortium, actors.admin, k, f"Hospital {i + 1}") for i, k in enumerate(actors.hospitals[:2])
    ]
    keys = dict(zip(members, actors.hospitals[:2], strict=True))
    first, second = (run_round(consortium, actors.coordinator, keys) for _ in range(2))
    mine_to_window_start(client, window)
    consortium.distributor.pay_round(actors.coordinator, first, members, [10**18, 10**18])
    mine_blocks(client, window - 1 - client.block_number() % window)  # the window's last block
    receipt = consortium.distributor.pay_round(actors.coordinator, second, members, [10**18, 0])
    assert receipt["status"] == 1 and receipt["blockNumber"] % window == 0
    assert consortium.distributor.minted_in_current_window() == 10**18


def test_round_not_finalized(consortium: Consortium, actors: Actors, members: list[int]) -> None:
    for round_number in (0, 1):
        with pytest.raises(errors.RewardDistributorRoundNotFinalized) as exc:
            consortium.distributor.pay_round(actors.coordinator, round_number, [], [])
        assert exc.value.args_by_name == {"round": round_number}
    open_round = all_submit(consortium, actors, members, finalize=False)
    with pytest.raises(errors.RewardDistributorRoundNotFinalized) as exc:
        consortium.distributor.pay_round(actors.coordinator, open_round, members, [1, 1, 1])
    assert exc.value.args_by_name == {"round": open_round}
    assert consortium.distributor.payout_of(open_round) == (False, 0)


def test_a_round_is_paid_once(consortium: Consortium, actors: Actors, members: list[int]) -> None:
    round_number = all_submit(consortium, actors, members)
    consortium.distributor.pay_round(actors.coordinator, round_number, members[:1], [10])
    for ids, amounts in ((members[:1], [10]), (members[1:2], [10]), ([], [])):
        with pytest.raises(errors.RewardDistributorAlreadyPaid) as exc:
            consortium.distributor.pay_round(actors.coordinator, round_number, ids, amounts)
        assert exc.value.args_by_name == {"round": round_number}
    assert consortium.token.total_supply() == 10
    assert consortium.distributor.payout_of(round_number) == (True, 10)


def test_an_empty_payout_closes_the_round(consortium: Consortium, actors: Actors, members: list[int]) -> None:
    round_number = all_submit(consortium, actors, members)
    consortium.distributor.pay_round(actors.coordinator, round_number, [], [])
    assert consortium.distributor.payout_of(round_number) == (True, 0)
    with pytest.raises(errors.RewardDistributorAlreadyPaid):
        consortium.distributor.pay_round(actors.coordinator, round_number, members, [1, 1, 1])
    (paid,) = consortium.distributor.events("RoundPaid")
    assert paid.args["total"] == 0


def test_budget(consortium: Consortium, actors: Actors, members: list[int]) -> None:
    distributor = consortium.distributor
    assert distributor.round_budget() == BUDGET
    round_1 = all_submit(consortium, actors, members)
    with pytest.raises(errors.RewardDistributorBudgetExceeded) as exc:
        distributor.pay_round(actors.coordinator, round_1, members, [BUDGET // 2, BUDGET // 2, 1])
    assert exc.value.args_by_name == {"round": round_1, "total": BUDGET + 1, "budget": BUDGET}
    distributor.pay_round(actors.coordinator, round_1, members, [BUDGET // 2, BUDGET // 2, 0])
    assert consortium.token.total_supply() == BUDGET

    for caller in (actors.coordinator, actors.hospitals[0], actors.outsider):
        with pytest.raises(errors.ConsortiumAccessUnauthorized) as exc_access:
            distributor.set_round_budget(caller, 10**30)
        assert exc_access.value.args_by_name == {"account": caller.address, "role": ADMIN_ROLE}
    distributor.set_round_budget(actors.admin, 100)
    assert distributor.round_budget() == 100
    assert [e.args for e in distributor.events("RoundBudgetSet")] == [
        {"fromRound": 0, "budget": BUDGET},
        {"fromRound": 2, "budget": 100},
    ]
    round_2 = all_submit(consortium, actors, members)
    assert distributor.budget_of(round_1) == BUDGET and distributor.budget_of(round_2) == 100
    with pytest.raises(errors.RewardDistributorBudgetExceeded) as exc:
        distributor.pay_round(actors.coordinator, round_2, members[:1], [101])
    assert exc.value.args_by_name == {"round": round_2, "total": 101, "budget": 100}
    distributor.pay_round(actors.coordinator, round_2, members, [50, 50, 0])
    assert distributor.payout_of(round_2) == (True, 100)


def test_a_budget_change_does_not_touch_a_round_under_way(
    consortium: Consortium, actors: Actors, members: list[int]
) -> None:
    distributor = consortium.distributor
    round_1 = all_submit(consortium, actors, members)  # opened (and finalized) under BUDGET
    distributor.set_round_budget(actors.admin, 10 * BUDGET)
    distributor.set_round_budget(actors.admin, 2 * BUDGET)  # a second change before round 2 replaces it
    with pytest.raises(errors.RewardDistributorBudgetExceeded) as exc:
        distributor.pay_round(actors.coordinator, round_1, members[:1], [BUDGET + 1])
    assert exc.value.args_by_name["budget"] == BUDGET
    round_2 = all_submit(consortium, actors, members)
    assert distributor.budget_of(round_2) == 2 * BUDGET
    distributor.set_round_budget(actors.admin, 0)
    distributor.pay_round(actors.coordinator, round_2, members[:1], [2 * BUDGET])
    assert distributor.budget_of(round_2 + 1) == 0
    assert consortium.token.total_supply() == 2 * BUDGET


def test_huge_amounts_fail_cleanly(client: ChainClient, actors: Actors) -> None:
    # A deployment whose mint limit never binds, so only the budget and the arithmetic are in play.
    consortium = deploy_ready(client, actors.admin, actors.coordinator, mint_limit=2**256 - 1)
    members = [
        admit(consortium, actors.admin, k, f"Hospital {i + 1}") for i, k in enumerate(actors.hospitals[:3])
    ]
    distributor = consortium.distributor
    with pytest.raises(errors.SafeCastOverflowedUintDowncast) as exc:
        distributor.set_round_budget(actors.admin, 2**192)  # budgets are stored in 192 bits
    assert exc.value.args_by_name == {"bits": 192, "value": 2**192}
    distributor.set_round_budget(actors.admin, 2**192 - 1)
    round_number = all_submit(consortium, actors, members)
    # Amounts that overflow uint256 when summed panic (checked arithmetic).
    with pytest.raises(UnknownRevertError, match="0x11"):
        distributor.pay_round(actors.coordinator, round_number, members[:2], [2**255, 2**255])
    with pytest.raises(errors.RewardDistributorBudgetExceeded):
        distributor.pay_round(actors.coordinator, round_number, members[:1], [2**192])
    assert distributor.payout_of(round_number) == (False, 0)
    distributor.pay_round(actors.coordinator, round_number, members[:1], [2**192 - 1])
    assert consortium.token.total_supply() == 2**192 - 1


def test_payout_order_and_lengths(consortium: Consortium, actors: Actors, members: list[int]) -> None:
    distributor = consortium.distributor
    round_number = all_submit(consortium, actors, members)
    m1, m2, m3 = members
    for ids, index in (([m2, m1], 1), ([m1, m1], 1), ([m1, m3, m2], 2), ([0], 0)):
        with pytest.raises(errors.RewardDistributorMembersNotSorted) as exc:
            distributor.pay_round(actors.coordinator, round_number, ids, [1] * len(ids))
        assert exc.value.args_by_name == {"index": index}
    with pytest.raises(errors.RewardDistributorLengthMismatch) as exc_length:
        distributor.pay_round(actors.coordinator, round_number, members, [1, 1])
    assert exc_length.value.args_by_name == {"members": 3, "amounts": 2}
    assert distributor.payout_of(round_number) == (False, 0)


def test_only_the_coordinator_pays(consortium: Consortium, actors: Actors, members: list[int]) -> None:
    round_number = all_submit(consortium, actors, members)
    for caller in (actors.admin, actors.hospitals[0], actors.outsider):
        with pytest.raises(errors.ConsortiumAccessUnauthorized) as exc:
            consortium.distributor.pay_round(caller, round_number, members[:1], [1])
        assert exc.value.args_by_name == {"account": caller.address, "role": COORDINATOR_ROLE}
    assert consortium.token.total_supply() == 0


def test_tokens_cannot_be_minted_directly(consortium: Consortium, actors: Actors) -> None:
    token = consortium.token
    assert token.minter() == consortium.distributor.address  # the only minter, fixed at creation
    assert consortium.distributor.token_address() == token.address
    for caller in (actors.admin, actors.coordinator, actors.outsider):
        with pytest.raises(errors.RewardTokenUnauthorizedMinter) as exc:
            consortium.client.transact(token.contract.functions.mint(caller.address, 1), caller)
        assert exc.value.args_by_name == {"account": caller.address}
    assert token.total_supply() == 0


def test_tokens_go_to_the_current_signer(consortium: Consortium, actors: Actors, members: list[int]) -> None:
    old_key, new_key = actors.hospitals[0], actors.hospitals[4]
    round_number = all_submit(consortium, actors, members)
    consortium.registry.propose_key_rotation(old_key, new_key.address)
    consortium.registry.accept_key_rotation(new_key, members[0])

    consortium.distributor.pay_round(actors.coordinator, round_number, members[:1], [42])
    assert consortium.token.balance_of(new_key.address) == 42
    assert consortium.token.balance_of(old_key.address) == 0
    (payment,) = consortium.distributor.payments()
    assert (payment.member_id, payment.account) == (members[0], new_key.address)


def test_suspended_participants_are_still_paid(
    consortium: Consortium, actors: Actors, members: list[int]
) -> None:
    # Participation was earned when the round was finalized; a later suspension does not undo it.
    round_number = all_submit(consortium, actors, members)
    consortium.registry.suspend(actors.admin, members[1], "audit")
    consortium.distributor.pay_round(actors.coordinator, round_number, members, [1, 2, 3])
    assert consortium.token.balance_of(actors.hospitals[1].address) == 2


# == properties ====================================================================================
def test_property_payout_arithmetic(client: ChainClient, actors: Actors) -> None:
    # Amounts up to 3 * 10**24 a round, in rounds a few blocks apart: a mint limit that never binds.
    consortium = deploy_ready(client, actors.admin, actors.coordinator, mint_limit=2**256 - 1)
    members = [
        admit(consortium, actors.admin, k, f"Hospital {i + 1}") for i, k in enumerate(actors.hospitals[:3])
    ]
    distributor, token = consortium.distributor, consortium.token
    keys = actors.hospitals[:3]
    outcomes: set[bool] = set()

    @HYPOTHESIS
    @given(
        amounts=st.lists(st.integers(0, 10**24), min_size=1, max_size=3),
        slack=st.integers(-(10**24), 10**24),
    )
    def check(amounts: list[int], slack: int) -> None:
        total = sum(amounts)
        budget = max(0, total + slack)
        distributor.set_round_budget(actors.admin, budget)  # for the round opened next
        round_number = all_submit(consortium, actors, members)
        assert distributor.budget_of(round_number) == budget
        chosen = members[: len(amounts)]
        supply = token.total_supply()
        balances = [token.balance_of(k.address) for k in keys]

        if total <= budget:
            distributor.pay_round(actors.coordinator, round_number, chosen, amounts)
            assert distributor.payout_of(round_number) == (True, total)
            assert token.total_supply() == supply + total
            gained = [token.balance_of(k.address) - before for k, before in zip(keys, balances, strict=True)]
            assert gained == [*amounts, *[0] * (3 - len(amounts))]
            paid = distributor.payments(round_number=round_number)
            assert [(p.member_id, p.amount) for p in paid] == [
                (m, a) for m, a in zip(chosen, amounts, strict=True) if a
            ]
        else:
            with pytest.raises(errors.RewardDistributorBudgetExceeded) as exc:
                distributor.pay_round(actors.coordinator, round_number, chosen, amounts)
            assert exc.value.args_by_name == {"round": round_number, "total": total, "budget": budget}
            assert distributor.payout_of(round_number) == (False, 0)
            assert token.total_supply() == supply
        outcomes.add(total <= budget)

    check()
    assert outcomes == {True, False}  # both sides of the budget were tried


@pytest.fixture
def scored_rounds(consortium: Consortium, actors: Actors, members: list[int]) -> list[int]:
    """Four finalized rounds in which all three members submitted."""
    return [all_submit(consortium, actors, members) for _ in range(4)]


def test_property_reputation_arithmetic(
    client: ChainClient,
    consortium: Consortium,
    actors: Actors,
    members: list[int],
    scored_rounds: list[int],
) -> None:
    longest: list[int] = [0]

    @HYPOTHESIS
    @given(
        initial=st.integers(0, MAX_SCORE),
        threshold_seed=st.integers(0, MAX_SCORE),
        steps=st.lists(
            st.tuples(
                st.integers(1, MAX_SCORE),
                st.lists(st.one_of(st.none(), st.integers(0, MAX_SCORE)), min_size=3, max_size=3),
            ),
            min_size=1,
            max_size=len(scored_rounds),
        ),
    )
    def check(initial: int, threshold_seed: int, steps: list[tuple[int, list[int | None]]]) -> None:
        # A fresh ReputationLedger per example (on the same registry and round ledger) starts every
        # member at ``initial``; each step may change the smoothing, then scores some of the members.
        threshold = threshold_seed % (initial + 1)
        address, _ = client.deploy(
            "ReputationLedger",
            actors.admin,
            consortium.registry.address,
            consortium.ledger.address,
            initial,
            steps[0][0],
            threshold,
        )
        reputation = Reputation(client, address)
        expected = dict.fromkeys(members, initial)
        smoothing = steps[0][0]
        for round_number, (step_smoothing, contributions) in zip(scored_rounds, steps, strict=False):
            if step_smoothing != smoothing:
                reputation.set_parameters(actors.admin, initial, step_smoothing, threshold)
                smoothing = step_smoothing
            scored = [(m, c) for m, c in zip(members, contributions, strict=True) if c is not None]
            reputation.record_scores(
                actors.coordinator, round_number, [m for m, _ in scored], [c for _, c in scored]
            )
            for member_id, contribution in scored:
                expected[member_id] = next_reputation(expected[member_id], contribution, smoothing)
            on_chain = {m: reputation.reputation_of(m) for m in members}
            assert on_chain == expected
            assert all(0 <= value <= MAX_SCORE for value in on_chain.values())
            assert {m: reputation.is_excluded(m) for m in members} == {
                m: excluded(value, threshold) for m, value in expected.items()
            }
            assert [c.current for c in reputation.history(round_number=round_number)] == [
                expected[m] for m, _ in scored
            ]
        assert reputation.parameters() == ReputationParameters(initial, smoothing, threshold)
        longest[0] = max(longest[0], len(steps))

    check()
    assert longest[0] > 1  # some examples ran over several rounds
