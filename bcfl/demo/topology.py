"""The demo consortium's services, described once: what ``docker-compose.yml`` runs and what the
launcher (``bcfl demo``, the test federations) starts.

Each service is a frozen record: its program and arguments, environment, volumes, the services it
waits for and how its health is checked. A :class:`Layout` spells paths and addresses: in compose a
volume is mounted at its target and a service is reached by its name; the launcher gives each volume
a folder under the run directory and each service a port on 127.0.0.1. Isolation is the same in
both: the SuperLink runs no app (``--isolation process``); the ServerApp runs under the
``coordinator`` service's ``flower-superexec``, the only service given the coordinator's settings.
Each hospital's SuperNode runs no app either (``--isolation=process``): its ``superexec-<hospital>``
service (``bcfl-superexec``) starts the ClientApps, and only those of an app the consortium approved
on chain; the two share a secret in the hospital's volume, so no other service can take its tasks.
Each hospital's ``signer-<hospital>`` (``bcfl-signer``) is the only service given its keystore and
password (their own volume, read-only): it has no network, and signs for the hospital's ClientApps
over a Unix socket on a volume shared with that hospital's SuperExec only (the launcher puts the
socket in a short folder under /tmp: a Unix socket's path has at most 107 bytes).
The ``dashboard`` (``bcfl dashboard``) only reads: the chain, the manifest and the coordinator's model
store (read-only mounts), with no key and no password; it writes nothing but its own event index.

Flower runs over TLS with SuperNode authentication (bcfl.flower): ``onboard`` makes the consortium's CA
and the SuperLink's certificate (the ``tls`` volume, mounted only where its keys are used) and each
hospital's node key, and copies the CA certificate to every party. The SuperLink serves Fleet,
Control and Runtime on one socket with no user authentication, so it listens on loopback (the
launcher) or the ``consortium-internal`` compose network only, keeps its registrations in a database,
and admits only the node keys that ``node-sync`` (``bcfl superlink sync-nodes --follow``) registers:
those active members published on chain; a suspended, rejected or rotated-out member's key is
unregistered within seconds of the event. Hospitals' containers are on the ``fleet`` network only,
with the chain's RPC and the ``fleet-gateway``, which forwards the Fleet API alone: they cannot reach
the SuperLink. Onboarding has each demo hospital publish its node key on chain and the admin pin the
gateway's certificate (the SuperLink's) and address on chain. A plan with ``secure=False`` is the
old ``--insecure`` stack (debugging only): no TLS, no node authentication, no gateway, no node sync.
"""

from __future__ import annotations

import hashlib
import os
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Literal, Protocol

from bcfl.demo.consortia import DemoConsortium
from bcfl.demo.onboarding import KEY_DIR, KEYSTORE, MANIFEST, PASSWORD_FILE, SCHEMA
from bcfl.demo.summary import INDEX_FILE
from bcfl.flower.certs import CA_CERT, SERVER_CERT, SERVER_KEY
from bcfl.flower.node_keys import NODE_KEY
from dashboard.settings import DEFAULT_PORT as DASHBOARD_PORT
from hospital_node.settings import SUPEREXEC_POLL, NodeSettings
from hospital_node.signer.location import AGENT_DIR, SOCKET_NAME, short_root

Condition = Literal["service_started", "service_healthy", "service_completed_successfully"]
#: Ports inside the compose network (the launcher maps each to a port on 127.0.0.1).
CHAIN_PORT = 8545
CLIENTAPPIO_PORT = 9094
#: The Fleet gateway's port: the one Flower address hospitals dial.
GATEWAY_PORT = 9443
GATEWAY = "fleet-gateway"
#: What hospitals dial: the chain's RPC and the Fleet gateway (never the SuperLink itself).
PUBLIC_SERVICES = ("chain", GATEWAY)
NODE_SYNC = "node-sync"
#: Compose networks: the coordinator's side (the SuperLink and what talks to its Control or Runtime
#: API) and the hospitals' side (SuperNodes and their SuperExecs); the chain and the gateway are on both.
INTERNAL = "consortium-internal"
FLEET = "fleet"
#: The SuperLink's state (its node registrations) in its volume: they survive a restart.
SUPERLINK_DATABASE = "state.db"
SUPERNODE_PREFIX = "supernode-"
SUPEREXEC_PREFIX = "superexec-"
SIGNER_PREFIX = "signer-"
#: The demo's Flower App in the image: what ``submit`` runs and ``onboard`` approves on chain.
APP_DIR = "/app"
#: The secret a hospital's SuperNode and its SuperExec share, in the hospital's volume.
NODE_SECRET = "superexec.secret"


@dataclass(frozen=True)
class Mount:
    """A volume and where a service sees it."""

    volume: str
    target: str
    read_only: bool = False


@dataclass(frozen=True)
class Health:
    """A command that exits 0 once the service is ready, tried every ``interval_s``."""

    test: tuple[str, ...]
    interval_s: int = 2
    timeout_s: int = 3
    retries: int = 30


@dataclass(frozen=True)
class Dependency:
    """A service that must be started, healthy or completed first."""

    service: str
    condition: Condition


@dataclass(frozen=True)
class Service:
    """One program of the consortium."""

    name: str
    command: tuple[str, ...]
    environment: Mapping[str, str] = field(default_factory=dict)
    mounts: tuple[Mount, ...] = ()
    depends_on: tuple[Dependency, ...] = ()
    health: Health | None = None
    #: ``no`` for one-shot jobs, ``on-failure`` for long-running services.
    restart: Literal["no", "on-failure"] = "on-failure"
    #: Where the SuperExec shared secret is created (if missing, mode 0600) before the program starts.
    creates_secret: str | None = None
    #: Folders made (if missing) before the program starts, for services started after it.
    creates_folders: tuple[str, ...] = ()
    #: Compose only: the host port it is published on, ``host-port:container-port``.
    published: tuple[str, ...] = ()
    #: Compose only: the networks it is on (the launcher has loopback only).
    networks: tuple[str, ...] = (INTERNAL,)

    @property
    def one_shot(self) -> bool:
        """A job that runs to completion (deploy, onboard, submit)."""
        return self.restart == "no"


class Layout(Protocol):
    """How paths and addresses are spelled where the services run."""

    def path(self, mount: Mount, *parts: str) -> str:
        """A path inside ``mount``."""
        ...

    def parent(self, mount: Mount) -> str:
        """The folder holding ``mount`` (e.g. every hospital's folder)."""
        ...

    def address(self, service: str, port: int) -> str:
        """``host:port`` at which the other services reach ``service``."""
        ...

    def listen(self, service: str, port: int) -> tuple[str, int]:
        """The host and port ``service`` listens on."""
        ...


@dataclass(frozen=True)
class ComposeLayout:
    """Docker compose: volumes at their targets, services by name on the compose network."""

    def path(self, mount: Mount, *parts: str) -> str:
        return str(PurePosixPath(mount.target, *parts))

    def parent(self, mount: Mount) -> str:
        return str(PurePosixPath(mount.target).parent)

    def address(self, service: str, port: int) -> str:
        return f"{service}:{port}"

    def listen(self, service: str, port: int) -> tuple[str, int]:
        return "0.0.0.0", port


@dataclass(frozen=True)
class LocalLayout:
    """The launcher: each volume a folder under the run directory, each service a loopback port, but
    for the two that hospitals on other machines reach (the chain's RPC and the Fleet gateway), which
    listen on ``public_host``."""

    #: Each volume's folder (the launcher adds one for each SuperNode it starts later).
    folders: dict[str, Path]
    ports: Mapping[str, int]
    #: The address other machines reach this one at (loopback: this machine's hospitals only).
    public_host: str = "127.0.0.1"

    def _host(self, service: str) -> str:
        return self.public_host if service in PUBLIC_SERVICES else "127.0.0.1"

    def path(self, mount: Mount, *parts: str) -> str:
        return str(self.folders[mount.volume].joinpath(*parts))

    def parent(self, mount: Mount) -> str:
        return str(self.folders[mount.volume].parent)

    def address(self, service: str, port: int) -> str:
        return f"{self._host(service)}:{self.ports[service]}"

    def listen(self, service: str, port: int) -> tuple[str, int]:
        return self._host(service), self.ports[service]


def local_folders(run_dir: Path, hospitals: list[str]) -> dict[str, Path]:
    """The run directory's folder for each volume."""
    return {
        "chain-data": run_dir / "chain",
        "deployment": run_dir,
        "coordinator": run_dir / "coordinator",
        "coordinator-run": run_dir,
        "superexec-secret": run_dir / "superexec",
        "tls": run_dir / "tls",
        # The CA certificate's public copy, beside the manifest.
        "consortium-ca": run_dir,
        "superlink-state": run_dir / "superlink",
        "node-sync": run_dir / "node-sync",
        # The dashboard keeps the run's one event index (the demo's summary syncs it too).
        "dashboard-index": run_dir,
        **{hospital_volume(name): run_dir / "hospitals" / name for name in hospitals},
        **{key_volume(name): run_dir / "hospitals" / name / KEY_DIR for name in hospitals},
        **{signer_volume(name): signer_folder(run_dir, name) for name in hospitals},
    }


def signer_folder(run_dir: Path, hospital: str) -> Path:
    """The launcher's folder for a hospital's signing-agent socket: under /tmp, since a run directory's
    path may be too long for a Unix socket's (107 bytes); one per run directory and hospital."""
    digest = hashlib.sha256(os.fsencode(run_dir.absolute())).hexdigest()[:12]
    return short_root() / digest / hospital


@dataclass(frozen=True)
class Plan:
    """What the demo settings (``.env``) fix: the roles' Anvil dev-account indices (PUBLIC keys: demo
    only), the SuperLink's port and the rounds each submitted run trains (compose interpolates it)."""

    admin_key: int
    coordinator_key: int
    superlink_port: int
    rounds: str = "${BCFL_ROUNDS:?see .env}"
    #: Hospitals each round waits for and samples (compose: BCFL_MIN_NODES, default all the demo's
    #: hospitals; a hospital joining with docker-compose.hospital.yml raises it). None: every hospital.
    min_nodes: str | None = None
    #: TLS and SuperNode authentication; False is the old ``--insecure`` stack (debugging only).
    secure: bool = True
    #: The demo consortium's differential privacy: its run setting and deployment budget
    #: (``DemoConsortium.dp_epsilon``, ``privacy_budget``). ``bcfl demo`` and compose: on.
    private: bool = False


def hospital_volume(name: str) -> str:
    """The volume (folder) that is one hospital's site."""
    return f"hospital-{name}"


def key_volume(name: str) -> str:
    """The volume holding one hospital's keystore and password (its folder's ``key/``)."""
    return f"hospital-{name}-key"


def signer_volume(name: str) -> str:
    """The volume holding one hospital's signing-agent socket, shared with its SuperExec only."""
    return f"signer-{name}"


def signer_name(hospital: str) -> str:
    """The service name of a hospital's signing agent."""
    return SIGNER_PREFIX + hospital


def supernode_name(hospital: str) -> str:
    """The service name of a hospital's SuperNode."""
    return SUPERNODE_PREFIX + hospital


def superexec_name(hospital: str) -> str:
    """The service name of the SuperExec that starts a hospital's apps."""
    return SUPEREXEC_PREFIX + hospital


def python_check(code: str) -> Health:
    """A health check running a line of Python."""
    return Health(("python", "-c", code))


DEPLOYMENT = Mount("deployment", "/data/deployment")
COORDINATOR = Mount("coordinator", "/data/coordinator")
COORDINATOR_RUN = Mount("coordinator-run", "/data/coordinator/run")
SECRET = Mount("superexec-secret", "/data/superexec")
CHAIN = Mount("chain-data", "/data/chain")
DASHBOARD_INDEX = Mount("dashboard-index", "/data/dashboard")
#: The consortium's CA and the SuperLink's certificate with their private keys.
TLS = Mount("tls", "/data/tls")
#: The CA certificate alone (public), for every party that dials the SuperLink.
CA = Mount("consortium-ca", "/data/ca")
CA_READ = Mount(CA.volume, CA.target, read_only=True)
SUPERLINK_STATE = Mount("superlink-state", "/data/superlink")
#: The coordinator's model store, in its run folder.
MODELS = "models"


def probe_host(host: str) -> str:
    """Where a service listening on ``host`` is probed from its own machine."""
    return "127.0.0.1" if host == "0.0.0.0" else host


def chain(layout: Layout) -> Service:
    """Anvil, keeping its state in its volume."""
    host, port = layout.listen("chain", CHAIN_PORT)
    probe = (
        "import urllib.request as u; u.urlopen(u.Request("
        f"'http://{probe_host(host)}:{port}', "
        """b'{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}', """
        "{'Content-Type': 'application/json'}), timeout=2)"
    )
    command = ("bcfl", "chain", "start", f"--host={host}", f"--port={port}")
    return Service(
        "chain",
        (*command, f"--state={layout.path(CHAIN, 'state.json')}"),
        mounts=(CHAIN,),
        health=python_check(probe),
        published=(f"127.0.0.1:${{BCFL_CHAIN_PORT:?see .env}}:{CHAIN_PORT}",),
        networks=(INTERNAL, FLEET),  # hospitals check their membership and sign their updates
    )


def rpc_url(layout: Layout) -> str:
    """The chain's JSON-RPC URL as the other services reach it."""
    return f"http://{layout.address('chain', CHAIN_PORT)}"


def deploy(layout: Layout, plan: Plan, demo: DemoConsortium, coordinator: str) -> Service:
    """One-shot: deploys the contracts, or reuses the live deployment after a restart."""
    return Service(
        "deploy",
        (
            "bcfl",
            "chain",
            "deploy",
            f"--rpc-url={rpc_url(layout)}",
            f"--dev-account={plan.admin_key}",
            f"--coordinator={coordinator}",
            f"--out={layout.path(DEPLOYMENT, MANIFEST)}",
            "--reuse",
            *demo.deploy_settings(private=plan.private),
        ),
        mounts=(DEPLOYMENT,),
        depends_on=(Dependency("chain", "service_healthy"),),
        restart="no",
    )


def tls_names(layout: Layout, plan: Plan) -> tuple[str, ...]:
    """The names the SuperLink's certificate must carry: the SuperLink's and the gateway's hosts as the
    other services dial them (loopback is always added, bcfl.flower.certs)."""
    return tuple(
        dict.fromkeys(
            layout.address(name, port).rsplit(":", 1)[0]
            for name, port in (("superlink", plan.superlink_port), (GATEWAY, GATEWAY_PORT))
        )
    )


def onboard(layout: Layout, plan: Plan, demo: DemoConsortium, hospitals: list[str]) -> Service:
    """One-shot: every demo hospital onboarded (its node key's fingerprint and the key itself on
    chain), the coordinator's keystore in place and the demo's app approved on chain (idempotent); with
    TLS, the consortium's CA and the SuperLink's certificate made, the CA certificate copied to every
    party, and the certificate pinned on chain with the gateway's address (what hospitals dial)."""
    sites = tuple(Mount(hospital_volume(name), f"/data/hospitals/{name}") for name in hospitals)
    keys = tuple(Mount(key_volume(name), f"/data/hospitals/{name}/{KEY_DIR}") for name in hospitals)
    tls: tuple[str, ...] = ()
    if plan.secure:
        tls = (
            f"--tls-dir={layout.path(TLS)}",
            *(f"--tls-name={name}" for name in tls_names(layout, plan)),
            f"--ca-dir={layout.path(CA)}",
            f"--tls-endpoint={layout.address(GATEWAY, GATEWAY_PORT)}",
        )
    return Service(
        "onboard",
        (
            "python",
            "-m",
            "bcfl.cli.demo_onboard",
            f"--rpc-url={rpc_url(layout)}",
            f"--manifest={layout.path(DEPLOYMENT, MANIFEST)}",
            f"--dev-account={plan.admin_key}",
            f"--consortium={demo.name}",
            f"--hospitals-dir={layout.parent(sites[0])}",
            *(f"--hospital={name}" for name in hospitals),
            f"--coordinator-dir={layout.path(COORDINATOR)}",
            f"--coordinator-dev-account={plan.coordinator_key}",
            f"--app-dir={APP_DIR}",
            *tls,
        ),
        mounts=(
            Mount("deployment", DEPLOYMENT.target, read_only=True),
            *sites,
            *keys,
            COORDINATOR,
            COORDINATOR_RUN,
            *((TLS, CA) if plan.secure else ()),
        ),
        depends_on=(Dependency("deploy", "service_completed_successfully"),),
        restart="no",
        # The coordinator's (empty) model store, so that the dashboard can read it from the start.
        creates_folders=(layout.path(COORDINATOR_RUN, MODELS),),
    )


def dashboard(layout: Layout, plan: Plan) -> Service:
    """``bcfl dashboard``, read only: the chain, the manifest and the coordinator's model store, no key;
    it keeps its own event index, and asks the SuperLink which SuperNodes are online."""
    host, port = layout.listen("dashboard", DASHBOARD_PORT)
    probe = f"import urllib.request as u; u.urlopen('http://127.0.0.1:{port}/readyz', timeout=2)"
    return Service(
        "dashboard",
        (
            "bcfl",
            "dashboard",
            f"--host={host}",
            f"--port={port}",
            f"--store={layout.path(COORDINATOR_RUN, MODELS)}",
        ),
        environment={
            "BCFL_RPC_URL": rpc_url(layout),
            "BCFL_MANIFEST": layout.path(DEPLOYMENT, MANIFEST),
            "BCFL_AUDIT_INDEX": layout.path(DASHBOARD_INDEX, INDEX_FILE),
            # The SuperLink's Control API (on its one port): it lists the SuperNodes.
            "BCFL_SUPERLINK": layout.address("superlink", plan.superlink_port),
            **(
                {"BCFL_DASHBOARD_SUPERLINK_ROOT_CERTIFICATES": layout.path(CA_READ, CA_CERT)}
                if plan.secure
                else {}
            ),
        },
        mounts=(
            Mount("deployment", DEPLOYMENT.target, read_only=True),
            Mount("coordinator-run", COORDINATOR_RUN.target, read_only=True),
            DASHBOARD_INDEX,
            *((CA_READ,) if plan.secure else ()),
        ),
        depends_on=(
            Dependency("chain", "service_healthy"),
            Dependency("onboard", "service_completed_successfully"),
        ),
        health=python_check(probe),
        published=(f"127.0.0.1:${{BCFL_DASHBOARD_PORT:?see .env}}:{DASHBOARD_PORT}",),
    )


def superlink(layout: Layout, plan: Plan) -> Service:
    """Flower's SuperLink: Fleet, Control and Runtime APIs on one port, on loopback or the compose
    network only (hospitals reach Fleet through the gateway); over TLS, admitting registered node keys
    only, kept in its database; it runs no app itself."""
    host, port = layout.listen("superlink", plan.superlink_port)
    tls_read = Mount(TLS.volume, TLS.target, read_only=True)
    security: tuple[str, ...] = ("--insecure",)
    if plan.secure:
        security = (
            f"--ssl-certfile={layout.path(tls_read, SERVER_CERT)}",
            f"--ssl-keyfile={layout.path(tls_read, SERVER_KEY)}",
            f"--ssl-ca-certfile={layout.path(tls_read, CA_CERT)}",
            "--enable-supernode-auth",
        )
    return Service(
        "superlink",
        (
            "flower-superlink",
            *security,
            f"--database={layout.path(SUPERLINK_STATE, SUPERLINK_DATABASE)}",
            "--isolation=process",
            "--disable-runtime-dependency-installation",
            f"--host={host}",
            f"--port={port}",
            f"--superexec-auth-secret-file={layout.path(SECRET, 'secret')}",
        ),
        mounts=(SECRET, SUPERLINK_STATE, *((tls_read,) if plan.secure else ())),
        depends_on=(Dependency("onboard", "service_completed_successfully"),) if plan.secure else (),
        health=python_check(f"import socket; socket.create_connection(('127.0.0.1', {port}), 2).close()"),
        creates_secret=layout.path(SECRET, "secret"),
        creates_folders=(layout.path(SUPERLINK_STATE),),
    )


def fleet_gateway(layout: Layout, plan: Plan) -> Service:
    """``bcfl fleet-gateway``: the SuperLink's Fleet API alone, over TLS with the SuperLink's
    certificate; every other path answers 404."""
    host, port = layout.listen(GATEWAY, GATEWAY_PORT)
    tls_read = Mount(TLS.volume, TLS.target, read_only=True)
    return Service(
        GATEWAY,
        (
            "bcfl",
            "fleet-gateway",
            f"--superlink={layout.address('superlink', plan.superlink_port)}",
            f"--certfile={layout.path(tls_read, SERVER_CERT)}",
            f"--keyfile={layout.path(tls_read, SERVER_KEY)}",
            f"--ca-certfile={layout.path(tls_read, CA_CERT)}",
            f"--host={host}",
            f"--port={port}",
        ),
        mounts=(tls_read,),
        depends_on=(Dependency("superlink", "service_healthy"),),
        health=python_check(
            f"import socket; socket.create_connection(('{probe_host(host)}', {port}), 2).close()"
        ),
        networks=(INTERNAL, FLEET),
    )


NODE_SYNC_STATE = Mount("node-sync", "/data/node-sync")
#: Written by the node sync once its first reconciliation is done: its health check.
NODE_SYNC_READY = "ready"


def node_sync(layout: Layout, plan: Plan) -> Service:
    """``bcfl superlink sync-nodes --follow``: the SuperLink admits the node keys active members
    published on chain, and no longer those of suspended, rejected or rotated-out members; healthy
    once its first reconciliation is done (bcfl.flower.node_sync)."""
    ready = layout.path(NODE_SYNC_STATE, NODE_SYNC_READY)
    return Service(
        NODE_SYNC,
        (
            "bcfl",
            "superlink",
            "sync-nodes",
            "--follow",
            f"--manifest={layout.path(DEPLOYMENT, MANIFEST)}",
            f"--rpc-url={rpc_url(layout)}",
            f"--superlink={layout.address('superlink', plan.superlink_port)}",
            f"--root-certificates={layout.path(CA_READ, CA_CERT)}",
            f"--ready-file={ready}",
            "--interval=1",
        ),
        mounts=(Mount("deployment", DEPLOYMENT.target, read_only=True), CA_READ, NODE_SYNC_STATE),
        depends_on=(
            Dependency("onboard", "service_completed_successfully"),
            Dependency("superlink", "service_healthy"),
        ),
        health=python_check(f"import os, sys; sys.exit(not os.path.exists({ready!r}))"),
        creates_folders=(layout.path(NODE_SYNC_STATE),),
    )


def coordinator(layout: Layout, plan: Plan) -> Service:
    """The ServerApp, launched by ``flower-superexec``; the only holder of the coordinator's settings."""
    security = (f"--root-certificates={layout.path(CA_READ, CA_CERT)}",) if plan.secure else ("--insecure",)
    return Service(
        "coordinator",
        (
            "flower-superexec",
            *security,
            f"--runtime-api-address={layout.address('superlink', plan.superlink_port)}",
            f"--superexec-auth-secret-file={layout.path(SECRET, 'secret')}",
        ),
        environment={
            **SUPEREXEC_POLL,
            "BCFL_RPC_URL": rpc_url(layout),
            "BCFL_MANIFEST": layout.path(DEPLOYMENT, MANIFEST),
            "BCFL_COORDINATOR_KEYSTORE": layout.path(COORDINATOR, KEYSTORE),
            "BCFL_COORDINATOR_PASSWORD_FILE": layout.path(COORDINATOR, PASSWORD_FILE),
            "BCFL_COORDINATOR_RUN_DIR": layout.path(COORDINATOR_RUN),
        },
        mounts=(
            Mount("deployment", DEPLOYMENT.target, read_only=True),
            COORDINATOR,
            COORDINATOR_RUN,
            Mount("superexec-secret", SECRET.target, read_only=True),
            *((CA_READ,) if plan.secure else ()),
        ),
        depends_on=(
            Dependency("onboard", "service_completed_successfully"),
            Dependency("superlink", "service_healthy"),
        ),
    )


SITE_TARGET = "/data/hospital"


def site_mount(hospital: str) -> Mount:
    """A hospital's own volume, as its SuperNode sees it."""
    return Mount(hospital_volume(hospital), SITE_TARGET)


def signer_mount(hospital: str) -> Mount:
    """A hospital's signing-agent socket volume, as its agent and its SuperExec see it."""
    return Mount(signer_volume(hospital), "/data/signer")


def signer_socket(layout: Layout, hospital: str) -> str:
    """The socket of a hospital's signing agent (in a folder of the agent's own, mode 0700)."""
    return layout.path(signer_mount(hospital), AGENT_DIR, SOCKET_NAME)


def node_settings(layout: Layout, demo: DemoConsortium, hospital: str) -> NodeSettings:
    """A hospital node's settings: its data, schema, manifest and proofs in its own volume, and its
    signing agent's socket (never the keystore nor its password)."""
    site = site_mount(hospital)
    return NodeSettings.model_validate(
        {
            "data-path": layout.path(site, demo.data_name),
            "schema-path": layout.path(site, SCHEMA),
            "signer-socket": signer_socket(layout, hospital),
            "rpc-url": rpc_url(layout),
            "manifest": layout.path(site, MANIFEST),
            "proofs-dir": layout.path(site, "proofs"),
        }
    )


def signer(layout: Layout, name: str) -> Service:
    """A hospital's signing agent (``bcfl-signer``): the only service given its keystore and password
    (read-only); no network at all, its socket on a volume shared with the hospital's SuperExec only;
    healthy once it accepts connections on its socket."""
    keys = Mount(key_volume(name), "/data/key", read_only=True)
    manifest = Mount("deployment", DEPLOYMENT.target, read_only=True)
    socket = signer_socket(layout, name)
    # The agent listens only once it has unlocked the key: a connection it accepts means it is ready
    # (and a connection closed without a request is not even logged).
    probe = f"import socket; s = socket.socket(socket.AF_UNIX); s.settimeout(2); s.connect({socket!r})"
    return Service(
        signer_name(name),
        (
            "bcfl-signer",
            f"--socket={socket}",
            f"--keystore={layout.path(keys, KEYSTORE)}",
            f"--password-file={layout.path(keys, PASSWORD_FILE)}",
            f"--manifest={layout.path(manifest, MANIFEST)}",
        ),
        mounts=(keys, manifest, signer_mount(name)),
        depends_on=(Dependency("onboard", "service_completed_successfully"),),
        health=python_check(probe),
        creates_folders=(layout.path(signer_mount(name)),),
        networks=(),
    )


def supernode(layout: Layout, plan: Plan, name: str, node_config: str) -> Service:
    """One hospital's SuperNode (``bcfl-supernode``: ``flower-supernode`` polling the SuperLink every
    0.5 s instead of 3 s), configured through ``--node-config``; it runs no app itself
    (``--isolation=process``) and serves its tasks only to the holder of the hospital's secret."""
    service = supernode_name(name)
    host, port = layout.listen(service, CLIENTAPPIO_PORT)
    site = site_mount(name)
    secret = layout.path(site, NODE_SECRET)
    link: tuple[str, ...] = ("--insecure", f"--superlink={layout.address('superlink', plan.superlink_port)}")
    after: tuple[Dependency, ...] = (Dependency("superlink", "service_healthy"),)
    if plan.secure:
        link = (
            f"--root-certificates={layout.path(site, CA_CERT)}",
            f"--auth-supernode-private-key={layout.path(site, NODE_KEY)}",
            f"--superlink={layout.address(GATEWAY, GATEWAY_PORT)}",
        )
        after = (
            Dependency(GATEWAY, "service_healthy"),
            Dependency(NODE_SYNC, "service_healthy"),
        )
    return Service(
        service,
        (
            "bcfl-supernode",
            *link,
            "--isolation=process",
            f"--host={host}",
            f"--port={port}",
            f"--superexec-auth-secret-file={secret}",
            f"--node-config={node_config}",
        ),
        mounts=(site,),
        depends_on=(Dependency("onboard", "service_completed_successfully"), *after),
        creates_secret=secret,
        networks=(FLEET,),
    )


def hospital_superexec(layout: Layout, name: str, node_config: str) -> Service:
    """The SuperExec that starts a hospital's ClientApps (``bcfl-superexec``): only those of an app the
    consortium approved on chain, read through the same node config as the SuperNode's; they sign
    through the hospital's signing agent (its socket's volume), once that is up."""
    site = site_mount(name)
    return Service(
        superexec_name(name),
        (
            "bcfl-superexec",
            "--insecure",
            f"--runtime-api-address={layout.address(supernode_name(name), CLIENTAPPIO_PORT)}",
            f"--superexec-auth-secret-file={layout.path(site, NODE_SECRET)}",
            f"--node-config={node_config}",
        ),
        environment=SUPEREXEC_POLL,
        mounts=(site, signer_mount(name)),
        depends_on=(
            Dependency(supernode_name(name), "service_started"),
            Dependency(signer_name(name), "service_healthy"),
        ),
        networks=(FLEET,),
    )


def hospital_services(layout: Layout, plan: Plan, name: str, node_config: str) -> tuple[Service, Service]:
    """A hospital's SuperNode and its SuperExec, both given ``node_config``."""
    return supernode(layout, plan, name, node_config), hospital_superexec(layout, name, node_config)


def hospital_signer_and_services(
    layout: Layout, plan: Plan, name: str, node_config: str
) -> tuple[Service, Service, Service]:
    """A hospital's signing agent, SuperNode and SuperExec, in start order."""
    return (signer(layout, name), *hospital_services(layout, plan, name, node_config))


#: A hospital's own node folder on its machine (docker-compose.hospital.yml), bind-mounted where the
#: demo's hospitals have their volume; compose interpolates the folder from .env or the environment.
NODE_DIR_ENV = "BCFL_NODE_DIR"
NODE_FOLDER = Mount(f"${{{NODE_DIR_ENV}:?see .env}}", SITE_TARGET)
NODE_SERVICE = "node"


def hospital_node(layout: Layout) -> Service:
    """A hospital's own node in a container (``docker-compose.hospital.yml``): ``bcfl node run`` on the
    folder ``bcfl node init`` made there, its signing agent, SuperNode and SuperExec in the
    foreground, configured by the folder's ``node.json`` alone; on the ``fleet`` network only (the
    chain's RPC and the Fleet gateway). The one-shot steps (``bcfl node init``, ``join``,
    ``doctor``) run in the same service with ``docker compose run``."""
    return Service(
        NODE_SERVICE,
        ("bcfl", "node", "run", layout.path(NODE_FOLDER)),
        mounts=(NODE_FOLDER,),
        networks=(FLEET,),
    )


def submit(layout: Layout, plan: Plan, demo: DemoConsortium, hospitals: list[str]) -> Service:
    """One-shot: ``flwr run`` of the Flower App; exits 0 only if the run completed."""
    run_config = " ".join(demo.run_settings(private=plan.private))
    ca = (f"--root-certificates={layout.path(CA_READ, CA_CERT)}",) if plan.secure else ()
    return Service(
        "submit",
        (
            "python",
            "-m",
            "bcfl.cli.demo_submit",
            f"--superlink={layout.address('superlink', plan.superlink_port)}",
            *ca,
            f"--app-dir={APP_DIR}",
            f"--rounds={plan.rounds}",
            f"--min-nodes={plan.min_nodes or len(hospitals)}",
            f"--run-config={run_config}",
        ),
        environment={"FLWR_HOME": "/tmp/flwr-home"},
        mounts=(CA_READ,) if plan.secure else (),
        depends_on=(
            Dependency("coordinator", "service_started"),
            *(Dependency(superexec_name(name), "service_started") for name in hospitals),
        ),
        restart="no",
    )


def consortium_services(
    layout: Layout, demo: DemoConsortium, hospitals: list[str], plan: Plan, coordinator_address: str
) -> tuple[Service, ...]:
    """Every service of the demo consortium, in start order."""
    configs = {name: node_settings(layout, demo, name).node_config_arg() for name in hospitals}
    nodes = tuple(
        s for name in hospitals for s in hospital_signer_and_services(layout, plan, name, configs[name])
    )
    secured = (fleet_gateway(layout, plan), node_sync(layout, plan)) if plan.secure else ()
    return (
        chain(layout),
        deploy(layout, plan, demo, coordinator_address),
        onboard(layout, plan, demo, hospitals),
        dashboard(layout, plan),
        superlink(layout, plan),
        *secured,
        coordinator(layout, plan),
        *nodes,
        submit(layout, plan, demo, hospitals),
    )


def shell_line(command: tuple[str, ...]) -> str:
    """A command as one shell line (for logs and messages)."""
    return shlex.join(command)
