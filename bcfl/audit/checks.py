"""The audit's named checks over the events (and, for three of them, the model store). Each
returns a :class:`CheckResult`: passed or not, each problem in one line naming its round, member
or hash, and one sentence on what passing proves."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from bcfl.audit.chain_state import chain_state
from bcfl.audit.context import AuditContext
from bcfl.audit.evaluations import round_evaluations
from bcfl.audit.history import DECLARED_BY, History, RoundHistory, position
from bcfl.audit.model import CheckResult
from bcfl.audit.privacy import privacy_budget
from bcfl.audit.views import excluded_before
from bcfl.audit.weights import round_weights
from bcfl.chain.eip712 import LedgerDomain
from bcfl.chain.reputation import MAX_SCORE, next_reputation
from coordinator.incentives import split_budget

Check = Callable[[AuditContext], CheckResult]


def signatures(context: AuditContext) -> CheckResult:
    findings = context.signatures()
    problems = [
        f"round {e.args['round']} member {e.args['memberId']} update {e.args['updateHash']}: "
        + (finding.problem if finding else "no signature found")
        for number, chain_round in sorted(context.history.rounds.items())
        for e in chain_round.updates
        if (finding := findings.get((e.tx_hash, e.log_index))) is None or not finding.valid
    ]
    return CheckResult(
        name="signatures",
        ok=not problems,
        problems=tuple(problems),
        proves="every registered update carries a signature, taken from its registering transaction, "
        "by the key of a member that was active at that block",
    )


def one_update_per_member(context: AuditContext) -> CheckResult:
    problems = []
    for number, chain_round in sorted(context.history.rounds.items()):
        counts = Counter(int(e.args["memberId"]) for e in chain_round.updates)
        problems += [
            f"round {number} member {m}: {n} updates registered" for m, n in sorted(counts.items()) if n > 1
        ]
    return CheckResult(
        name="one-update-per-member",
        ok=not problems,
        problems=tuple(problems),
        proves="no member had more than one update registered in any round",
    )


def lineage(context: AuditContext) -> CheckResult:
    """Replays the ledger's head: a lineage start sets it, a finalized round moves it to its
    aggregate; each round must open from the head of that moment."""
    history = context.history
    head: tuple[str, int, int] | None = None
    problems = []
    for event in history.events:
        if event.contract != "RoundLedger":
            continue
        args = event.args
        if event.name == "LineageStarted":
            head = (str(args["modelHash"]).lower(), 0, int(args["lineage"]))
        elif event.name == "RoundFinalized" and head is not None:
            head = (str(args["aggregatedModelHash"]).lower(), int(args["round"]), head[2])
        elif event.name == "RoundOpened":
            opened = (str(args["globalModelHash"]).lower(), int(args["parentRound"]), int(args["lineage"]))
            if head is None:
                problems.append(f"round {args['round']}: opened before any lineage started")
            elif opened != head:
                source = f"round {head[1]}'s aggregate" if head[1] else f"lineage {head[2]}'s start"
                problems.append(
                    f"round {args['round']}: opened from {opened[0]} (parent round {opened[1]}, "
                    f"lineage {opened[2]}), but the head was {head[0]} ({source}, lineage {head[2]})"
                )
    problems += [
        f"{e.name} in block {e.block_number} names round {e.args.get('round')}, never opened"
        for e in history.orphans
    ]
    return CheckResult(
        name="lineage",
        ok=not problems,
        problems=tuple(problems),
        proves="each round started from its parent round's aggregate or from its lineage's recorded "
        "start, so every model descends from a lineage start through finalized rounds",
    )


def payouts(context: AuditContext) -> CheckResult:
    history = context.history
    problems = []
    for number, chain_round in sorted(history.rounds.items()):
        where = f"round {number}"
        problems += [
            f"{where} member {m}: finalized as a participant while excluded (reputation {before} "
            f"before the round, below the threshold {threshold})"
            for m, before, threshold in _excluded_participants(history, chain_round)
        ]
        problems += [
            f"{where} member {m}: finalized as a participant without a recorded score (its weight, "
            "payout and reputation cannot be checked)"
            for m in _unscored_participants(chain_round)
        ]
        if not chain_round.payouts and chain_round.paid is None:
            continue
        if chain_round.paid is None:
            problems.append(f"{where}: rewards paid without a RoundPaid record")
            continue
        budget = int(chain_round.paid.args["budget"])
        total = int(chain_round.paid.args["total"])
        scheduled = history.budget_of(number)
        paid = {int(e.args["memberId"]): int(e.args["amount"]) for e in chain_round.payouts}
        if scheduled is not None and budget != scheduled:
            problems.append(f"{where}: paid under budget {budget}, the schedule says {scheduled}")
        if total > budget or sum(paid.values()) > budget:
            problems.append(f"{where}: paid {max(total, sum(paid.values()))}, over its budget {budget}")
        if sum(paid.values()) != total:
            problems.append(f"{where}: payouts sum to {sum(paid.values())}, RoundPaid says {total}")
        participants = chain_round.weights
        excluded = set(excluded_before(history, chain_round))
        for event in chain_round.payouts:
            member_id = int(event.args["memberId"])
            if member_id in excluded:
                problems.append(
                    f"{where} member {member_id}: paid {event.args['amount']} while excluded "
                    "(reputation below the threshold)"
                )
            elif member_id not in participants:
                problems.append(
                    f"{where} member {member_id}: paid {event.args['amount']} but not a participant"
                )
            state = history.member_at(member_id, position(event))
            if state is None or state.signer != event.args["account"]:
                problems.append(
                    f"{where} member {member_id}: paid to {event.args['account']}, not the member's key"
                )
        expected = {
            m: a
            for m, a in split_budget(budget, round_weights(context.history, number)).items()
            if m in participants and a
        }
        for member_id in sorted(set(expected) | set(paid)):
            if expected.get(member_id, 0) != paid.get(member_id, 0):
                problems.append(
                    f"{where} member {member_id}: paid {paid.get(member_id, 0)}, the published weights give "
                    f"{expected.get(member_id, 0)}"
                )
    return CheckResult(
        name="payouts",
        ok=not problems,
        problems=tuple(problems),
        proves="each round finalized and paid only scored participants in good standing, within its budget, "
        "each budget x w_i // sum(w) by the published examples, scores and reputations",
    )


def _unscored_participants(chain_round: RoundHistory) -> list[int]:
    """The finalized participants the round recorded no score for."""
    if chain_round.finalized is None:
        return []
    scored = {int(e.args["memberId"]) for e in chain_round.scores}
    return [m for m in sorted(chain_round.weights) if m not in scored]


def _excluded_participants(history: History, chain_round: RoundHistory) -> list[tuple[int, int, int]]:
    """(member, reputation before the round, threshold) of each finalized participant that was
    excluded: below the threshold in force at finalization, as the ledger judges (and refuses) it."""
    if chain_round.finalized is None:
        return []
    threshold = int(history.parameters_at(position(chain_round.finalized))["exclusionThreshold"])
    before = {int(e.args["memberId"]): int(e.args["previous"]) for e in chain_round.scores}
    return [
        (m, before[m], threshold) for m in sorted(chain_round.weights) if before.get(m, threshold) < threshold
    ]


def reputation_replay(context: AuditContext) -> CheckResult:
    history = context.history
    current: dict[int, int] = {}
    problems = []
    for number, chain_round in sorted(history.rounds.items()):
        submitted = {int(e.args["memberId"]) for e in chain_round.updates}
        for event in chain_round.scores:
            args = event.args
            member_id = int(args["memberId"])
            where = f"round {number} member {member_id}"
            parameters = history.parameters_at(position(event))
            previous = current.get(member_id, int(parameters["initialReputation"]))
            contribution = int(args["contribution"])
            expected = next_reputation(previous, contribution, int(parameters["smoothing"]))
            if member_id not in submitted:
                problems.append(f"{where}: scored without a registered update")
            if contribution > MAX_SCORE:
                problems.append(f"{where}: score {contribution} above {MAX_SCORE}")
            if int(args["previous"]) != previous or int(args["current"]) != expected:
                problems.append(
                    f"{where}: reputation {args['previous']} -> {args['current']} recorded, "
                    f"{previous} -> {expected} replayed"
                )
            current[member_id] = int(args["current"])
    for member_id, value in sorted(current.items()):
        on_chain = context.source.reputation_of(member_id)
        if on_chain != value:
            problems.append(
                f"member {member_id}: reputation {on_chain} on chain now, {value} replayed from events"
            )
    return CheckResult(
        name="reputation-replay",
        ok=not problems,
        problems=tuple(problems),
        proves="every reputation change follows the contract's moving average from the recorded "
        "scores, and the reputations the contract holds now are those the events add up to",
    )


def manifest_addresses(context: AuditContext) -> CheckResult:
    problems = []
    for event in context.history.events:
        if not event.in_manifest:
            problems.append(
                f"{event.name} from {event.address}, outside the manifest "
                f"(block {event.block_number}, tx {event.tx_hash})"
            )
        elif event.name in DECLARED_BY and DECLARED_BY[event.name] != event.contract:
            problems.append(
                f"{event.name} from the {event.contract}, which does not declare it (tx {event.tx_hash})"
            )
    return CheckResult(
        name="manifest-addresses",
        ok=not problems,
        problems=tuple(problems),
        proves="no contract outside the manifest emitted a consortium event, so no impostor's "
        "record was mistaken for the consortium's (the audit reads only the manifest's contracts)",
    )


def evaluations(context: AuditContext) -> CheckResult:
    assert context.store is not None
    domain = LedgerDomain(context.source.chain_id, context.source.ledger_address)
    problems = [
        problem
        for _, chain_round in sorted(context.history.rounds.items())
        for problem in round_evaluations(domain, context.history, context.store, chain_round).problems
    ]
    return CheckResult(
        name="evaluations",
        ok=not problems,
        problems=tuple(problems),
        proves="each round's metrics record is the one its metricsHash names, and each evaluation in "
        "it is signed by its member's key over the round's aggregated model (not that none was left out)",
    )


#: The checks over events alone, in report order.
CHAIN_CHECKS: tuple[Check, ...] = (
    signatures,
    one_update_per_member,
    lineage,
    payouts,
    reputation_replay,
    chain_state,
    manifest_addresses,
    privacy_budget,
)
