"""docker-compose.hospital.yml for real: a fourth hospital joins the running demo stack from its own
compose file, and its update is in the next run's round on chain.

The demo stack (docker-compose.yml, three hospitals) trains one round. Then the hospital's IT, with
only its own folder (a bind mount) and the `fleet` network, runs `bcfl node init`, `join` and
`doctor` as `docker compose run` one-shots; the admin funds and approves through `docker compose run`
in the demo's file; node-sync registers the node key; doctor is all ok; `up` starts `bcfl node run`;
the SuperLink lists four nodes online; the next run (min-nodes 4) finalizes a round with four updates.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bcfl.chain.ledger import RoundStatus
from bcfl.chain.registry import MemberStatus
from bcfl.demo.heart import prepare_heart_hospitals
from tests.test_compose import HOSPITALS, Compose, compose_stack, docker

pytestmark = pytest.mark.compose
REPO = Path(__file__).resolve().parent.parent
NEW = "switzerland"
SITE = "/data/hospital"
MAIN_MANIFEST = "/data/deployment/deployment.json"
RPC = "http://chain:8545"


@pytest.fixture(scope="module")
def stack() -> Iterator[Compose]:
    with compose_stack() as runner:
        yield runner


def json_out(done: Any) -> Any:
    """The JSON a `--format json` command printed (compose may print warnings before it)."""
    text = done.stdout
    return json.loads(text[text.index("{") :])


def admin(stack: Compose, *args: str) -> Any:
    """An admin command in the demo's file, in a one-shot container of the `deploy` service (the
    image's tools, the manifest's volume, the consortium-internal network)."""
    done = stack.run(
        "run", "--rm", "--no-deps", "deploy", "bcfl", *args, "--rpc-url", RPC, "--dev-account", "0",
        "--format", "json", check=False, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return json_out(done)


def wait_for(what: str, probe: Any, timeout_s: float = 180) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        value = probe()
        if value:
            return value
        assert time.monotonic() < deadline, f"{what}: not after {timeout_s}s"
        time.sleep(2)


@pytest.mark.timeout(2400)
def test_a_fourth_hospital_joins_from_its_own_compose_file(stack: Compose, tmp_path: Path) -> None:
    stack.up_and_train(rounds=1)
    # The hospital's folder on its machine: the consortium's manifest and schema, its extract, a
    # password file; nothing else.
    folder = tmp_path / NEW
    prepare_heart_hospitals(tmp_path, [NEW])
    stack.manifest(folder)  # copies deployment.json into the folder
    (folder / "keystore.password").write_text("switzerland-node-password\n")
    pid = os.getpid()
    hospital = Compose(
        [*stack.command, "-f", "docker-compose.hospital.yml", "-p", f"bcfltest{pid}-hospital"],
        {**stack.env, "BCFL_NODE_DIR": str(folder)},
        stack.port,
        stack.dashboard_port,
    )
    try:
        run_the_hospital(stack, hospital, folder)
    finally:
        down = hospital.run("down", check=False)  # before the stack's `down -v` removes the network
        assert down.returncode == 0, down.stderr


def node(hospital: Compose, *args: str, check: bool = True) -> Any:
    done = hospital.run("run", "--rm", "node", "bcfl", "node", *args, "--format", "json", check=False)
    if check:
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done


def run_the_hospital(stack: Compose, hospital: Compose, folder: Path) -> None:
    init = json_out(
        node(
            hospital, "init", SITE, f"--manifest={SITE}/deployment.json", f"--rpc-url={RPC}",
            f"--data={SITE}/data.csv", f"--schema={SITE}/schema.json",
            f"--password-file={SITE}/keystore.password", f"--name={NEW}",
        )
    )  # fmt: skip
    # The SuperLink address and its CA came from the chain (pinned), the fleet gateway's.
    assert init["superlink"] == "fleet-gateway:9443" and init["pinned"], init
    config = json.loads((folder / "node.json").read_text())
    assert config["rpc_url"] == RPC and config["data"] == f"{SITE}/data.csv"
    assert {"keystore.json", "node.key", "node.key.pub", "ca.crt", "node.json"} <= {
        p.name for p in folder.iterdir()
    }
    # A fresh key has no ether: join says so (exit 1) and sends nothing; the admin funds it.
    refused = node(hospital, "join", SITE, check=False)
    assert refused.returncode == 1 and "bcfl member fund" in refused.stderr, refused.stderr[-2000:]
    admin(stack, "member", "fund", init["address"])
    joined = json_out(node(hospital, "join", SITE))
    assert joined["status"] == "pending" and joined["node_key_published"], joined
    member_id = joined["member_id"]
    approved = admin(stack, "member", "approve", str(member_id), "--manifest", MAIN_MANIFEST)
    assert approved, approved

    consortium = stack.consortium(folder.parent)
    assert consortium.registry.member(member_id).status is MemberStatus.ACTIVE
    # node-sync follows the registry: the new member's published node key is registered.
    wait_for(
        "node-sync registers the new key",
        lambda: re.search(rf"registered member #{member_id} \({NEW}\) as node \d+", stack.logs("node-sync")),
    )
    doctor = node(hospital, "doctor", SITE)
    report = json_out(doctor)
    assert report["ok"] and all(c["status"] == "ok" for c in report["checks"] if c["name"] != "clock"), report

    up = hospital.run("up", "-d", check=False)
    assert up.returncode == 0, up.stderr[-3000:]
    # The SuperLink lists four SuperNodes online (the dashboard asks its Control API).
    online = wait_for(
        "four nodes online",
        lambda: stack.dashboard("/api/v1/status")["nodes"]["online"] == len(HOSPITALS) + 1,
    )
    assert online, hospital.logs()[-4000:]
    # The node's container holds its folder only, on the fleet network only.
    container = hospital.container("node")
    mounts = json.loads(docker("inspect", "-f", "{{json .Mounts}}", container))
    assert [(m["Destination"], m["Source"]) for m in mounts] == [(SITE, str(folder))]
    networks = json.loads(docker("inspect", "-f", "{{json .NetworkSettings.Networks}}", container))
    assert list(networks) == [stack.env["BCFL_FLEET_NETWORK"]]
    probe = "import socket; socket.getaddrinfo('superlink', None)"
    reach = subprocess.run(
        ["docker", "exec", container, "python", "-c", probe], capture_output=True, text=True, check=False
    )
    assert reach.returncode != 0 and "gaierror" in reach.stderr, reach.stderr

    # The next run waits for four nodes and samples all: the round has the fourth hospital's update.
    stack.env = {**stack.env, "BCFL_MIN_NODES": str(len(HOSPITALS) + 1)}
    submitted = stack.run("run", "--rm", "--no-deps", "submit", check=False, timeout=900, rounds=1)
    assert submitted.returncode == 0, submitted.stdout[-4000:] + hospital.logs()[-4000:]
    members = {m.name: m.member_id for m in consortium.registry.members()}
    record = consortium.ledger.get_round(2)
    assert record.status is RoundStatus.FINALIZED
    updates = consortium.ledger.updates(round_number=2)
    assert {u.member_id for u in updates} == set(members.values()) and members[NEW] == member_id
    assert "is approved on chain: starting task" in hospital.logs("node")
