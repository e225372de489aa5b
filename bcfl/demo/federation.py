"""A whole consortium on one machine, as separate processes: Anvil, SuperLink, one SuperNode per
hospital, and ``flwr run`` of the Flower App. Used by ``bcfl demo`` and the end-to-end tests."""

from __future__ import annotations

import logging
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bcfl.chain.anvil import AnvilNode
from bcfl.chain.client import ChainClient
from bcfl.chain.consortium import Consortium
from bcfl.chain.deploy import deploy_consortium
from bcfl.chain.devkeys import dev_account
from bcfl.chain.manifest import DeploymentManifest
from bcfl.demo.consortia import HEART, DemoConsortium
from bcfl.demo.onboarding import DemoHospital, new_keystore, onboard_demo_hospitals
from bcfl.demo.processes import BIN, FlowerDeployment, base_env
from bcfl.paths import REPO_ROOT

logger = logging.getLogger(__name__)

#: Anvil dev-account indices the demo gives each role (PUBLIC keys: demo only).
DEMO_ADMIN_INDEX = 0
DEMO_COORDINATOR_INDEX = 1
# The longest one `flwr run` may take before it counts as hung: generous, since CI machines are busy.
FLWR_RUN_TIMEOUT_S = 1200.0


@dataclass
class FederationRun:
    """A running local consortium."""

    run_dir: Path
    node: AnvilNode
    manifest: DeploymentManifest
    hospitals: list[DemoHospital]
    flower: FlowerDeployment
    env: dict[str, str] = field(default_factory=dict)
    demo: DemoConsortium = HEART

    @property
    def manifest_path(self) -> Path:
        """The deployment manifest every component reads."""
        return self.run_dir / "deployment.json"

    def consortium(self) -> Consortium:
        """Typed access to the run's contracts."""
        return Consortium.connect(ChainClient(self.node.rpc_url), self.manifest)

    def flwr_process(
        self, rounds: int, app_dir: Path = REPO_ROOT, *, extra_config: list[str] | None = None
    ) -> subprocess.Popen[bytes]:
        """Start ``flwr run`` of the Flower App in ``app_dir``; its output goes to logs/flwr-run.log."""
        config = " ".join(
            [
                f"num-server-rounds={rounds}",
                f"min-nodes={len(self.hospitals)}",
                f'schema-name="{self.demo.schema_name}"',
                *self.demo.run_config,
                *(extra_config or []),
            ]
        )
        command = [str(BIN / "flwr"), "run", str(app_dir), "--stream", "--run-config", config]
        with open(self.run_dir / "logs" / "flwr-run.log", "ab") as log:
            return subprocess.Popen(command, cwd=app_dir, env=self.env, stdout=log, stderr=subprocess.STDOUT)

    def flwr_run(
        self,
        rounds: int,
        app_dir: Path = REPO_ROOT,
        *,
        extra_config: list[str] | None = None,
        timeout_s: float = FLWR_RUN_TIMEOUT_S,
    ) -> int:
        """Run ``flwr run`` to completion; returns its exit code."""
        process = self.flwr_process(rounds, app_dir, extra_config=extra_config)
        try:
            return process.wait(timeout=timeout_s)
        finally:
            if process.poll() is None:
                process.kill()

    def stop(self) -> None:
        """Stop every process; the chain saves its state in the run directory."""
        self.flower.stop()
        self.node.stop()


def start_federation(
    run_dir: Path,
    hospital_names: list[str],
    *,
    demo: DemoConsortium = HEART,
    node_config_extras: dict[str, dict[str, str]] | None = None,
    node_env_extras: dict[str, dict[str, str]] | None = None,
    on_step: Callable[[str], None] = logger.info,
) -> FederationRun:
    """Start the chain, deploy, onboard the hospitals and start SuperLink and SuperNodes.

    ``node_config_extras`` and ``node_env_extras`` add node config keys and environment variables
    to the SuperNodes of the hospitals they name (tests use them).
    """
    chain_dir = run_dir / "chain"
    node = AnvilNode(state_path=chain_dir / "state.json", log_path=chain_dir / "anvil.log")
    on_step("starting the chain (anvil)")
    node.start()
    flower: FlowerDeployment | None = None
    try:
        client = ChainClient(node.rpc_url)
        admin = dev_account(DEMO_ADMIN_INDEX)
        coordinator = dev_account(DEMO_COORDINATOR_INDEX)
        on_step("deploying the contracts")
        manifest = deploy_consortium(client, admin, coordinator=coordinator.address)
        manifest.save(run_dir / "deployment.json")
        consortium = Consortium.connect(client, manifest)
        on_step("onboarding the hospitals (own keys, own data, admin approval)")
        hospitals = onboard_demo_hospitals(consortium, admin, run_dir / "hospitals", hospital_names, demo)
        new_keystore(run_dir / "coordinator", bytes(coordinator.key))
        env = base_env()
        env.update(
            BCFL_RPC_URL=node.rpc_url,
            BCFL_MANIFEST=str(run_dir / "deployment.json"),
            BCFL_COORDINATOR_KEYSTORE=str(run_dir / "coordinator" / "keystore.json"),
            BCFL_COORDINATOR_PASSWORD_FILE=str(run_dir / "coordinator" / "keystore.password"),
            BCFL_COORDINATOR_RUN_DIR=str(run_dir),
            FLWR_HOME=str(run_dir / "flwr-home"),
        )
        flower = FlowerDeployment(run_dir / "logs", env)
        on_step("starting flower-superlink")
        flower.start_superlink()
        for hospital in hospitals:
            on_step(f"starting flower-supernode for {hospital.name}")
            # Each site keeps its own copy of the public manifest: nothing is shared between sites.
            manifest.save(hospital.folder / "deployment.json")
            config = {
                "data-path": str(hospital.data),
                "schema-path": str(hospital.schema),
                "keystore": str(hospital.keystore),
                "password-file": str(hospital.password_file),
                "rpc-url": node.rpc_url,
                "manifest": str(hospital.folder / "deployment.json"),
                **(node_config_extras or {}).get(hospital.name, {}),
            }
            flower.start_supernode(hospital.name, config, (node_env_extras or {}).get(hospital.name, {}))
        flower.write_flower_config(run_dir / "flwr-home")
    except BaseException:
        if flower is not None:
            flower.stop()
        node.stop()
        raise
    return FederationRun(run_dir, node, manifest, hospitals, flower, env, demo)
