"""``bcfl audit sync`` and ``bcfl audit events`` against a real Anvil: output and one-line errors."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from typer.testing import CliRunner

from bcfl.chain.anvil import AnvilNode
from bcfl.chain.client import ChainClient
from bcfl.chain.consortium import Consortium
from bcfl.cli.main import app
from bcfl.index.scan import scan_events
from tests.chain.helpers import deploy_ready, run_round
from tests.conftest import Actors

runner = CliRunner()


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def test_sync_then_events_in_every_format(
    tmp_path: Path,
    anvil: AnvilNode,
    client: ChainClient,
    consortium: Consortium,
    members: list[int],
    actors: Actors,
) -> None:
    run_round(consortium, actors.coordinator, dict(zip(members, actors.hospitals, strict=False)))
    manifest = tmp_path / "deployment.json"
    consortium.manifest.save(manifest)
    index = str(tmp_path / "audit.sqlite")
    common = ("--manifest", str(manifest), "--index", index)
    code, out = invoke("audit", "sync", "--rpc-url", anvil.rpc_url, *common, "--format", "json")
    assert code == 0, out
    synced = json.loads(out)
    expected = scan_events(client, consortium.manifest, to_block=synced["to_block"])
    assert synced["added"] == synced["events"] == len(expected)
    code, out = invoke("audit", "sync", "--rpc-url", anvil.rpc_url, *common)
    assert code == 0, out
    assert "nothing new" in out

    code, out = invoke("audit", "events", *common, "--format", "json")
    assert code == 0, out
    listed = json.loads(out)
    assert [(e["block_number"], e["log_index"], e["event"]) for e in listed] == [
        (e.block_number, e.log_index, e.name) for e in expected
    ]
    code, out = invoke("audit", "events", *common, "--event", "UpdateRegistered", "--member", str(members[1]))
    assert code == 0, out
    registered = [e for e in expected if e.name == "UpdateRegistered" and e.args["memberId"] == members[1]]
    assert len(registered) == 1
    assert registered[0].tx_hash in out and registered[0].args["updateHash"] in out
    assert all(len(line) <= 80 for line in out.splitlines()), out
    code, out = invoke(
        "audit", "events", *common, "--contract", "RoundLedger", "--round", "1", "--format", "csv"
    )
    assert code == 0, out
    rows = list(csv.DictReader(io.StringIO(out)))
    assert {r["event"] for r in rows} == {"RoundOpened", "UpdateRegistered", "RoundFinalized"}
    assert all(json.loads(r["args"])["round"] == 1 for r in rows)


def test_bad_input_is_one_line_and_exit_1(
    tmp_path: Path, anvil: AnvilNode, client: ChainClient, consortium: Consortium, actors: Actors
) -> None:
    manifest = tmp_path / "deployment.json"
    consortium.manifest.save(manifest)
    index = str(tmp_path / "audit.sqlite")
    rpc = ("--rpc-url", anvil.rpc_url)

    def refused(*args: str) -> str:
        code, out = invoke("audit", *args)
        assert code == 1, out
        assert "Traceback" not in out and len(out.strip().splitlines()) == 1, out
        return out

    # An unreachable RPC URL goes through the same connect() as every command (tests/test_cli.py).
    wrong_chain = tmp_path / "wrong-chain.json"
    consortium.manifest.model_copy(update={"chain_id": 5}).save(wrong_chain)
    assert "chain id 5" in refused("sync", *rpc, "--manifest", str(wrong_chain), "--index", index)
    assert "no event index" in refused("events", "--manifest", str(manifest), "--index", index)
    assert invoke("audit", "sync", *rpc, "--manifest", str(manifest), "--index", index)[0] == 0
    other = tmp_path / "other.json"
    deploy_ready(client, actors.admin, actors.coordinator).manifest.save(other)
    assert "another deployment" in refused("sync", *rpc, "--manifest", str(other), "--index", index)
    assert "another deployment" in refused("events", "--manifest", str(other), "--index", index)
    assert "not a database URL" in refused(
        "sync", *rpc, "--manifest", str(manifest), "--index", "postgresql://:x"
    )
    assert "no contract 'Nope'" in refused(
        "events", "--manifest", str(manifest), "--index", index, "--contract", "Nope"
    )
    assert "no event 'Bogus': give one of " in refused(
        "events", "--manifest", str(manifest), "--index", index, "--event", "Bogus"
    )
