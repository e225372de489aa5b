"""Set up a demo run: a run directory, a persistent Anvil chain and a fresh deployment."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bcfl.chain.anvil import AnvilNode
from bcfl.chain.client import ChainClient
from bcfl.chain.deploy import deploy_consortium
from bcfl.chain.devkeys import dev_account
from bcfl.chain.manifest import DeploymentManifest

logger = logging.getLogger(__name__)

#: Anvil dev-account indices the demo gives each role (PUBLIC keys: demo only).
DEMO_ADMIN_INDEX = 0
DEMO_COORDINATOR_INDEX = 1


@dataclass
class DemoRun:
    """A started demo: its directory, chain and deployment."""

    run_dir: Path
    node: AnvilNode
    manifest: DeploymentManifest

    @property
    def manifest_path(self) -> Path:
        """Where the deployment manifest is written."""
        return self.run_dir / "deployment.json"


def new_run_dir(runs_root: Path) -> Path:
    """A fresh ``runs/<run-id>/`` (run id = UTC timestamp), with ``runs/latest`` pointing at it."""
    run_id = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    run_dir = runs_root / run_id
    suffix = 1
    while run_dir.exists():
        suffix += 1
        run_dir = runs_root / f"{run_id}-{suffix}"
    run_dir.mkdir(parents=True)
    latest = runs_root / "latest"
    if latest.is_symlink() or latest.exists():
        latest.unlink()
    latest.symlink_to(run_dir.name)
    return run_dir


def start_demo(
    run_dir: Path, port: int | None = None, on_step: Callable[[str], None] = logger.info
) -> DemoRun:
    """Start Anvil with its state in ``run_dir/chain`` and deploy the consortium with dev keys."""
    chain_dir = run_dir / "chain"
    node = AnvilNode(port=port, state_path=chain_dir / "state.json", log_path=chain_dir / "anvil.log")
    on_step(f"starting anvil on port {node.port}")
    node.start()
    try:
        manifest = deploy_consortium(
            ChainClient(node.rpc_url),
            dev_account(DEMO_ADMIN_INDEX),
            coordinator=dev_account(DEMO_COORDINATOR_INDEX).address,
            on_step=on_step,
        )
    except BaseException:
        node.stop()
        raise
    run = DemoRun(run_dir, node, manifest)
    manifest.save(run.manifest_path)
    return run
