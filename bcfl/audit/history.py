"""A run's chain history, read from its events alone: the rounds, their updates, scores, payouts,
the lineages, the reputation parameters and budgets, each membership's state at any point, and the
SuperLink certificates the consortium pinned.

Only events from the manifest's contracts (each from the contract that declares it) enter the
history: an impostor's event is for the ``manifest-addresses`` check to name, never a fact.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bcfl.chain.privacy import NO_BUDGET, PrivacyBudget
from bcfl.index.records import IndexedEvent

#: A point in the chain: (block number, log index).
Position = tuple[int, int]

#: Which contract declares each event the history reads.
DECLARED_BY: Mapping[str, str] = {
    **dict.fromkeys(
        (
            "MembershipRequested", "MembershipApproved", "MemberActivated", "MembershipRejected",
            "MemberSuspended", "MemberReinstated", "KeyRotationProposed", "SignerRotated",
            "NodeKeyUpdated", "NodeKeyPublished", "SuperLinkCertificateSet",
        ),
        "ConsortiumRegistry",
    ),
    **dict.fromkeys(
        (
            "RoundOpened", "LineageStarted", "UpdateRegistered", "UpdateSkipped", "RoundFinalized",
            "PrivacyBudgetChanged",
        ),
        "RoundLedger",
    ),
    **dict.fromkeys(("ReputationUpdated", "ReputationParametersSet"), "ReputationLedger"),
    **dict.fromkeys(("RewardPaid", "RoundPaid", "RoundBudgetSet"), "RewardDistributor"),
}  # fmt: skip

#: Membership statuses as the registry names them.
PENDING, ACTIVE, SUSPENDED, REJECTED = "pending", "active", "suspended", "rejected"


def position(event: IndexedEvent) -> Position:
    return (event.block_number, event.log_index)


@dataclass
class RoundHistory:
    """One round's events."""

    number: int
    opened: IndexedEvent
    updates: list[IndexedEvent] = field(default_factory=list)
    skipped: list[IndexedEvent] = field(default_factory=list)
    scores: list[IndexedEvent] = field(default_factory=list)
    finalized: IndexedEvent | None = None
    payouts: list[IndexedEvent] = field(default_factory=list)
    paid: IndexedEvent | None = None

    @property
    def global_hash(self) -> str:
        return str(self.opened.args["globalModelHash"])

    @property
    def parent(self) -> int:
        return int(self.opened.args["parentRound"])

    @property
    def lineage(self) -> int:
        return int(self.opened.args["lineage"])

    @property
    def aggregated_hash(self) -> str | None:
        return str(self.finalized.args["aggregatedModelHash"]) if self.finalized is not None else None

    @property
    def weights(self) -> dict[int, int]:
        """Participant -> weight, as finalized (empty before)."""
        if self.finalized is None:
            return {}
        args = self.finalized.args
        return {int(m): int(w) for m, w in zip(args["participants"], args["weights"], strict=False)}


@dataclass(frozen=True)
class MemberState:
    status: str
    signer: str


@dataclass
class History:
    """Everything the audit reads from events, indexed for lookups."""

    events: Sequence[IndexedEvent]
    rounds: dict[int, RoundHistory]
    lineage_starts: dict[int, IndexedEvent]
    membership: dict[int, list[IndexedEvent]]
    parameters: list[IndexedEvent]
    budgets: list[IndexedEvent]
    superlink_certificates: list[IndexedEvent]
    """Each ``SuperLinkCertificateSet``, in chain order (the last one is pinned)."""
    orphans: list[IndexedEvent]
    """Round events whose round was never opened (a crafted history)."""
    _timeline: dict[int, tuple[list[Position], list[MemberState]]]
    _first: dict[str, int] | None = None
    privacy_budgets: list[IndexedEvent] = field(default_factory=list)
    """Each ``PrivacyBudgetChanged`` (the deployment's budget first), in chain order."""

    @classmethod
    def of(cls, events: Iterable[IndexedEvent]) -> History:
        ordered = sorted(events, key=position)
        rounds: dict[int, RoundHistory] = {}
        starts: dict[int, IndexedEvent] = {}
        membership: dict[int, list[IndexedEvent]] = defaultdict(list)
        parameters: list[IndexedEvent] = []
        budgets: list[IndexedEvent] = []
        certificates: list[IndexedEvent] = []
        orphans: list[IndexedEvent] = []
        privacy: list[IndexedEvent] = []
        for event in ordered:
            if not event.in_manifest or DECLARED_BY.get(event.name) != event.contract:
                continue
            args = event.args
            if event.name == "SuperLinkCertificateSet":
                certificates.append(event)
            elif event.contract == "ConsortiumRegistry":
                membership[int(args["memberId"])].append(event)
            elif event.name == "RoundOpened":
                rounds[int(args["round"])] = RoundHistory(int(args["round"]), event)
            elif event.name == "LineageStarted":
                starts[int(args["lineage"])] = event
            elif event.name == "ReputationParametersSet":
                parameters.append(event)
            elif event.name == "RoundBudgetSet":
                budgets.append(event)
            elif event.name == "PrivacyBudgetChanged":
                privacy.append(event)
            else:
                chain_round = rounds.get(int(args["round"]))
                if chain_round is None:
                    orphans.append(event)
                    continue
                _file(chain_round, event)
        history = cls(
            ordered, rounds, starts, dict(membership), parameters, budgets, certificates, orphans, {},
            privacy_budgets=privacy,
        )  # fmt: skip
        history._timeline = {m: _timeline(evs) for m, evs in history.membership.items()}
        return history

    def member_at(self, member_id: int, at: Position) -> MemberState | None:
        """The member's status and signer just before ``at`` (None before its request)."""
        timeline = self._timeline.get(member_id)
        if timeline is None:
            return None
        positions, states = timeline
        index = bisect.bisect_left(positions, at) - 1
        return states[index] if index >= 0 else None

    def first_registered(self) -> dict[str, int]:
        """Each registered update hash (lowercase) to the first round that registered it."""
        if self._first is None:
            first: dict[str, int] = {}
            for number in sorted(self.rounds):
                for e in self.rounds[number].updates:
                    first.setdefault(str(e.args["updateHash"]).lower(), number)
            self._first = first
        return self._first

    def member_name(self, member_id: int) -> str:
        for event in self.membership.get(member_id, ()):
            if event.name == "MembershipRequested":
                return str(event.args["name"])
        return ""

    def parameters_at(self, at: Position) -> Mapping[str, Any]:
        """The reputation parameters in force just before ``at``."""
        found: Mapping[str, Any] = {"initialReputation": 0, "smoothing": 0, "exclusionThreshold": 0}
        for event in self.parameters:
            if position(event) >= at:
                break
            found = event.args
        return found

    def privacy_budget_at(self, at: Position) -> PrivacyBudget:
        """The privacy budget in force just before ``at`` (none bounds nothing)."""
        found = NO_BUDGET
        for event in self.privacy_budgets:
            if position(event) >= at:
                break
            found = PrivacyBudget(int(event.args["epsilon"]), int(event.args["delta"]))
        return found

    def budget_of(self, chain_round: int) -> int | None:
        """The budget of ``chain_round`` by the ``RoundBudgetSet`` schedule (the latest change that
        applies from this round or earlier)."""
        found = None
        for event in self.budgets:
            if int(event.args["fromRound"]) <= chain_round:
                found = int(event.args["budget"])
        return found

    def hospital_names(self) -> dict[int, str]:
        return {m: self.member_name(m) for m in sorted(self.membership)}


def _file(chain_round: RoundHistory, event: IndexedEvent) -> None:
    if event.name == "UpdateRegistered":
        chain_round.updates.append(event)
    elif event.name == "UpdateSkipped":
        chain_round.skipped.append(event)
    elif event.name == "ReputationUpdated":
        chain_round.scores.append(event)
    elif event.name == "RoundFinalized":
        chain_round.finalized = event
    elif event.name == "RewardPaid":
        chain_round.payouts.append(event)
    elif event.name == "RoundPaid":
        chain_round.paid = event


def _timeline(events: Sequence[IndexedEvent]) -> tuple[list[Position], list[MemberState]]:
    """The member's state after each of its membership events."""
    positions: list[Position] = []
    states: list[MemberState] = []
    state = MemberState(PENDING, "")
    for event in events:
        args = event.args
        if event.name == "MembershipRequested":
            state = MemberState(PENDING, str(args["signer"]))
        elif event.name == "MemberActivated":
            state = MemberState(ACTIVE, str(args["signer"]))
        elif event.name == "MembershipRejected":
            state = MemberState(REJECTED, state.signer)
        elif event.name == "MemberSuspended":
            state = MemberState(SUSPENDED, state.signer)
        elif event.name == "MemberReinstated":
            state = MemberState(ACTIVE, state.signer)
        elif event.name == "SignerRotated":
            state = MemberState(state.status, str(args["newSigner"]))
        else:
            continue
        positions.append(position(event))
        states.append(state)
    return positions, states
