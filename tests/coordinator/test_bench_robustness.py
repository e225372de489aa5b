"""The robustness benchmark's goal arithmetic (scripts/bench_robustness.py)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from benchmarks.robustness import Outcome


def _bench() -> ModuleType:
    path = Path(__file__).resolve().parents[2] / "scripts" / "bench_robustness.py"
    spec = importlib.util.spec_from_file_location("bench_robustness", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


def test_the_accuracy_goal_can_be_measured_against_the_honest_only_run() -> None:
    bench = _bench()
    cell = bench.Cell(accuracy_drop=3.0, excluded_after=1, share=0.0, honest_only_drop=0.5)
    assert not cell.met()
    assert cell.met(against_honest_only=True)
    late = bench.Cell(accuracy_drop=0.0, excluded_after=4, share=0.0, honest_only_drop=0.0)
    assert not late.met(against_honest_only=True)


def test_cells_compare_the_last_round_with_both_references() -> None:
    bench = _bench()
    clean = Outcome(accuracy=[0.7, 0.84])
    honest_only = Outcome(accuracy=[0.7, 0.81])
    attacked = Outcome(
        accuracy=[0.6, 0.80],
        aggregated=[["a", "b"], ["b"]],
        paid={"a": 10, "b": 190},
    )
    cell = bench._cell(clean, honest_only, attacked, ["a"], "sign-flip")
    assert round(cell.accuracy_drop, 6) == 4.0
    assert round(cell.honest_only_drop, 6) == 1.0
    assert cell.excluded_after == 1
    assert cell.share == 0.05


def test_false_exclusions_count_hospitals_left_out_of_any_round() -> None:
    bench = _bench()
    clean = Outcome(aggregated=[["a", "b", "c"], ["a", "c"], ["a", "b", "c"]], paid=dict.fromkeys("abcd", 0))
    # b missed round 2; d (paid nothing, never aggregated) missed every round.
    assert bench._honest_excluded(clean) == 2
