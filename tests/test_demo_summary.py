"""The demo's closing summary is ``bcfl audit report``'s rendering of the run: whole in an
80-column terminal (no name, amount or hash cut short), ending with the verdict, the checks and
how to print it again."""

from __future__ import annotations

from typing import Any

from rich.console import Console

from bcfl.cli.demo_summary import print_summary
from tests.audit.report_fixture import TOKEN, sample_report

LONG_NAME = "the_university_hospital_of_somewhere_far"
REASON = "update signed by a key that is not an active member's"


def demo_summary() -> dict[str, Any]:
    report = sample_report()
    first = report.members[0].model_copy(update={"name": LONG_NAME, "balance": str(1_234_567 * TOKEN)})
    report = report.model_copy(update={"members": (first, *report.members[1:])})
    return {
        **report.model_dump(mode="json"),
        "verdict": report.verdict,
        "clean": report.clean,
        "run_dir": "runs/20250101-000000",
        "rpc_url": "http://127.0.0.1:8545",
        "index": "runs/20250101-000000/index.sqlite",
        "rejected": [
            {"round": 2, "node_id": 99, "reason": "update signed by a key that is not an active member's"}
        ],
    }


def test_the_summary_is_readable_at_80_columns() -> None:
    summary = demo_summary()
    console = Console(width=80, record=True, color_system=None)
    print_summary(summary, console)
    text = console.export_text()
    assert max(len(line) for line in text.splitlines()) <= 80, text
    assert "…" not in text
    joined = " ".join(text.split())
    # Each round's starting model and its aggregate, whole and each under its own label.
    for r in summary["rounds"]:
        assert f"global {r['global_model_hash']}" in joined
        assert f"aggregated {r['aggregated_model_hash']}" in joined
    # The evaluation of each round's aggregated model, from the report's aggregate metrics.
    assert "0.710" in text and "0.780" in text
    # Names whole (a long one wrapped, not cut), amounts in whole tokens with decimals.
    members = text[text.index("Members") : text.index("Checks")]
    first_cells = "".join(line.split("│")[1].strip() for line in members.splitlines() if line.startswith("│"))
    assert first_cells.startswith(f"1{LONG_NAME}2")
    for amount in ("1,000.00", "333.33", "1,234,567.00", "paid in BCFL", "amounts in BCFL"):
        assert amount in text
    assert "verdict: clean: all 2 checks passed" in text and "update-signatures" in text
    assert f"round 2: node 99 rejected: {REASON}" in joined
    assert (
        "bcfl audit report --manifest runs/20250101-000000/deployment.json "
        "--store runs/20250101-000000/models --index runs/20250101-000000/index.sqlite "
        "--rpc-url http://127.0.0.1:8545" in joined
    )
    assert "bcfl chain start --load-state runs/20250101-000000/chain/state.json" in joined
    assert "leave --rpc-url out" in joined


def test_the_summary_shows_each_hospitals_privacy_budget_used_and_left() -> None:
    summary = demo_summary()
    summary["privacy_budget"] = {"epsilon": 8.0, "delta": 1e-5, "text": "ε ≤ 8 at δ ≤ 1e-05"}
    spends = {
        1: [{"lineage": 1, "updates": 2, "epsilon_spent": 3.998382, "epsilon_left": 4.001618}],
        2: [{"lineage": 1, "updates": 1, "epsilon_spent": None, "epsilon_left": 0.0}],
        3: [],
    }
    for member in summary["members"]:
        member["privacy"] = spends[member["member_id"]]
    console = Console(width=80, record=True, color_system=None)
    print_summary(summary, console)
    text = console.export_text()
    assert max(len(line) for line in text.splitlines()) <= 80, text
    privacy = text[text.index("Differential privacy, budget ε ≤ 8 at δ ≤ 1e-05") : text.index("Checks")]
    cells = [[cell.strip() for cell in line.split("│")[2:-1]] for line in privacy.splitlines() if "│" in line]
    rows = [row for row in cells if row[0]]  # a long name folds onto rows of its own
    # A row per member and lineage it trained in (member 3 has none); "∞ (no DP)" for an update
    # trained without differential privacy, which leaves nothing of the budget.
    assert rows == [["1", "2", "3.998", "4.002"], ["1", "1", "∞ (no DP)", "0"]], privacy
