"""``bcfl demo`` on the real stack: a run directory, a persistent chain and a checked deployment."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from bcfl.chain.anvil import AnvilNode
from bcfl.chain.client import ChainClient
from bcfl.chain.consortium import Consortium
from bcfl.chain.manifest import DeploymentManifest
from bcfl.cli.main import app


def test_demo_deploys_and_leaves_an_auditable_run_directory(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    for _ in range(2):  # re-running needs no cleanup
        result = CliRunner().invoke(app, ["demo", "--runs-dir", str(runs), "--no-keep-running"])
        assert result.exit_code == 0, result.output
        assert "PUBLIC dev keys" in result.output and "RoundLedger" in result.output
    run_dirs = sorted(p for p in runs.iterdir() if not p.is_symlink())
    assert len(run_dirs) == 2
    latest = (runs / "latest").resolve()
    assert latest == run_dirs[-1].resolve()
    manifest = DeploymentManifest.load(latest / "deployment.json")
    state = latest / "chain" / "state.json"
    assert state.stat().st_size > 0
    # The saved chain state alone brings the deployment back for an audit.
    with AnvilNode(state_path=state) as node:
        consortium = Consortium.connect(ChainClient(node.rpc_url), manifest)
        assert consortium.registry.is_coordinator(manifest.coordinator or "")
        assert consortium.distributor.round_budget() == manifest.parameters.round_budget
