"""``bcfl demo`` end to end: the whole local consortium, a summary, an auditable run directory."""

from __future__ import annotations

import json
import shutil
import socket
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bcfl.chain.anvil import AnvilNode
from bcfl.chain.client import ChainClient
from bcfl.chain.consortium import Consortium
from bcfl.chain.manifest import DeploymentManifest
from bcfl.cli.main import app
from bcfl.models.store import ModelStore


@pytest.fixture(autouse=True)
def free_ports(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any free ports instead of .env's 8545 and 9092: other test sessions may run beside this one."""
    monkeypatch.setenv("BCFL_CHAIN_PORT", "0")
    monkeypatch.setenv("BCFL_SUPERLINK_PORT", "0")


def test_demo_trains_and_leaves_an_auditable_run_directory(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    args = ["demo", "--rounds", "1", "--hospitals", "cleveland,hungary", "--runs-dir", str(runs)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "PUBLIC dev keys" in result.output and "scores and payouts on chain" in result.output
    run_dir = (runs / "latest").resolve()
    summary = json.loads((run_dir / "summary.json").read_text())
    (round_1,) = summary["rounds"]
    assert sorted(u["hospital"] for u in round_1["updates"]) == ["cleveland", "hungary"]
    assert all(u["signature_valid"] for u in round_1["updates"]) and round_1["accuracy"] > 0.5
    # Scores, reputations and payouts come from the chain; both honest hospitals were paid.
    assert all(u["score"] is not None and u["reputation"] is not None for u in round_1["updates"])
    assert all(u["aggregated"] and int(u["paid"]) > 0 for u in round_1["updates"])
    assert {h["name"]: int(h["balance"]) for h in summary["hospitals"]} == {
        u["hospital"]: int(u["paid"]) for u in round_1["updates"]
    }
    assert (run_dir / "models").is_dir() and (run_dir / "logs" / "superlink.log").exists()
    # The run's record got its checksums once the chain had stopped; they verify clean.
    record = CliRunner().invoke(app, ["audit", "record", str(run_dir)])
    assert record.exit_code == 0 and "files match record.sha256" in record.output, record.output
    listed = (run_dir / "record.sha256").read_text()
    assert "  chain/state.json\n" in listed and "  rounds.json\n" in listed and "  models/" in listed
    # The saved chain state alone lets an auditor check the run later, loaded read-only: the
    # evidence is never written (tests/chain/test_read_only_state.py), so the record stays clean.
    manifest = DeploymentManifest.load(run_dir / "deployment.json")
    with AnvilNode(load_state=run_dir / "chain" / "state.json", log_path=tmp_path / "audit.log") as node:
        consortium = Consortium.connect(ChainClient(node.rpc_url), manifest)
        on_chain = consortium.ledger.updates(round_number=1)
        assert {"0x" + u.update_hash.hex() for u in on_chain} == {
            u["update_hash"] for u in round_1["updates"]
        }
        assert (
            "0x" + consortium.ledger.get_round(1).aggregated_model_hash.hex()
            == round_1["aggregated_model_hash"]
        )
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
        app, ["demo", "--consortium", "ihc", "--rounds", "2", "--runs-dir", str(runs)]
    )
    assert result.exit_code == 0, result.output
    run_dir = (runs / "latest").resolve()
    formats = {
        site.name: {p.suffix for p in (site / "images").iterdir()} - {".csv"}
        for site in (run_dir / "hospitals").iterdir()
    }
    assert formats == {"riverside": {".png"}, "hillcrest": {".jpg"}, "lakeside": {".dcm"}}
    rounds = json.loads((run_dir / "summary.json").read_text())["rounds"]
    assert len(rounds) == 2
    for record in rounds:
        assert sorted(u["hospital"] for u in record["updates"]) == ["hillcrest", "lakeside", "riverside"]
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
    assert last["accuracy"] > majority + 0.1, (last["accuracy"], majority)
