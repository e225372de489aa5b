"""``bcfl demo`` end to end: the whole local consortium, a summary, an auditable run directory."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from bcfl.chain.anvil import AnvilNode
from bcfl.cli import demo as demo_command
from bcfl.cli.main import app
from bcfl.demo.consortia import HEART
from bcfl.demo.federation import FederationRun
from bcfl.models.store import ModelStore

#: The installed command, as an auditor runs it.
BCFL = str(Path(sys.executable).parent / "bcfl")


@pytest.fixture(autouse=True)
def free_ports(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any free ports instead of .env's 8545, 9092 and 8600: other test sessions may run beside this one."""
    monkeypatch.setenv("BCFL_CHAIN_PORT", "0")
    monkeypatch.setenv("BCFL_SUPERLINK_PORT", "0")
    monkeypatch.setenv("BCFL_DASHBOARD_PORT", "0")


def test_demo_trains_and_leaves_an_auditable_run_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs = tmp_path / "runs"
    args = ["demo", "--rounds", "2", "--hospitals", "cleveland,hungary", "--runs-dir", str(runs)]
    dashboard = watch_dashboard(monkeypatch)
    result = CliRunner().invoke(app, args, env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    assert_dashboard_served_the_run(result.output, dashboard, rounds=2)
    # The closing summary is the audit's report of the run, whole in an 80-column terminal.
    assert "PUBLIC dev keys" in result.output and "verdict: clean: all 11 checks passed" in result.output
    assert "Flower over TLS" in result.output and "only registered node keys are admitted" in result.output
    closing = result.stdout[result.stdout.index("Audit of rounds 1 to 2") :]
    assert "Differential privacy, budget ε ≤ 8 at δ ≤ 1e-05" in closing, closing
    assert all(len(line) <= 80 for line in closing.splitlines()) and "…" not in closing, closing
    run_dir = (runs / "latest").resolve()
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["clean"] and summary["run_dir"] == str(run_dir)
    round_1, round_2 = summary["rounds"]
    assert round_2["global_model_hash"] == round_1["aggregated_model_hash"]  # the lineage goes on
    for record in (round_1, round_2):
        assert record["status"] == "paid" and record["aggregate_metrics"]["accuracy"] > 0.5
        assert sorted(u["member_name"] for u in record["updates"]) == ["cleveland", "hungary"]
        assert all(u["signature_valid"] for u in record["updates"]) and not record["excluded"]
        # Both honest hospitals were scored and aggregated, and each one that scored above 0 paid: in
        # round 1 both (no previous update to be consistent with); in round 2 an honest hospital can
        # score 0 under DP, whose noise puts the consistency factor near its noise level (seen in CI:
        # cosine -0.019; docs/contribution.md), and so is not paid for that round.
        assert len(record["scores"]) == len(record["participants"]) == 2
        scored = {s["member_id"] for s in record["scores"] if s["contribution"] > 0}
        assert {p["member_id"] for p in record["payouts"]} == scored and scored
        assert all(int(p["amount"]) > 0 for p in record["payouts"])
        assert sum(int(p["amount"]) for p in record["payouts"]) <= HEART.deployment_parameters().round_budget
    assert len(round_1["payouts"]) == 2
    assert {m["name"]: m["balance"] for m in summary["members"]} == {
        m["name"]: m["paid_total"] for m in summary["members"]
    }
    # The demo trains with differential privacy under the budget it deployed: every update declares
    # the ε it spent, and each hospital's total and what is left are the ledger's (docs/privacy.md).
    budget, run_epsilon = HEART.privacy_budget, HEART.dp_epsilon
    assert budget is not None and run_epsilon is not None
    assert summary["privacy_budget"]["epsilon"] == budget
    assert all(0 < u["epsilon"] <= run_epsilon for r in summary["rounds"] for u in r["updates"])
    for member in summary["members"]:
        (lineage,) = member["privacy"]
        spent = sum(
            u["epsilon"]
            for r in summary["rounds"]
            for u in r["updates"]
            if u["member_id"] == member["member_id"]
        )
        assert lineage["epsilon_spent"] == pytest.approx(spent, abs=1e-6) and spent <= run_epsilon + 1e-6
        assert lineage["epsilon_left"] == pytest.approx(budget - spent, abs=1e-6)
    # ... at its private runs' learning rate, which every round's config document on chain names.
    store = ModelStore(run_dir / "models")
    for record in summary["rounds"]:
        learning = store.get_document(bytes.fromhex(record["config_hash"][2:]))["learning"]
        assert learning["learning-rate"] == HEART.dp_learning_rate
    assert sorted(h["name"] for h in summary["hospitals"]) == ["cleveland", "hungary"]
    assert (run_dir / "models").is_dir() and (run_dir / "logs" / "superlink.log").exists()
    # The run's record got its checksums once the chain had stopped; they verify clean.
    record = CliRunner().invoke(app, ["audit", "record", str(run_dir)])
    assert record.exit_code == 0 and "files match record.sha256" in record.output, record.output
    listed = (run_dir / "record.sha256").read_text()
    assert "  chain/state.json\n" in listed and "  rounds.json\n" in listed and "  models/" in listed
    # Later, an auditor holding only the manifest and a copy of the store prints the same report
    # from a fresh process, against the saved chain state loaded read-only (the evidence is never
    # written: tests/chain/test_read_only_state.py, so the record stays clean).
    auditor = tmp_path / "auditor"
    auditor.mkdir()
    shutil.copy(run_dir / "deployment.json", auditor / "deployment.json")
    shutil.copytree(run_dir / "models", auditor / "models")
    shutil.copy(run_dir / "index.sqlite", auditor / "index.sqlite")  # the demo's index, brought up to date
    with AnvilNode(load_state=run_dir / "chain" / "state.json", log_path=tmp_path / "audit.log") as node:
        reopened = subprocess.run(
            [BCFL, "audit", "report", "--format", "json", "--manifest", "deployment.json",
             "--store", "models", "--index", "index.sqlite", "--rpc-url", node.rpc_url],
            cwd=auditor, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    assert reopened.returncode == 0, reopened.stderr
    report = json.loads(reopened.stdout)
    assert report["clean"] and report["verdict"] == summary["verdict"]
    assert [len(r["updates"]) for r in report["rounds"]] == [len(r["updates"]) for r in summary["rounds"]]
    assert [r["aggregated_model_hash"] for r in report["rounds"]] == [
        r["aggregated_model_hash"] for r in summary["rounds"]
    ]
    assert CliRunner().invoke(app, ["audit", "record", str(run_dir)]).exit_code == 0
    # A model file altered or the journal deleted (in a copy of the run) is detected and named.
    tampered = tmp_path / "tampered"
    shutil.copytree(run_dir, tampered, symlinks=True)
    model = next(p for p in sorted((tampered / "models").rglob("*")) if p.is_file())
    model.write_bytes(model.read_bytes() + b"\0")
    (tampered / "rounds.json").unlink()
    found = CliRunner().invoke(app, ["audit", "record", str(tampered), "--format", "json"])
    assert found.exit_code == 2, found.output
    assert json.loads(found.stdout)["check"]["problems"] == [
        f"changed: {model.relative_to(tampered).as_posix()} (its SHA-256 differs from record.sha256)",
        "missing: rounds.json (listed in record.sha256)",
    ]
    # Re-running needs no clean-up.
    again = CliRunner().invoke(app, [*args[:5], "--runs-dir", str(runs), "--rounds", "1"])
    assert again.exit_code == 0, again.output
    assert len([p for p in runs.iterdir() if not p.is_symlink()]) == 2


def test_demo_refuses_a_busy_port_with_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        monkeypatch.setenv("BCFL_SUPERLINK_PORT", str(busy.getsockname()[1]))
        result = CliRunner().invoke(app, ["demo", "--runs-dir", str(tmp_path)])
    assert result.exit_code != 0 and "BCFL_SUPERLINK_PORT" in result.output
    assert not (tmp_path / "latest").exists()


def test_demo_rejects_unknown_hospitals(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["demo", "--hospitals", "cleveland,atlantis", "--runs-dir", str(tmp_path)]
    )
    assert result.exit_code != 0 and "atlantis" in result.output


def test_imaging_demo_trains_a_cnn_on_png_jpeg_and_dicom_sites(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    result = CliRunner().invoke(
        app, ["demo", "--consortium", "ihc", "--rounds", "1", "--runs-dir", str(runs)]
    )
    assert result.exit_code == 0, result.output
    run_dir = (runs / "latest").resolve()
    formats = {
        site.name: {p.suffix for p in (site / "images").iterdir()} - {".csv"}
        for site in (run_dir / "hospitals").iterdir()
    }
    assert formats == {"riverside": {".png"}, "hillcrest": {".jpg"}, "lakeside": {".dcm"}}
    rounds = json.loads((run_dir / "summary.json").read_text())["rounds"]
    assert len(rounds) == 1  # one round is enough to learn the task (the accuracy check below)
    for record in rounds:
        assert sorted(u["member_name"] for u in record["updates"]) == ["hillcrest", "lakeside", "riverside"]
        assert all(u["signature_valid"] for u in record["updates"])
    last = rounds[-1]
    # The global model is the schema's CNN, stored under the hash the ledger finalized.
    model = ModelStore(run_dir / "models").get(bytes.fromhex(last["aggregated_model_hash"][2:]))
    assert model["features.0.weight"].shape == (16, 3, 3, 3)
    # It learned: better than always answering the commonest class of all sites' labels.
    labels = [
        line.rsplit(",", 1)[1]
        for site in (run_dir / "hospitals").iterdir()
        for line in (site / "images" / "labels.csv").read_text().splitlines()[1:]
    ]
    majority = max(labels.count(c) for c in set(labels)) / len(labels)
    accuracy = last["aggregate_metrics"]["accuracy"]
    assert accuracy > majority + 0.1, (accuracy, majority)


def watch_dashboard(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """What the demo's dashboard serves before training, and once the rounds are over (filled in
    while the demo runs, around its training)."""
    seen: dict[str, Any] = {}
    train = demo_command._train

    def watched(run: FederationRun, rounds: int) -> int:
        assert run.dashboard_url is not None
        seen["url"] = run.dashboard_url
        seen["before"] = dashboard_view(run.dashboard_url, rounds=0)
        code = train(run, rounds)
        seen["after"] = dashboard_view(run.dashboard_url, rounds=rounds)
        return code

    monkeypatch.setattr(demo_command, "_train", watched)
    return seen


def dashboard_view(url: str, rounds: int, timeout_s: float = 120) -> dict[str, Any]:
    """Readiness, status, rounds and page, once the dashboard shows ``rounds`` paid rounds."""
    deadline = time.monotonic() + timeout_s
    with httpx.Client(base_url=url, timeout=10) as client:
        while True:
            listed = client.get("/api/v1/rounds").json()
            if [r["status"] for r in listed] == ["paid"] * rounds or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        return {
            "readyz": client.get("/readyz").json(),
            "status": client.get("/api/v1/status").json(),
            "rounds": listed,
            "page": client.get("/").text,
        }


def assert_dashboard_served_the_run(output: str, seen: dict[str, Any], rounds: int) -> None:
    """Its URL printed before training; ready, its page served, before the first round; the run's
    rounds once over; stopped with the demo."""
    assert f"dashboard: {seen['url']}" in output
    assert output.index("dashboard: http://127.0.0.1:") < output.index("Audit of rounds")
    before, after = seen["before"], seen["after"]
    assert before["readyz"]["status"] == "ready" and before["rounds"] == []
    assert before["status"]["chain"]["reachable"] and "<html" in before["page"]
    assert [r["round"] for r in after["rounds"]] == list(range(1, rounds + 1))
    assert after["status"]["clean"] and after["status"]["indexed_block"] > before["status"]["indexed_block"]
    with pytest.raises(httpx.ConnectError):
        httpx.get(seen["url"], timeout=5)
