"""A run's checksum manifest (bcfl.audit.record, ``bcfl audit record``) on a small run directory:
clean when untouched, each changed, missing or extra file named, and verifying never writes."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bcfl.audit.record import RECORD_FILE, RecordError, read_record, verify_record, write_record
from bcfl.cli.main import app


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    run = tmp_path / "run"
    for name, text in {
        "chain/state.json": '{"block": {}, "accounts": {}}',
        "deployment.json": '{"chain_id": 31337}',
        "rounds.json": "[]",
        "models/ab/abcd.pt": "model one",
        "models/cd/cdef.pt": "model two",
        "hospitals/cleveland/proofs/round-1.json": "{}",
        "hospitals/cleveland/keystore.json": "not part of the record",
        "summary.json": "{}",
        "logs/superlink.log": "log lines",
    }.items():
        (run / name).parent.mkdir(parents=True, exist_ok=True)
        (run / name).write_text(text)
    write_record(run)
    return run


def test_the_manifest_lists_the_record_in_sha256sum_format(run_dir: Path) -> None:
    assert sorted(read_record(run_dir)) == [
        "chain/state.json",
        "deployment.json",
        "hospitals/cleveland/proofs/round-1.json",
        "models/ab/abcd.pt",
        "models/cd/cdef.pt",
        "rounds.json",
    ]
    checked = subprocess.run(
        ["sha256sum", "-c", RECORD_FILE], cwd=run_dir, capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0 and checked.stdout.count(": OK") == 6
    check = verify_record(run_dir)
    assert check.ok and check.name == "record-checksums" and check.problems == ()


def test_each_changed_missing_or_extra_file_is_named(run_dir: Path) -> None:
    (run_dir / "models/ab/abcd.pt").write_text("model one, altered")
    (run_dir / "rounds.json").unlink()
    (run_dir / "models/ef").mkdir()
    (run_dir / "models/ef/efgh.pt").write_text("slipped in")
    (run_dir / "logs/superlink.log").write_text("logs are not evidence")
    before = (run_dir / RECORD_FILE).read_bytes()
    check = verify_record(run_dir)
    assert not check.ok
    assert check.problems == (
        "changed: models/ab/abcd.pt (its SHA-256 differs from record.sha256)",
        "extra: models/ef/efgh.pt (not listed in record.sha256)",
        "missing: rounds.json (listed in record.sha256)",
    )
    assert (run_dir / RECORD_FILE).read_bytes() == before


def test_the_command_exits_1_and_names_the_file(run_dir: Path) -> None:
    clean = CliRunner().invoke(app, ["audit", "record", str(run_dir)])
    assert clean.exit_code == 0 and "all 6 files match record.sha256" in clean.output
    (run_dir / "deployment.json").write_text('{"chain_id": 1}')
    table = CliRunner().invoke(app, ["audit", "record", str(run_dir)])
    assert table.exit_code == 2 and "deployment.json" in table.output and "CHANGED" in table.output
    as_json = CliRunner().invoke(app, ["audit", "record", str(run_dir), "--format", "json"])
    data = json.loads(as_json.stdout)
    assert as_json.exit_code == 2 and data["check"]["problems"] == [
        "changed: deployment.json (its SHA-256 differs from record.sha256)"
    ]
    as_csv = CliRunner().invoke(app, ["audit", "record", str(run_dir), "--format", "csv"])
    assert as_csv.exit_code == 2
    assert as_csv.stdout.splitlines()[0] == "file,status" and "deployment.json,changed" in as_csv.stdout


def test_no_run_or_no_manifest_is_refused_in_one_line(run_dir: Path, tmp_path: Path) -> None:
    missing = CliRunner().invoke(app, ["audit", "record", str(tmp_path / "nowhere")])
    assert missing.exit_code == 1 and "no run directory at" in missing.output
    assert len(missing.output.strip().splitlines()) == 1
    (run_dir / RECORD_FILE).unlink()
    unrecorded = CliRunner().invoke(app, ["audit", "record", str(run_dir)])
    assert unrecorded.exit_code == 1 and f"no {RECORD_FILE} in" in unrecorded.output
    assert len(unrecorded.output.strip().splitlines()) == 1
    assert not (run_dir / RECORD_FILE).exists()


@pytest.mark.parametrize("line", ["not a checksum", f"{'0' * 64}  ../../etc/passwd", f"{'0' * 64} x"])
def test_a_damaged_manifest_is_refused(run_dir: Path, line: str) -> None:
    (run_dir / RECORD_FILE).write_text(line + "\n")
    with pytest.raises(RecordError, match="line 1 is not"):
        verify_record(run_dir)
