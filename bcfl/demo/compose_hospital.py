"""docker-compose.hospital.yml: one hospital's own node in a container, generated (like
docker-compose.yml, bcfl.demo.compose_file) from the one description of services (bcfl.demo.topology).

``make compose-file`` (``python -m bcfl.demo.compose_hospital``) rewrites it; a test checks that the
committed file is what the description gives.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bcfl.demo.compose_file import FLEET_NETWORK, compose_service, document_text
from bcfl.demo.topology import (
    FLEET,
    NODE_DIR_ENV,
    NODE_FOLDER,
    NODE_SERVICE,
    ComposeLayout,
    Service,
    hospital_node,
)
from bcfl.paths import REPO_ROOT

SITE = NODE_FOLDER.target
HOSPITAL_COMPOSE_FILE = REPO_ROOT / "docker-compose.hospital.yml"
#: The project name the header's commands give (``-p``): not the demo consortium's, so that neither
#: file's commands touch the other's containers (docker-compose 1.x has no ``name:`` key).
PROJECT = "bcfl-hospital"

HEADER = f"""\
# GENERATED from bcfl/demo/topology.py by `make compose-file`: edit that, not this file
# (tests/test_topology.py checks that this file is what it gives).
#
# One hospital's own node in a container (docs/hospital-node.md, "In containers"). Its one volume is
# the node's folder on this machine ({NODE_DIR_ENV} in .env or the environment), mounted at
# {SITE}. Put the consortium's deployment.json and schema.json, the hospital's extract and a
# keystore password file there, then run each step as a one-shot command (C is
# `docker compose -f docker-compose.hospital.yml -p {PROJECT}`; the project name keeps this file's
# containers apart from the demo consortium's on the same machine):
#   C run --rm {NODE_SERVICE} bcfl node init {SITE} --manifest {SITE}/deployment.json \\
#       --rpc-url http://chain:8545 --data {SITE}/data.csv --schema {SITE}/schema.json \\
#       --password-file {SITE}/keystore.password --name "St Mary"
#   C run --rm {NODE_SERVICE} bcfl node join {SITE}
#   (the admin funds the key and approves the membership; node-sync registers the node key)
#   C run --rm {NODE_SERVICE} bcfl node doctor {SITE}
#   C up -d
# `up` runs `bcfl node run`: the doctor's quick checks, then the signing agent (the one process that
# reads the password file; the ClientApps sign through its socket, signer/agent.sock in the folder),
# the SuperNode and its SuperExec in the foreground (their output is the container's log); the
# container is restarted if any of them stops.
# Network: the demo consortium's `fleet` network (named by BCFL_FLEET_NETWORK, set once in .env),
# joined as an external network: the chain's RPC (chain:8545) and the Fleet gateway
# (fleet-gateway:9443), never the SuperLink. For another consortium, give init its RPC URL and
# replace that network by one that reaches the consortium's published addresses.
"""


def hospital_document(service: Service) -> dict[str, Any]:
    """The hospital's compose file: the node service and the external fleet network."""
    spelled = compose_service(service)
    spelled["build"] = "."  # a hospital with this repository builds the image; the demo's is reused
    return {
        "services": {service.name: spelled},
        "networks": {FLEET: {"name": FLEET_NETWORK, "external": True}},
    }


def hospital_text() -> str:
    """docker-compose.hospital.yml's text."""
    return document_text(HEADER, hospital_document(hospital_node(ComposeLayout())))


def main(out: Path = HOSPITAL_COMPOSE_FILE) -> None:
    """Write docker-compose.hospital.yml."""
    out.write_text(hospital_text())


if __name__ == "__main__":
    main()
