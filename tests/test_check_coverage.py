"""scripts/check_coverage.py on small lcov reports: full coverage passes, a missed line or branch fails."""

from __future__ import annotations

from pathlib import Path

import pytest

from scripts.check_coverage import main, parse_lcov

FULL = """TN:
SF:src/A.sol
DA:3,2
DA:4,1
BRDA:4,0,0,1
end_of_record
TN:
SF:test/ATest.t.sol
DA:9,0
BRDA:9,0,0,-
end_of_record
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "lcov.info"
    path.write_text(text)
    return path


def test_parse_counts_only_source_files() -> None:
    files = parse_lcov(FULL, "src/")
    assert list(files) == ["src/A.sol"]
    cov = files["src/A.sol"]
    assert (cov.lines, cov.lines_hit, cov.branches, cov.branches_hit) == (2, 2, 1, 1)


def test_full_coverage_passes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(_write(tmp_path, FULL))]) == 0
    assert "lines 2/2 (100.00%), branches 1/1 (100.00%)" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ("DA:7,0", "src/A.sol: lines 2/3, missed lines [7]"),
        ("BRDA:8,1,0,-", "src/A.sol: branches 1/2, missed on lines [8]"),
        ("BRDA:8,1,0,0", "src/A.sol: branches 1/2, missed on lines [8]"),
    ],
)
def test_a_miss_fails_and_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], record: str, message: str
) -> None:
    text = FULL.replace("BRDA:4,0,0,1\n", f"BRDA:4,0,0,1\n{record}\n", 1)
    assert main([str(_write(tmp_path, text))]) == 1
    assert message in capsys.readouterr().out


def test_lower_minimum_accepts_a_miss(tmp_path: Path) -> None:
    text = FULL.replace("DA:4,1", "DA:4,1\nDA:5,0", 1)
    assert main([str(_write(tmp_path, text)), "--minimum", "60"]) == 0


def test_missing_report_or_sources_fail(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(tmp_path / "absent.info")]) == 1
    assert "no report" in capsys.readouterr().out
    assert main([str(_write(tmp_path, FULL)), "--source", "lib/"]) == 1
    assert "no file under lib/" in capsys.readouterr().out
