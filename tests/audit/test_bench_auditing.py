"""The audit benchmark's measuring function on a tiny generated history: every number it reports
comes from a clean audit that agrees across the index and the naive rescan."""

from __future__ import annotations

from pathlib import Path

from bcfl.chain.client import ChainClient
from benchmarks.auditing import measure_audit
from benchmarks.history import add_rounds, start_history
from tests.conftest import Actors

ROUNDS, HOSPITALS = 3, 4


def test_the_audit_benchmark_measures_a_clean_audit_of_every_round(
    tmp_path: Path, client: ChainClient, actors: Actors
) -> None:
    history = start_history(client, actors.admin, actors.coordinator, tmp_path / "run", hospitals=HOSPITALS)
    add_rounds(history, actors.coordinator, ROUNDS)
    steps: list[str] = []
    result = measure_audit(client, history, tmp_path / "work", repeats=1, progress=steps.append)
    assert (result.rounds, result.hospitals) == (ROUNDS, HOSPITALS)
    assert result.verdict.startswith("clean") and "not run" not in result.verdict, result.verdict
    assert result.recompute_ok and result.recomputed_rounds == ROUNDS
    assert result.lineage_depth == ROUNDS and result.verify_ok
    assert result.signatures == ROUNDS * HOSPITALS
    names = [name for name, _ in result.parts]
    assert {"signatures", "recompute", "evaluations", "views", "report.html"} <= set(names)
    assert len(names) == len(set(names))
    for run in (result.from_empty, result.up_to_date, result.rescan):
        assert min(run.load_s, run.build_s, run.write_s) > 0
        assert run.total_s == run.sync_s + run.load_s + run.build_s + run.write_s
    assert result.from_empty.sync_s > 0 and result.up_to_date.sync_s > 0
    assert result.events > 0 and result.html_bytes > 0
    assert min(result.verify_s, result.verify_with_load_s, result.recompute_s) > 0
    assert steps and all(steps)
    assert (tmp_path / "work" / "report" / "report.html").is_file()
