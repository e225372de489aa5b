"""The audit's views of rounds, members and lineages, and where the chain registered a model, all
built from the events (plus the store's documents when a store is given)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any, Literal

from bcfl.audit.context import AuditContext, AuditError
from bcfl.audit.evaluations import round_evaluations
from bcfl.audit.history import History, RoundHistory, position
from bcfl.audit.model import (
    EvaluationView,
    LineageView,
    MemberEventView,
    MemberView,
    ModelLocation,
    PayoutView,
    RoundView,
    ScoreView,
    SkippedView,
    UpdateView,
    WeightView,
)
from bcfl.audit.privacy import epsilon_number, member_privacy
from bcfl.chain.eip712 import LedgerDomain
from bcfl.chain.ledger import SkipReason
from bcfl.chain.privacy import NOT_PRIVATE, delta_value
from bcfl.models.store import ModelStoreError


def _bytes(value: str) -> bytes:
    return bytes.fromhex(value.removeprefix("0x"))


def round_of(history: History, number: int) -> RoundHistory:
    chain_round = history.rounds.get(number)
    if chain_round is None:
        known = f"rounds 1 to {max(history.rounds)}" if history.rounds else "no rounds yet"
        raise AuditError(f"round {number} was never opened on this chain ({known}): pick another round")
    return chain_round


def excluded_before(history: History, chain_round: RoundHistory) -> list[int]:
    """Members whose reputation before the round was below the exclusion threshold then."""
    return sorted(
        int(e.args["memberId"])
        for e in chain_round.scores
        if int(e.args["previous"]) < int(history.parameters_at(position(e))["exclusionThreshold"])
    )


def round_view(context: AuditContext, number: int) -> RoundView:
    history = context.history
    chain_round = round_of(history, number)
    opened = chain_round.opened
    signatures = context.signatures()
    updates = []
    for event in chain_round.updates:
        finding = signatures.get((event.tx_hash, event.log_index))
        member_id = int(event.args["memberId"])
        updates.append(
            UpdateView(
                member_id=member_id,
                member_name=history.member_name(member_id),
                signer=finding.signer if finding else "",
                update_hash=str(event.args["updateHash"]),
                num_examples=int(event.args["numExamples"]),
                signature=finding.signature if finding else "",
                signature_valid=finding is not None and finding.valid,
                block_number=event.block_number,
                tx_hash=event.tx_hash,
                epsilon=epsilon_number(int(event.args.get("epsilonSpent", NOT_PRIVATE))),
                delta=delta_value(int(event.args.get("deltaSpent", 0))),
            )
        )
    excluded = excluded_before(history, chain_round)
    final, paid = chain_round.finalized, chain_round.paid
    config: dict[str, Any] | None = None
    evaluations: tuple[EvaluationView, ...] = ()
    aggregate: dict[str, float] | None = None
    if context.store is not None:
        try:
            config = context.store.get_document(_bytes(str(opened.args["configHash"])))
        except ModelStoreError:
            config = None
        domain = LedgerDomain(context.source.chain_id, context.source.ledger_address)
        found = round_evaluations(domain, history, context.store, chain_round)
        evaluations, aggregate = found.views, found.aggregate
    budget = int(paid.args["budget"]) if paid is not None else history.budget_of(number)
    status: Literal["open", "finalized", "paid"] = (
        "paid" if paid is not None else "finalized" if final is not None else "open"
    )
    return RoundView(
        round=number,
        status=status,
        lineage=chain_round.lineage,
        parent_round=chain_round.parent,
        global_model_hash=chain_round.global_hash,
        config_hash=str(opened.args["configHash"]),
        app_hash=str(opened.args["appHash"]),
        config=config,
        opened_block=opened.block_number,
        opened_at=opened.timestamp,
        updates=tuple(updates),
        skipped=tuple(
            SkippedView(
                index=int(e.args["index"]),
                signer=str(e.args["signer"]),
                update_hash=str(e.args["updateHash"]),
                reason=SkipReason(int(e.args["reason"])).text,
                tx_hash=e.tx_hash,
            )
            for e in chain_round.skipped
        ),
        scores=tuple(
            ScoreView(
                member_id=int(e.args["memberId"]),
                contribution=int(e.args["contribution"]),
                reputation_before=int(e.args["previous"]),
                reputation_after=int(e.args["current"]),
                excluded_before=int(e.args["memberId"]) in excluded,
            )
            for e in chain_round.scores
        ),
        excluded=tuple(excluded),
        participants=tuple(WeightView(member_id=m, weight=w) for m, w in chain_round.weights.items()),
        aggregated_model_hash=chain_round.aggregated_hash,
        metrics_hash=str(final.args["metricsHash"]) if final is not None else None,
        finalized_block=final.block_number if final is not None else None,
        evaluations=evaluations,
        aggregate_metrics=aggregate,
        budget=str(budget) if budget is not None else None,
        total_paid=str(paid.args["total"]) if paid is not None else None,
        payouts=tuple(
            PayoutView(
                member_id=int(e.args["memberId"]),
                account=str(e.args["account"]),
                amount=str(e.args["amount"]),
            )
            for e in chain_round.payouts
        ),
    )


_DETAIL: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "MembershipRequested": lambda a: f"requested as {a['name']!r} with key {a['signer']}",
    "MembershipApproved": lambda a: f"approved by member {a['approverId']} ({a['approvals']} approvals)",
    "MemberActivated": lambda a: f"active with key {a['signer']}",
    "MembershipRejected": lambda a: f"rejected: {a['reason']}",
    "MemberSuspended": lambda a: f"suspended: {a['reason']}",
    "MemberReinstated": lambda a: "reinstated",
    "KeyRotationProposed": lambda a: f"key rotation to {a['newSigner']} proposed by {a['proposedBy']}",
    "SignerRotated": lambda a: f"key rotated from {a['previousSigner']} to {a['newSigner']}",
    "NodeKeyUpdated": lambda a: f"node key {a['nodeKeyFingerprint']}",
    "NodeKeyPublished": lambda a: f"node key {a['fingerprint']} published",
}


def member_view(context: AuditContext, member_id: int) -> MemberView:
    history = context.history
    events = history.membership.get(member_id)
    if not events:
        raise AuditError(
            f"member {member_id} never asked to join this consortium "
            f"(members: {', '.join(map(str, sorted(history.membership))) or 'none'}): pick another member"
        )
    last = events[-1]
    state = history.member_at(member_id, (last.block_number, last.log_index + 1))
    assert state is not None
    updates, reputation, payouts = [], [], []
    for number, chain_round in sorted(history.rounds.items()):
        updates += [
            (number, str(e.args["updateHash"]), int(e.args["numExamples"]))
            for e in chain_round.updates
            if int(e.args["memberId"]) == member_id
        ]
        reputation += [
            (number, int(e.args["current"]))
            for e in chain_round.scores
            if int(e.args["memberId"]) == member_id
        ]
        payouts += [
            (number, str(e.args["amount"]))
            for e in chain_round.payouts
            if int(e.args["memberId"]) == member_id
        ]
    return MemberView(
        member_id=member_id,
        name=history.member_name(member_id),
        status=state.status,
        signer=state.signer,
        history=tuple(
            MemberEventView(
                block_number=e.block_number,
                timestamp=e.timestamp,
                event=e.name,
                detail=_DETAIL[e.name](e.args) if e.name in _DETAIL else "",
                tx_hash=e.tx_hash,
            )
            for e in events
        ),
        updates=tuple(updates),
        reputation=tuple(reputation),
        payouts=tuple(payouts),
        paid_total=str(sum(int(amount) for _, amount in payouts)),
        balance=str(context.source.balance_of(state.signer)) if state.signer else "0",
        privacy=member_privacy(history, member_id),
    )


def lineage_views(history: History) -> tuple[LineageView, ...]:
    return tuple(
        LineageView(
            lineage=number,
            model_hash=str(e.args["modelHash"]),
            started_by=str(e.args["startedBy"]),
            reason=str(e.args["reason"]),
            block_number=e.block_number,
        )
        for number, e in sorted(history.lineage_starts.items())
    )


def all_locations(history: History) -> Iterator[ModelLocation]:
    """Every place the chain registered a model (lineage starts, then each round's global model,
    updates and aggregate), in chain order; hashes lowercase."""
    for _, e in sorted(history.lineage_starts.items()):
        yield ModelLocation(
            model_hash=str(e.args["modelHash"]).lower(),
            role="lineage-start",
            round=None,
            member_id=None,
            block_number=e.block_number,
        )
    for number, chain_round in sorted(history.rounds.items()):
        yield ModelLocation(
            model_hash=chain_round.global_hash.lower(),
            role="global",
            round=number,
            member_id=None,
            block_number=chain_round.opened.block_number,
        )
        for e in chain_round.updates:
            yield ModelLocation(
                model_hash=str(e.args["updateHash"]).lower(),
                role="update",
                round=number,
                member_id=int(e.args["memberId"]),
                block_number=e.block_number,
            )
        if chain_round.finalized is not None and chain_round.aggregated_hash:
            yield ModelLocation(
                model_hash=chain_round.aggregated_hash.lower(),
                role="aggregated",
                round=number,
                member_id=None,
                block_number=chain_round.finalized.block_number,
            )


def locate(history: History, model_hash: str) -> list[ModelLocation]:
    """Every place the chain registered ``model_hash`` (0x hex), in chain order."""
    wanted = model_hash.lower()
    return [location for location in all_locations(history) if location.model_hash == wanted]


def locations_by_hash(history: History) -> dict[str, list[ModelLocation]]:
    """:func:`locate` for every model at once: each registered hash (lowercase) to its places."""
    found: dict[str, list[ModelLocation]] = {}
    for location in all_locations(history):
        found.setdefault(location.model_hash, []).append(location)
    return found


def lineage_back(history: History, number: int) -> list[int]:
    """Round ``number`` and its ancestors by ``parentRound``, back to its lineage's start, newest first
    (a cycle or a parent never opened ends the walk)."""
    chain: list[int] = []
    seen: set[int] = set()
    while number and number in history.rounds and number not in seen:
        chain.append(number)
        seen.add(number)
        number = history.rounds[number].parent
    return chain
