"""A whole consortium on one machine, as the services of bcfl.demo.topology: the chain, deployment
and onboarding (run here through the same functions as compose's one-shot jobs), then the dashboard
(if asked for), the SuperLink, the coordinator's SuperExec and, per hospital, a SuperNode and the
SuperExec that starts its approved apps, as separate processes, and ``flwr run`` of the Flower App.
Flower runs over TLS with SuperNode authentication: onboarding also makes the CA, the SuperLink's
certificate and each hospital's node key (its fingerprint and the key on chain) and pins the
certificate on chain; the node sync (``bcfl superlink sync-nodes --follow``) registers the active
members' keys with the SuperLink before the SuperNodes start, and keeps following the registry; they
dial the Fleet gateway. Each hospital's signing agent (``bcfl-signer``) starts before its SuperNode,
its socket in a short folder under /tmp (a Unix socket's path has at most 107 bytes; the run
directory's may be longer), and signs for that hospital's ClientApps. ``insecure=True`` is the
old plain-HTTP stack without node authentication (debugging only).
Used by ``bcfl demo`` and the end-to-end tests."""

from __future__ import annotations

import logging
import shutil
import subprocess
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bcfl.apps import app_hash, approve_app
from bcfl.audit.record import write_record
from bcfl.chain.anvil import AnvilNode, free_port
from bcfl.chain.client import ChainClient
from bcfl.chain.consortium import Consortium
from bcfl.chain.deploy import deploy_consortium
from bcfl.chain.devkeys import dev_account
from bcfl.chain.fingerprints import openssh_key_blob
from bcfl.chain.keystore import load_keystore, read_password
from bcfl.chain.manifest import DeploymentManifest
from bcfl.demo.consortia import HEART, DemoConsortium
from bcfl.demo.flower_config import write_flower_config
from bcfl.demo.onboarding import DemoHospital, onboard_consortium
from bcfl.demo.processes import BIN, FlowerDeployment, LaunchError, ManagedProcess, base_env, prepare
from bcfl.demo.tls_setup import prepare_tls, publish_superlink_certificate
from bcfl.demo.topology import (
    CA,
    GATEWAY,
    GATEWAY_PORT,
    TLS,
    LocalLayout,
    Plan,
    consortium_services,
    hospital_signer_and_services,
    local_folders,
    node_settings,
    signer_folder,
    signer_name,
    signer_socket,
    superexec_name,
    supernode_name,
    tls_names,
)
from bcfl.flower.certs import CA_CERT
from bcfl.flower.control import ControlClient
from bcfl.flower.node_keys import NODE_KEY, ensure_node_key
from bcfl.paths import REPO_ROOT
from hospital_node.settings import node_config_arg
from hospital_node.signer.location import ensure_short_root

logger = logging.getLogger(__name__)

#: Anvil dev-account indices the tests give each role (PUBLIC keys: demo only); ``bcfl demo``
#: takes them from the demo settings (.env).
DEMO_ADMIN_INDEX = 0
DEMO_COORDINATOR_INDEX = 1
# The longest one `flwr run` may take before it counts as hung: generous, since CI machines are busy.
FLWR_RUN_TIMEOUT_S = 1200.0
#: The longest the node sync may take to register a readmitted hospital's new key (busy CI machines).
READMIT_TIMEOUT_S = 120.0


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
    #: The admin's Anvil dev-account index (PUBLIC key: demo only).
    admin_key: int = DEMO_ADMIN_INDEX
    #: The dashboard's page, if it was started (``start_federation(dashboard_port=...)``).
    dashboard_url: str | None = None
    #: The SuperLink's own address (host:port on loopback): its Control API, which submits runs.
    superlink: str = ""
    #: The consortium's CA certificate (None: the ``--insecure`` stack).
    ca_cert: Path | None = None
    #: Runs train with the demo's differential privacy (``start_federation(private=True)``).
    private: bool = False
    _recorded: bool = field(default=False, init=False, repr=False)

    @property
    def manifest_path(self) -> Path:
        """The deployment manifest every component reads."""
        return self.run_dir / "deployment.json"

    def consortium(self) -> Consortium:
        """Typed access to the run's contracts."""
        return Consortium.connect(ChainClient(self.node.rpc_url), self.manifest)

    def control(self) -> ControlClient:
        """The SuperLink's Control API (node registrations)."""
        return ControlClient(self.superlink, self.ca_cert)

    def approve_app(self, app_dir: Path) -> bytes:
        """Approve the Flower App in ``app_dir`` on chain as the admin (tests approve their test-only
        apps this way; onboarding approved the product App); returns its hash."""
        digest = app_hash(app_dir)
        approve_app(self.consortium().ledger, dev_account(self.admin_key), digest)
        return digest

    def flwr_process(
        self, rounds: int, app_dir: Path = REPO_ROOT, *, extra_config: list[str] | None = None
    ) -> subprocess.Popen[bytes]:
        """Start ``flwr run`` of the Flower App in ``app_dir``; its output goes to logs/flwr-run.log."""
        # One entry per key, the later winning: Flower parses the string as TOML, where a key given
        # twice is an error.
        entries = [
            f"num-server-rounds={rounds}",
            f"min-nodes={len(self.hospitals)}",
            *self.demo.run_settings(private=self.private),
            *(extra_config or []),
        ]
        config = " ".join({entry.split("=", 1)[0]: entry for entry in entries}.values())
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

    def readmit(self, name: str, timeout_s: float = READMIT_TIMEOUT_S) -> None:
        """Hospital ``name`` back in after a reinstatement: the SuperLink unregistered its node key when
        it was suspended, for good, so it gets a new one (the old moved aside), records and publishes it
        on chain, and its SuperNode and SuperExec restart with it once the node sync registered it."""
        hospital = next(h for h in self.hospitals if h.name == name)
        account = load_keystore(hospital.keystore, read_password(hospital.password_file))
        for service in (supernode_name(name), superexec_name(name)):
            next(p for p in self.flower.processes if p.name == service).stop()
        retired = hospital.node_key.with_name(f"{NODE_KEY}.retired-{int(time.time())}")
        hospital.node_key.replace(retired)
        hospital.node_key.with_name(NODE_KEY + ".pub").unlink(missing_ok=True)
        key = ensure_node_key(hospital.node_key)
        registry = self.consortium().registry
        registry.update_node_key(account, key.fingerprint)
        registry.publish_node_key(account, openssh_key_blob(key.openssh))
        deadline = time.monotonic() + timeout_s
        while not self._admitted(key.fingerprint):
            if time.monotonic() > deadline:
                raise LaunchError(f"the node sync did not register {name}'s new node key in {timeout_s}s")
            time.sleep(0.5)
        self.flower.restart(supernode_name(name))
        self.flower.restart(superexec_name(name))

    def signer_socket(self, name: str) -> Path:
        """Hospital ``name``'s signing-agent socket (what its node config's ``signer-socket`` names)."""
        return Path(signer_socket(self.flower.layout, name))

    def stop_signer(self, name: str) -> None:
        """Stop hospital ``name``'s signing agent (tests: a hospital whose agent is down); its
        ClientApps then fail to sign, with one line naming the socket."""
        managed = self._signer(name)
        managed.stop()
        self.flower.processes.remove(managed)
        self.flower.stopped.append(managed)

    def start_signer(self, name: str) -> ManagedProcess:
        """Start hospital ``name``'s signing agent again, as it was started."""
        managed = next(p for p in self.flower.stopped if p.name == signer_name(name))
        self.flower.stopped.remove(managed)
        assert managed.service is not None
        return self.flower.start(managed.service, managed.extra_env)

    def _signer(self, name: str) -> ManagedProcess:
        return next(p for p in self.flower.processes if p.name == signer_name(name))

    def _admitted(self, fingerprint: bytes) -> bool:
        with self.control() as control:
            return any(n.has_fingerprint(fingerprint) and n.status != "unregistered" for n in control.nodes())

    def stop(self) -> None:
        """Stop every process; the chain saves its state in the run directory, and then the run's
        record gets its checksums (``record.sha256``, bcfl.audit.record)."""
        self.flower.stop()
        self.node.stop()
        shutil.rmtree(signer_folder(self.run_dir, "_").parent, ignore_errors=True)
        if not self._recorded:  # once: a later call must not bless files changed since
            write_record(self.run_dir)
            self._recorded = True


def start_federation(
    run_dir: Path,
    hospital_names: list[str],
    *,
    demo: DemoConsortium = HEART,
    node_config_extras: Mapping[str, Mapping[str, str]] | None = None,
    node_env_extras: Mapping[str, Mapping[str, str]] | None = None,
    on_step: Callable[[str], None] = logger.info,
    chain_port: int = 0,
    superlink_port: int = 0,
    admin_key: int = DEMO_ADMIN_INDEX,
    coordinator_key: int = DEMO_COORDINATOR_INDEX,
    extra_env: Mapping[str, str] | None = None,
    dashboard_port: int | None = None,
    insecure: bool = False,
    public_host: str = "127.0.0.1",
    private: bool = False,
) -> FederationRun:
    """Start the consortium's services (bcfl.demo.topology) in their order, up to the SuperNodes.

    Ports of 0 are any free ones; the dashboard starts only if given a port (``bcfl demo`` does; the
    tests and benchmarks do without). ``node_config_extras`` adds node config keys to the SuperNodes (and
    their SuperExecs) of the hospitals it names, and ``node_env_extras`` environment variables to their
    SuperExecs, which start their apps; ``extra_env`` is added to every process's base environment
    (tests use them, e.g. PYTHONPATH for a test-only App). ``public_host`` is the address hospitals on
    other machines reach this one at: the chain's RPC and the Fleet gateway listen there (and the
    certificate names it); everything else stays on loopback. ``private`` deploys with the demo's
    privacy budget and runs with its ``dp-epsilon`` (``bcfl demo`` does; tests ask when they need it).
    """
    ports = {
        "chain": chain_port or free_port(public_host),
        "superlink": superlink_port or free_port(),
        "dashboard": dashboard_port or free_port(),
        GATEWAY: free_port(public_host),
        **{supernode_name(name): free_port() for name in hospital_names},
    }
    layout = LocalLayout(local_folders(run_dir, hospital_names), ports, public_host)
    # The launcher runs `flwr run` itself (FederationRun.flwr_run), so the plan's rounds are unused.
    plan = Plan(
        admin_key, coordinator_key, ports["superlink"], rounds="0", secure=not insecure, private=private
    )
    admin, coordinator = dev_account(admin_key), dev_account(coordinator_key)
    services = {
        s.name: s for s in consortium_services(layout, demo, hospital_names, plan, coordinator.address)
    }
    chain_dir = layout.folders["chain-data"]  # the chain service's volume: its state file and log
    node = AnvilNode(
        host=public_host,
        port=ports["chain"],
        state_path=chain_dir / "state.json",
        log_path=chain_dir / "anvil.log",
    )
    ensure_short_root()  # the signing agents' sockets go under it (before anything is started)
    on_step("starting the chain (anvil)")
    node.start()
    env = {**base_env(run_dir / "flwr-home"), **(extra_env or {})}
    flower = FlowerDeployment(run_dir / "logs", env, layout, plan, ports)
    superlink = layout.address("superlink", plan.superlink_port)
    ca_cert: Path | None = None
    try:
        client = ChainClient(node.rpc_url)
        on_step("deploying the contracts")
        manifest = deploy_consortium(
            client,
            admin,
            coordinator=coordinator.address,
            parameters=demo.deployment_parameters(private=private),
        )
        manifest.save(run_dir / "deployment.json")
        on_step("onboarding the hospitals (own keys, own data, admin approval)")
        onboarded = onboard_consortium(
            Consortium.connect(client, manifest),
            admin,
            demo,
            run_dir / "hospitals",
            hospital_names,
            run_dir / "coordinator",
            bytes(coordinator.key),
        )
        prepare(services["onboard"])  # what compose's onboard job makes too (the coordinator's store)
        if plan.secure:  # what compose's onboard job makes too, with --tls-dir
            ca_dir = layout.folders[CA.volume]
            files = prepare_tls(
                layout.folders[TLS.volume],
                tls_names(layout, plan),
                ca_dir,
                [h.folder for h in onboarded.hospitals],
                demo.name,
            )
            publish_superlink_certificate(
                Consortium.connect(client, manifest).registry,
                admin,
                files,
                layout.address(GATEWAY, GATEWAY_PORT),
            )
            ca_cert = ca_dir / CA_CERT
        # A hospital's node config extras go to its SuperNode and its SuperExec (the same node config);
        # its environment extras to its SuperExec, whose processes are the hospital's apps.
        for name, extras in (node_config_extras or {}).items():
            config = node_config_arg({**node_settings(layout, demo, name).node_config(), **extras})
            services.update((s.name, s) for s in hospital_signer_and_services(layout, plan, name, config))
        env_of = {superexec_name(name): env for name, env in (node_env_extras or {}).items()}
        # The long-running services, in the description's start order (the one-shot `submit` is
        # FederationRun.flwr_run); each with its own environment only.
        for service in services.values():
            if service.one_shot or service.name == "chain":  # the chain: started above
                continue
            if service.name == "dashboard" and dashboard_port is None:
                continue
            on_step(f"starting {service.name} ({service.command[0]})")
            flower.start(service, env_of.get(service.name, {}))
        write_flower_config(Path(env["FLWR_HOME"]), superlink, ca_cert)
    except BaseException:
        flower.stop()
        node.stop()
        raise
    dashboard_url = f"http://127.0.0.1:{ports['dashboard']}/" if dashboard_port is not None else None
    return FederationRun(
        run_dir,
        node,
        manifest,
        list(onboarded.hospitals),
        flower,
        env,
        demo,
        admin_key,
        dashboard_url,
        superlink,
        ca_cert,
        private,
    )
