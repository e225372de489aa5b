"""The soak's section of docs/reliability.md (scripts/soak.py): its figures as measured, and a
problem shown, not hidden."""

from __future__ import annotations

from benchmarks.soak import Kill, SoakResult
from scripts.soak import render


def _result(**changes: object) -> SoakResult:
    kills = [
        Kill("coordinator", "ServerApp (pid 7)", 4, 30.0, 12.5),
        Kill("coordinator", "ServerApp (pid 9)", 9, 80.0, 20.5),
        Kill("supernode", "hungary", 13, 120.0, 41.0),
    ]
    result = SoakResult(rounds=20, hospitals=4, seconds=600.0, kills=kills)
    result.twice = {"finalized": [], "paid": []}
    for key, value in changes.items():
        setattr(result, key, value)
    return result


def test_the_section_states_each_figure() -> None:
    section = render(
        _result(missed=3), {"verdict": "clean: all 10 checks passed"}, "2026-12-04 16:00 UTC", 0.5
    )
    assert "| rounds finalized | 20 in 10.0 min |" in section
    assert (
        "| coordinator kills, kill to that round finalized | 2 kills; median 16.5 s, longest 20.5 s |"
        in section
    )
    assert (
        "| SuperNode kills, kill to that round finalized | 1 kills; median 41.0 s, longest 41.0 s |"
        in section
    )
    assert "| rounds or (round, member) recorded twice | none |" in section
    assert "| hospital-rounds missed (a hospital's update not in a round) | 3 |" in section
    assert "clean: all 10 checks passed" in section and "load average 0.50" in section


def test_a_round_recorded_twice_is_named() -> None:
    result = _result(twice={"paid": [(4, 2)]}, unpaid=[5, 7, 8, 9])
    section = render(result, {"verdict": "2 checks failed"}, "d", 0.1)
    assert "{'paid': [(4, 2)]}" in section
    assert "| rounds finalized but not paid, after that | 4 rounds: 5, 7-9 |" in section
    assert "2 checks failed" in section
