"""docker-compose.yml, generated from the consortium's one description (bcfl.demo.topology).

``make compose-file`` (``python -m bcfl.demo.compose_file``) rewrites it from ``.env``'s consortium
and hospitals; a test checks that the committed file is what the description gives, service by service.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

from bcfl.chain.devkeys import dev_account
from bcfl.demo.consortia import CONSORTIA
from bcfl.demo.settings import DemoSettings, load_demo_settings
from bcfl.demo.topology import FLEET, ComposeLayout, Plan, Service, consortium_services
from bcfl.paths import REPO_ROOT

COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"
#: The image every service runs; BCFL_IMAGE names another (the compose test builds its own).
IMAGE = "${BCFL_IMAGE:-bcfl:local}"
#: The shell line that makes the SuperExec shared secret if it is missing (compose has no launcher).
MAKE_SECRET = "python -c 'import secrets, sys; sys.stdout.write(secrets.token_hex(32))'"
#: The fleet network's name, fixed (not prefixed by the compose project) so that a hospital's own
#: compose file (docker-compose.hospital.yml) can join it as an external network.
FLEET_NETWORK = "${BCFL_FLEET_NETWORK:?see .env}"
#: Hospitals each submitted run's rounds wait for and sample (default: the demo's hospitals).
MIN_NODES_ENV = "BCFL_MIN_NODES"

HEADER = """\
# GENERATED from bcfl/demo/topology.py and .env by `make compose-file`: edit those, not this file
# (tests/test_topology.py checks that this file is what they give).
#
# The demo consortium in containers: `docker compose up` (or Debian's `docker-compose up`).
# First run scripts/docker-setup.sh once: it installs and starts Docker where needed and builds the
# local base image (no registry is used). Settings (ports, rounds, hospitals) are in .env, which
# compose reads. Then `up` starts, in order:
#   chain       Anvil; its state is saved in the `chain-data` volume
#   deploy      one-shot: deploys the contracts, or reuses the live deployment after a restart
#   onboard     one-shot: the demo hospitals get their data, their own encrypted key (in their own
#               `hospital-*-key` volume), a Flower node
#               key (its fingerprint and the key itself on chain) and an approved membership; the
#               coordinator gets its keystore (and an empty model store); the App in /app (the one
#               `submit` runs) is approved on chain; the consortium's CA and the SuperLink's TLS
#               certificate are made (the `tls` volume), the CA certificate copied to every party and
#               the certificate pinned on chain with the gateway's address. What exists is reused.
#   dashboard   `bcfl dashboard` at http://127.0.0.1:${BCFL_DASHBOARD_PORT}/ (8600 in .env): members,
#               rounds, charts, live events, model provenance. Read only: no key, no password; the
#               manifest and the coordinator's model store mounted read-only; its event index in
#               its own volume. It asks the SuperLink which SuperNodes are online.
#   superlink   Flower's SuperLink over TLS, admitting registered node keys only (kept in its
#               database, in a volume); on the consortium-internal network only, never published
#               (its Control API, which submits runs, has no user authentication); isolation
#               "process": it runs no app itself; it creates the SuperExec shared secret on its
#               first start
#   fleet-gateway  `bcfl fleet-gateway`: the SuperLink's Fleet API alone, over TLS; every other
#               path answers 404. The SuperNodes dial it (on both networks)
#   node-sync   `bcfl superlink sync-nodes --follow`: follows the registry and registers with the
#               SuperLink the node keys active members published on chain; unregisters those of
#               suspended, rejected or rotated-out members (their SuperNodes are refused within
#               seconds). It sends no transaction and holds no key
#   coordinator the ServerApp (coordinator.server_app), launched by flower-superexec; it alone holds
#               the coordinator's key and settings, and keeps its models and journal in a volume
#   signer-*    each hospital's signing agent (bcfl-signer): the only service that mounts the
#               hospital's keystore and password (its `hospital-*-key` volume, read-only); it signs the
#               ClientApps' updates and evaluations over a Unix socket on the `signer-*` volume,
#               shared with that hospital's SuperExec only; no network at all (network_mode: none)
#   supernode-* one SuperNode per hospital (isolation "process": it runs no app itself), each with
#               only its own volume (data, node key, copies of the public manifest and CA
#               certificate; no keystore, no password), authenticated by its node key, over TLS to
#               the gateway; it creates the secret it shares with its SuperExec there on its first start
#   superexec-* each hospital's SuperExec (bcfl-superexec, same volume, and its signer's socket):
#               it starts the ClientApps, and only those of an app whose hash the consortium approved
#               on chain; they sign through the hospital's signer-*, never holding the key
#   submit      one-shot: `flwr run . --stream` of BCFL_ROUNDS rounds, each waiting for BCFL_MIN_NODES
#               nodes (default: every hospital above); exits 0 only if the run completed. Every
#               `up` submits one run; rounds continue on the chain.
# Networks: consortium-internal (chain, deploy, onboard, dashboard, superlink, fleet-gateway,
# node-sync, coordinator, submit) and fleet (chain, fleet-gateway, supernode-*, superexec-*): the
# hospitals' containers reach the chain's RPC and the gateway, never the SuperLink; signer-* is on
# none. The fleet network is named by BCFL_FLEET_NETWORK (.env): a hospital's own node
# (docker-compose.hospital.yml) joins it.
# `down` (without -v) keeps every volume, so the next `up` resumes: same contracts, same members.
# `down -v` resets the demo.
# DEMO ONLY: the admin and coordinator are Anvil's PUBLIC dev accounts. Flower traffic is TLS with
# SuperNode authentication; the SuperLink's Control API has no user authentication, so it stays on the
# consortium-internal network (see docs/operators.md, "The demo consortium in containers"). The dashboard has
# none either (it only reads): it is published on 127.0.0.1 alone (docs/dashboard.md, "Deployment").
"""


def demo_services(settings: DemoSettings) -> tuple[Service, ...]:
    """The services of ``.env``'s demo consortium, as compose runs them."""
    hospitals = settings.hospital_names
    min_nodes = f"${{{MIN_NODES_ENV}:-{len(hospitals)}}}"
    plan = Plan(
        settings.demo_admin_key,
        settings.demo_coordinator_key,
        settings.superlink_port,
        min_nodes=min_nodes,
        private=True,
    )
    coordinator = dev_account(settings.demo_coordinator_key).address
    demo = CONSORTIA[settings.consortium]
    return consortium_services(ComposeLayout(), demo, hospitals, plan, coordinator)


def compose_service(service: Service) -> dict[str, Any]:
    """One service as docker compose spells it."""
    command: list[str] = list(service.command)
    steps: list[str] = []
    if service.creates_folders:
        steps.append(shlex.join(["mkdir", "-p", *service.creates_folders]))
    if service.creates_secret is not None:
        secret = service.creates_secret
        steps.append(f"umask 077 && {{ test -s {secret} || {MAKE_SECRET} > {secret}; }}")
    if steps:
        command = ["sh", "-c", " && ".join([*steps, f"exec {shlex.join(command)}"])]
    spelled: dict[str, Any] = {"image": IMAGE}
    if service.name == "chain":
        spelled["build"] = "."  # the one service that builds the image every other one runs
    spelled["command"] = command
    if service.environment:
        spelled["environment"] = dict(service.environment)
    if service.mounts:
        spelled["volumes"] = [f"{m.volume}:{m.target}{':ro' if m.read_only else ''}" for m in service.mounts]
    if service.published:
        spelled["ports"] = list(service.published)
    if service.networks:
        spelled["networks"] = list(service.networks)
    else:  # no network at all (a hospital's signing agent: its socket is its only way in)
        spelled["network_mode"] = "none"
    if service.depends_on:
        spelled["depends_on"] = {d.service: {"condition": d.condition} for d in service.depends_on}
    if service.health is not None:
        health = service.health
        spelled["healthcheck"] = {
            "test": ["CMD", *health.test],
            "interval": f"{health.interval_s}s",
            "timeout": f"{health.timeout_s}s",
            "retries": health.retries,
        }
    spelled["restart"] = service.restart
    return spelled


def compose_document(services: tuple[Service, ...]) -> dict[str, Any]:
    """The whole compose file: every service, every named volume and network."""
    volumes = dict.fromkeys(m.volume for s in services for m in s.mounts)
    networks = dict.fromkeys(n for s in services for n in s.networks)
    return {
        "services": {s.name: compose_service(s) for s in services},
        "volumes": {name: None for name in volumes},
        "networks": {name: ({"name": FLEET_NETWORK} if name == FLEET else None) for name in networks},
    }


def compose_text(services: tuple[Service, ...]) -> str:
    """The compose file's text: the header, then the document."""
    return document_text(HEADER, compose_document(services))


def document_text(header: str, document: dict[str, Any]) -> str:
    """A compose file's text: ``header``, then ``document``, a blank line before each service and
    top-level key (PyYAML: a dev dependency)."""
    import yaml  # type: ignore[import-untyped]

    body = yaml.safe_dump(document, sort_keys=False, width=1_000_000)
    body = body.replace(": null\n", ":\n")
    services_part, rest = re.split(r"\n(?=(?:volumes|networks):\n)", body, maxsplit=1)
    services_part = re.sub(r"^(  [a-z][a-z0-9-]*:)$", r"\n\1", services_part, flags=re.MULTILINE)
    return f"{header}\n{services_part}\n\n{rest}"


def main(out: Path = COMPOSE_FILE) -> None:
    """Write docker-compose.yml from ``.env``'s demo consortium."""
    out.write_text(compose_text(demo_services(load_demo_settings())))


if __name__ == "__main__":
    main()
