"""The ``bcfl audit`` commands on a real run, from a fresh process in a fresh directory holding only
the manifest (and a copy of the store); each check made to fail and named, with a non-zero exit."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

from prov.model import ProvDocument
from typer.testing import CliRunner

from bcfl.chain.consortium import Consortium
from bcfl.chain.deploy import deploy_consortium
from bcfl.cli.main import app
from tests.audit.runs import Run
from tests.conftest import Actors

#: The installed command, as an auditor runs it.
BCFL = str(Path(sys.executable).parent / "bcfl")


def audit(run: Run, cwd: Path, *args: str, fresh: bool = False) -> subprocess.CompletedProcess[str]:
    """``bcfl audit ARGS`` on ``cwd``'s copies of the manifest and the store: in this process, or
    (``fresh``) in a fresh process whose working directory is ``cwd``."""
    manifest = cwd / "deployment.json"
    if not manifest.exists():
        run.consortium.manifest.save(manifest)
        shutil.copytree(run.run_dir / "models", cwd / "models")
    rpc = run.consortium.client.rpc_url
    if fresh:
        return subprocess.run(
            [BCFL, "audit", *args, "--manifest", "deployment.json", "--rpc-url", rpc, "--store", "models",
             "--index", "index.sqlite"],
            cwd=cwd, capture_output=True, text=True, timeout=120, env={**os.environ, "COLUMNS": "80"},
        )  # fmt: skip
    argv = ["audit", *args, "--manifest", str(manifest), "--rpc-url", rpc, "--store", str(cwd / "models"),
            "--index", str(cwd / "index.sqlite")]  # fmt: skip
    result = CliRunner().invoke(app, argv, env={"COLUMNS": "80"})
    return subprocess.CompletedProcess(argv, result.exit_code, result.stdout, result.stderr)


def test_the_report_from_a_fresh_directory_is_clean(run: Run, tmp_path: Path) -> None:
    done = audit(run, tmp_path, "report", "--format", "json", "--out", "filed", fresh=True)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["clean"] and report["verdict"] == "clean: all 11 checks passed"
    # The files to file: the same report as JSON, a page with its verdict, the lineage as PROV-JSON.
    filed = tmp_path / "filed"
    assert json.loads((filed / "report.json").read_text()) == report
    assert report["verdict"] in (filed / "report.html").read_text()
    lineage = ProvDocument.deserialize(content=(filed / "provenance.json").read_text(), format="json")
    rounds = [r for r in lineage.get_records() if r.get_type().localpart == "Activity"]
    assert len(rounds) == len(report["rounds"])
    table = audit(run, tmp_path, "round", "2")
    assert table.returncode == 0, table.stderr
    assert all(len(line) <= 80 for line in table.stdout.splitlines()), table.stdout
    assert "…" not in table.stdout and report["rounds"][1]["global_model_hash"] in table.stdout
    # The run trained without differential privacy, under no budget: each update's ε is "∞ (no DP)".
    updates = table.stdout[table.stdout.index("Updates") :]
    assert updates.count("∞ (no DP)") == len(report["rounds"][1]["updates"]) > 0, updates
    shown = audit(run, tmp_path, "member", "1")
    assert shown.returncode == 0, shown.stderr
    privacy = shown.stdout[shown.stdout.index("Differential privacy") : shown.stdout.index("Membership")]
    assert "∞ (no DP)" in privacy and "no bound" in privacy, privacy
    member = audit(run, tmp_path, "member", "1", "--format", "csv")
    assert member.returncode == 0 and member.stdout.splitlines()[0].startswith("member_id,round,update_hash")


def test_verify_model_prints_the_lineage_and_an_unregistered_model_fails(run: Run, tmp_path: Path) -> None:
    report = json.loads(audit(run, tmp_path, "report", "--format", "json").stdout)
    last = report["rounds"][-1]["aggregated_model_hash"]
    done = audit(run, tmp_path, "verify-model", str(tmp_path / "models" / f"{last}.bcfl"), "--format", "json")
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert [r["round"] for r in found["rounds"]] == [3, 2, 1]
    assert found["locations"][0]["role"] == "aggregated" and found["lineage_start"]["lineage"] == 1
    unknown = audit(run, tmp_path, "verify-model", "0x" + "ab" * 32)
    assert unknown.returncode == 2 and "never registered" in unknown.stderr
    (tmp_path / "notes.txt").write_text("not a model")
    bad = audit(run, tmp_path, "verify-model", str(tmp_path / "notes.txt"))
    assert bad.returncode == 1 and "is not a model file" in bad.stderr and "Traceback" not in bad.stderr


def test_a_modified_and_a_missing_store_file_are_named(run: Run, tmp_path: Path) -> None:
    report = json.loads(audit(run, tmp_path, "report", "--format", "json").stdout)
    update = report["rounds"][0]["updates"][0]["update_hash"]
    aggregated = report["rounds"][1]["aggregated_model_hash"]
    altered = tmp_path / "models" / f"{update}.bcfl"
    altered.write_bytes(altered.read_bytes()[:-4] + b"\0\0\0\1")
    (tmp_path / "models" / f"{aggregated}.bcfl").unlink()
    done = audit(run, tmp_path, "report")
    assert done.returncode == 2
    assert f"check failed: store-files: {update}.bcfl: the file does not hash to its name" in done.stderr
    assert "check failed: recompute" in done.stderr
    full = json.loads(audit(run, tmp_path, "report", "--format", "json").stdout)
    (store_files,) = [c for c in full["checks"] if c["name"] == "store-files"]
    assert f"round 2's aggregated model {aggregated}: missing from the store" in store_files["problems"]


def test_bad_input_is_one_line(run: Run, tmp_path: Path) -> None:
    unknown = audit(run, tmp_path, "round", "99")
    assert unknown.returncode == 1 and "round 99 was never opened" in unknown.stderr
    assert audit(run, tmp_path, "member", "42").returncode == 1
    manifest = json.loads((tmp_path / "deployment.json").read_text())
    manifest["chain_id"] = 1
    (tmp_path / "deployment.json").write_text(json.dumps(manifest))
    wrong = audit(run, tmp_path, "report")
    assert wrong.returncode == 1 and "chain id" in wrong.stderr and len(wrong.stderr.splitlines()) == 1
    (tmp_path / "deployment.json").unlink()
    run.consortium.manifest.save(tmp_path / "deployment.json")
    down = subprocess.run(
        [BCFL, "audit", "report", "--manifest", "deployment.json",
         "--rpc-url", "http://127.0.0.1:9"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert down.returncode == 1 and "Traceback" not in down.stderr
    assert down.stderr.splitlines()[-1].startswith("error: the chain at http://127.0.0.1:9 did not answer")


def test_an_event_from_outside_the_manifest_is_named(
    run: Run, consortium: Consortium, actors: Actors, tmp_path: Path
) -> None:
    other = deploy_consortium(consortium.client, actors.admin, coordinator=actors.coordinator.address)
    done = audit(run, tmp_path, "report", "--format", "json")
    assert done.returncode == 2
    assert "check failed: manifest-addresses:" in done.stderr
    (check,) = [c for c in json.loads(done.stdout)["checks"] if c["name"] == "manifest-addresses"]
    # Other tests on this chain may deploy impostors too: this one's ledger (whose constructor emits
    # ReputationParametersSet) must be among those named.
    impostor = f"from {other.address('ReputationLedger')}, outside the manifest"
    assert any(impostor in problem for problem in check["problems"])


def test_an_edited_event_index_is_named_by_the_chain_state_check(run: Run, tmp_path: Path) -> None:
    """The index is not evidence: rows deleted from it (round 2's payouts) would make round 2 look
    unpaid, but the contracts' own records say otherwise."""
    assert audit(run, tmp_path, "report").returncode == 0
    index = tmp_path / "index.sqlite"
    with sqlite3.connect(index) as db:
        deleted = db.execute(
            "DELETE FROM events WHERE round = 2 AND name IN ('RoundPaid', 'RewardPaid')"
        ).rowcount
    assert deleted == 4  # RoundPaid and three RewardPaid
    done = audit(run, tmp_path, "report", "--format", "json")
    assert done.returncode == 2, done.stderr
    (check,) = [c for c in json.loads(done.stdout)["checks"] if not c["ok"]]
    assert check["name"] == "chain-state"
    assert any(
        p.startswith("round 2: paid ") and p.endswith("unpaid 0 by the events") for p in check["problems"]
    )
    assert any(p.startswith("the token's total supply is ") for p in check["problems"])
