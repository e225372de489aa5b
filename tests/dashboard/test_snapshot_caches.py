"""What one snapshot's checks found and the next reuses: a paid round's chain-state problems, each
signature's finding and each finalized round's recomputation are reused while their events stay the
same, recomputed when they change, and never change the verdict."""

from __future__ import annotations

import dataclasses

from bcfl.audit.chain_state import Settled, chain_state, settled_key
from bcfl.audit.checks import signatures
from bcfl.audit.context import AuditContext
from bcfl.audit.history import History
from bcfl.audit.signatures import SignatureFinding
from bcfl.audit.source import ScanSource
from bcfl.audit.store_checks import recompute, recompute_rounds
from dashboard.snapshot import Caches, take_snapshot
from tests.audit.runs import Run


def test_a_paid_rounds_chain_state_is_reused_until_its_events_change(run: Run) -> None:
    context = run.audit()
    settled: dict[int, tuple[Settled, list[str]]] = {}
    fresh = chain_state(context, settled)
    assert fresh.ok and sorted(settled) == [1, 2, 3]
    # Reused: a problem planted in the cache is reported (nothing asked the chain again)...
    key, _ = settled[2]
    settled[2] = (key, ["round 2: planted"])
    assert chain_state(context, settled).problems == ("round 2: planted",)
    # ...until the round's events change: then the round is checked against the chain again.
    history = context.history
    second = history.rounds[2]
    dropped = dataclasses.replace(second, payouts=second.payouts[:-1])
    assert settled_key(dropped) != key
    edited = History.of(e for e in history.events if e is not second.payouts[-1])
    again = chain_state(AuditContext(context.source, edited, context.store), settled)
    assert not again.ok and all("planted" not in p for p in again.problems), again.problems


def test_known_signature_findings_are_reused_and_only_for_the_same_registrations(run: Run) -> None:
    first = run.audit()
    findings = first.signatures()
    assert findings and all(f.valid for f in findings.values())
    planted = {k: SignatureFinding(f.signature, f.signer, "planted") for k, f in findings.items()}
    reused = AuditContext.load(ScanSource(run.consortium), run.store, planted)
    assert not signatures(reused).ok and len(signatures(reused).problems) == len(findings)
    # A finding for another registration is not taken for this one.
    other = {(tx, index + 1000): f for (tx, index), f in planted.items()}
    judged = AuditContext.load(ScanSource(run.consortium), run.store, other)
    assert signatures(judged).ok


def test_recomputing_round_by_round_in_one_pass_finds_what_the_whole_check_finds(run: Run) -> None:
    context = run.audit()
    per_round = recompute_rounds(context)
    assert sorted(per_round) == sorted(context.history.rounds)
    whole = recompute(context)
    assert whole.ok and whole.problems == tuple(p for n in sorted(per_round) for p in per_round[n])


def test_a_snapshot_built_on_the_last_ones_caches_is_the_one_built_without(run: Run) -> None:
    caches = Caches()
    block = run.consortium.client.block_number()
    first = take_snapshot(run.audit(), block, caches)
    again = take_snapshot(
        AuditContext.load(ScanSource(run.consortium), run.store, caches.signatures), block, caches
    )
    alone = take_snapshot(run.audit(), block, Caches())
    assert caches.settled and caches.signatures and caches.recompute.problems
    for snapshot in (first, again):
        assert snapshot.report.checks == alone.report.checks
        assert snapshot.rendered.rounds == alone.rendered.rounds
        assert snapshot.rendered.checks == alone.rendered.checks
