"""The audit's checks on a real run: clean on an honest history, and each made to fail and named."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bcfl.audit import store_checks
from bcfl.audit.context import AuditContext
from bcfl.audit.report import build_report
from bcfl.audit.source import ScanSource
from bcfl.audit.store_checks import recompute
from bcfl.chain.consortium import Consortium
from bcfl.models.store import ModelStore
from coordinator.scoring import DEFAULT_RULE, LEGACY_RULE
from tests.audit.runs import Run, evaluations, honest_run, trained_round
from tests.conftest import Actors
from tests.coordinator.test_round_service import GLOBAL, service_in


def test_an_honest_run_audits_clean(run: Run) -> None:
    report = build_report(run.audit())
    assert [c.name for c in report.checks] == [
        "signatures", "one-update-per-member", "lineage", "payouts", "reputation-replay", "chain-state",
        "manifest-addresses", "privacy-budget", "store-files", "recompute", "evaluations",
    ]  # fmt: skip
    assert report.clean, [c.problems for c in report.checks if not c.ok]
    assert report.verdict == "clean: all 11 checks passed" and report.not_run == ()
    assert [r.round for r in report.rounds] == [1, 2, 3]
    assert all(r.status == "paid" and len(r.updates) == 3 for r in report.rounds)
    assert all(u.signature_valid for r in report.rounds for u in r.updates)
    assert all(
        len(r.evaluations) == 3 and all(e.signature_valid for e in r.evaluations) for r in report.rounds
    )
    assert report.rounds[1].global_model_hash == report.rounds[0].aggregated_model_hash
    assert report.rounds[0].config is not None and report.rounds[0].config["learning"]["seed"] == 0
    paid = {p.member_id: int(p.amount) for p in report.rounds[0].payouts}
    assert sorted(paid) == run.members and sum(paid.values()) == int(report.rounds[0].total_paid or 0)
    without = build_report(run.audit(with_store=False))
    assert without.clean and len(without.checks) == 8
    # Trained without differential privacy under no budget: each member's ε is unbounded, nothing capped.
    assert report.privacy_budget is not None and report.privacy_budget.text == "no bound"
    assert all(u.epsilon is None for r in report.rounds for u in r.updates)
    assert all(m.privacy[0].epsilon_spent is None and m.privacy[0].updates == 3 for m in report.members)
    assert without.not_run == tuple(
        f"{n}: no model store given" for n in ("store-files", "recompute", "evaluations")
    )


def test_a_forged_evaluation_in_the_metrics_record_is_named(
    consortium: Consortium, actors: Actors, members: list[int], tmp_path: Path
) -> None:
    service = service_in(consortium, actors, tmp_path)
    state = trained_round(service, actors, members, 1, GLOBAL)
    document = evaluations(service, state, actors, members)
    forged = document["per_member"][f"member {members[1]}"]
    forged["metrics"] = {**forged["metrics"], "accuracy": 0.99}  # the coordinator improved its number
    service.close(state, document)
    report = build_report(AuditContext.load(ScanSource(consortium), ModelStore(tmp_path / "models")))
    failed = {c.name: c.problems for c in report.checks if not c.ok}
    assert list(failed) == ["evaluations"]
    (problem,) = failed["evaluations"]
    assert problem.startswith(
        f"round {state.chain_round}: evaluation of member {members[1]}: the signature recovers to"
    )


def test_recompute_reads_each_stored_model_once(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each round scores against its previous round's updates: recompute keeps them, not rereads them."""
    reads: list[bytes] = []
    get = ModelStore.get

    def counted(store: ModelStore, digest: bytes) -> dict[str, np.ndarray]:
        reads.append(digest)
        return get(store, digest)

    monkeypatch.setattr(ModelStore, "get", counted)
    context = run.audit()
    assert recompute(context).ok
    history = context.history
    needed = {
        bytes.fromhex(h.removeprefix("0x"))
        for r in history.rounds.values()
        for h in (r.global_hash, *(str(e.args["updateHash"]) for e in r.updates))
    }
    assert len(history.rounds) == 3 and set(reads) == needed
    assert len(reads) == len(needed)  # none read twice


def test_each_round_recomputes_with_the_scoring_rule_it_was_scored_with(
    consortium: Consortium,
    actors: Actors,
    members: list[int],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Rounds scored before version 2 (their config documents name no rule) recompute with version 1,
    later ones with the rule their document names: a coordinator upgraded between rounds 2 and 3
    leaves a history that audits clean, and an audit that scored every round with version 2 would
    name the old rounds."""
    run = honest_run(consortium, actors, members, tmp_path / "run", rules={1: LEGACY_RULE, 2: LEGACY_RULE})
    documents = [run.store.get_document(consortium.ledger.get_round(n).config_hash) for n in (1, 2, 3)]
    assert ["scoring" in d for d in documents] == [False, False, True]
    assert documents[2]["scoring"] == DEFAULT_RULE.to_document()
    assert recompute(run.audit()).ok
    monkeypatch.setattr(store_checks, "scoring_of", lambda _entry: DEFAULT_RULE)
    wrong = recompute(run.audit())
    assert not wrong.ok and all(p.startswith("round 2 member") for p in wrong.problems), wrong.problems


def test_a_coordinator_going_back_to_the_old_scoring_rule_is_named(
    consortium: Consortium, actors: Actors, members: list[int], tmp_path: Path
) -> None:
    """Version 1 scores DP hospitals' updates down (docs/contribution.md): a coordinator that scores
    a round with it after a round with version 2 is named, though that round recomputes."""
    run = honest_run(consortium, actors, members, tmp_path / "run", rules={3: LEGACY_RULE})
    done = recompute(run.audit())
    assert done.problems == (
        "round 3: its config document names no scoring rule (version 1), though round 1 was scored "
        "with version 2: the coordinator went back to the old rule",
    )
