"""What the dashboard serves between two changes of the ledger: the audit's report of the whole
history, taken once per indexed block and never changed (requests read it without locks).

It is built from the event index (events and signatures) and, while the chain answers, the chain's
current state (balances, reputations), so it stays whole when the chain later goes down. The costly
``recompute`` check is run once per finalized round and kept: a finalized round never changes.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from bcfl.audit import checks
from bcfl.audit.chain_state import Settled, chain_state
from bcfl.audit.context import AuditContext
from bcfl.audit.model import AuditReport, CheckResult, MemberView, RoundView
from bcfl.audit.report import STORE_CHECKS
from bcfl.audit.signatures import SignatureFinding
from bcfl.audit.store_checks import RECOMPUTE_PROVES, recompute_rounds, store_files
from bcfl.audit.views import lineage_views, member_view, round_view
from dashboard.nodes import node_keys
from dashboard.rendered import Rendered, render


@dataclass(frozen=True)
class Snapshot:
    """The audit's view of the ledger at ``block`` (the index's last block when it was taken)."""

    block: int
    taken_at: float
    context: AuditContext
    report: AuditReport
    rounds: Mapping[int, RoundView]
    members: Mapping[int, MemberView]
    threshold_bps: int
    #: The answers that do not depend on the request, serialized once.
    rendered: Rendered
    #: Each member's node key fingerprint, for those that named one (see dashboard.nodes).
    node_keys: Mapping[int, str] = field(default_factory=dict)


@dataclass
class RecomputeCache:
    """The ``recompute`` check's problems per finalized round, by (round, aggregated model hash)."""

    problems: dict[tuple[int, str], list[str]] = field(default_factory=dict)

    def check(self, context: AuditContext) -> CheckResult:
        finalized = {
            (number, chain_round.aggregated_hash or ""): number
            for number, chain_round in context.history.rounds.items()
            if chain_round.finalized is not None
        }
        missing = {number for key, number in finalized.items() if key not in self.problems}
        if missing:  # one pass: a round's models are read once and kept for the next
            for number, problems in recompute_rounds(context, missing).items():
                self.problems[(number, context.history.rounds[number].aggregated_hash or "")] = problems
        found = [p for key in sorted(finalized) for p in self.problems.get(key, ())]
        return CheckResult(name="recompute", ok=not found, problems=tuple(found), proves=RECOMPUTE_PROVES)


@dataclass
class Caches:
    """What one snapshot's checks found that the next can reuse (see each check); emptied when the
    chain rolls back."""

    recompute: RecomputeCache = field(default_factory=RecomputeCache)
    #: The chain-state check's problems per paid round.
    settled: dict[int, tuple[Settled, list[str]]] = field(default_factory=dict)
    #: The last context's signature findings.
    signatures: dict[tuple[str, int], SignatureFinding] = field(default_factory=dict)

    def clear(self) -> None:
        self.recompute.problems.clear()
        self.settled.clear()
        self.signatures.clear()


def _check(check: checks.Check, context: AuditContext, caches: Caches) -> CheckResult:
    if check is chain_state:
        return chain_state(context, caches.settled)
    return check(context)


def take_snapshot(context: AuditContext, block: int, caches: Caches) -> Snapshot:
    """Every view and check of ``context``'s history (the store's checks only with a store)."""
    history = context.history
    results = [_check(check, context, caches) for check in checks.CHAIN_CHECKS]
    caches.signatures = context.signatures()
    not_run: tuple[str, ...] = tuple(
        f"{name}: the dashboard was given no model store" for name in STORE_CHECKS
    )
    if context.store is not None:
        results += [store_files(context), caches.recompute.check(context), checks.evaluations(context)]
        not_run = ()
    numbers = sorted(history.rounds)
    rounds = {n: round_view(context, n) for n in numbers}
    members = {m: member_view(context, m) for m in sorted(history.membership)}
    symbol, decimals = context.source.token()
    report = AuditReport(
        generated_at=int(time.time()),
        chain_id=context.source.chain_id,
        registry=context.source.registry_address,
        from_round=numbers[0] if numbers else 0,
        to_round=numbers[-1] if numbers else 0,
        indexed_to_block=block,
        token_symbol=symbol,
        token_decimals=decimals,
        lineages=lineage_views(history),
        rounds=tuple(rounds.values()),
        members=tuple(members.values()),
        checks=tuple(results),
        not_run=not_run,
    )
    end = (block + 1, 0)
    threshold = int(history.parameters_at(end)["exclusionThreshold"])
    rendered = render(report, block, threshold, history)
    return Snapshot(
        block, time.time(), context, report, rounds, members, threshold, rendered, node_keys(history)
    )
