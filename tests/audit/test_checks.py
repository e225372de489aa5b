"""The audit's checks on a real run: clean on an honest history, and each made to fail and named."""

from __future__ import annotations

from bcfl.audit.report import build_report
from tests.audit.runs import Run


def test_an_honest_run_audits_clean(run: Run) -> None:
    report = build_report(run.audit())
    assert [c.name for c in report.checks] == [
        "signatures", "one-update-per-member", "lineage", "payouts", "reputation-replay",
        "manifest-addresses", "store-files", "recompute", "evaluations",
    ]  # fmt: skip
    assert report.clean, [c.problems for c in report.checks if not c.ok]
    assert report.verdict == "clean: all 9 checks passed" and report.not_run == ()
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
    assert without.clean and len(without.checks) == 6
    assert without.not_run == tuple(
        f"{n}: no model store given" for n in ("store-files", "recompute", "evaluations")
    )
