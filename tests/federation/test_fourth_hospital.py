"""A fourth hospital joins a running consortium from another network host, as its IT staff would.

The consortium runs as ``bcfl demo`` runs it (three heart hospitals, the node sync, Flower over TLS
with SuperNode authentication behind the Fleet gateway), its chain and gateway listening on the veth
address of a network namespace of the test's own (tests.netns). Inside that namespace, with its own
folder and nothing but the public manifest, the new hospital runs ``bcfl node init`` (pinning the
gateway's certificate from the chain), ``join``, ``doctor`` and ``start``; the admin funds and
approves it with ``bcfl member``; it takes part in the next round and its update is on chain. A node
whose request is still pending is refused by the SuperLink; once suspended, the fourth hospital's
node is dropped by Flower and the next round goes on without it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from web3 import Web3

from bcfl.demo.federation import FederationRun, start_federation
from bcfl.demo.heart import prepare_heart_hospitals
from bcfl.demo.processes import BIN
from hospital_node.site.processes import alive
from tests.netns import NetworkHost, network_host

HOSPITALS = ["cleveland", "hungary", "va-long-beach"]
PASSWORD = "correct horse battery staple"
#: Generous: CI machines are busy.
COMMAND_TIMEOUT_S = 600
SYNC_WAIT_S = 180.0


@dataclass(frozen=True)
class Site:
    """The consortium, and the other host a new hospital joins it from."""

    run: FederationRun
    host: NetworkHost
    root: Path

    def hospital(self, *args: str) -> subprocess.CompletedProcess[str]:
        """``bcfl ARGS`` on the hospital's host (the network namespace)."""
        env = {"PATH": os.environ["PATH"], "HOME": str(self.root), "BCFL_KEYSTORE_PASSWORD": PASSWORD}
        return subprocess.run(
            self.host.command([str(BIN / "bcfl"), *args]),
            env=env,
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT_S,
        )

    def admin(self, *args: str) -> subprocess.CompletedProcess[str]:
        """``bcfl ARGS`` as the admin, on the consortium's host (Anvil's dev key 0: demo only)."""
        return subprocess.run(
            [
                str(BIN / "bcfl"),
                *args,
                # `member fund` sends plain ether: it needs no contract, so no manifest.
                *(["--manifest", str(self.run.manifest_path)] if args[:2] != ("member", "fund") else []),
                "--rpc-url",
                self.run.node.rpc_url,
                "--dev-account",
                "0",
            ],
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT_S,
        )

    def new_folder(self, name: str, centre: str) -> Path:
        """``bcfl node init`` of a new hospital with ``centre``'s records, on the other host."""
        given = self.root / f"{name}-given"  # what the hospital holds before it starts
        (prepared,) = prepare_heart_hospitals(given, [centre])
        shutil.copy(self.run.manifest_path, given / "deployment.json")  # the public manifest
        folder = self.root / name
        made = self.hospital(
            "node", "init", str(folder), "--manifest", str(given / "deployment.json"),
            "--rpc-url", self.run.node.rpc_url, "--data", str(prepared.data),
            "--schema", str(prepared.schema), "--name", name, "--format", "json",
        )  # fmt: skip
        assert made.returncode == 0, made.stderr + made.stdout
        assert json.loads(made.stdout)["warnings"] == [], made.stdout
        return folder


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with network_host("h4") as host:
        root = tmp_path_factory.mktemp("fourth")
        run = start_federation(root / "run", HOSPITALS, public_host=host.gateway_ip)
        try:
            yield Site(run, host, root)
        finally:
            run.stop()


def address_of(folder: Path) -> str:
    return "0x" + str(json.loads((folder / "keystore.json").read_text())["address"]).lower()


def doctor(site: Site, folder: Path) -> tuple[int, dict[str, dict[str, str]]]:
    result = site.hospital("node", "doctor", str(folder), "--format", "json")
    return result.returncode, {c["name"]: c for c in json.loads(result.stdout)["checks"]}


def doctor_until_ok(site: Site, folder: Path) -> dict[str, dict[str, str]]:
    """The doctor's checks once all pass (the node sync registers the key within seconds)."""
    deadline = time.monotonic() + SYNC_WAIT_S
    while True:
        code, checks = doctor(site, folder)
        if code == 0 or time.monotonic() > deadline:
            assert code == 0, {k: v for k, v in checks.items() if v["status"] != "ok"}
            return checks
        time.sleep(2)


def test_a_fourth_hospital_joins_from_another_host_and_trains_in_the_next_round(site: Site) -> None:
    run = site.run
    consortium = run.consortium()
    # The other host reaches this machine only at the veth address: not at its loopback.
    probe = site.host.command(
        ["python3", "-c", f"import socket; socket.create_connection(('127.0.0.1', {run.node.port}), 2)"]
    )
    assert subprocess.run(probe, capture_output=True, timeout=60).returncode != 0
    assert run.node.rpc_url.startswith(f"http://{site.host.gateway_ip}:")

    folder = site.new_folder("st-gallen", "switzerland")
    assert json.loads((folder / "node.json").read_text())["superlink"].startswith(site.host.gateway_ip)
    assert run.ca_cert is not None and (folder / "ca.crt").read_bytes() == run.ca_cert.read_bytes()

    unfunded = site.hospital("node", "join", str(folder))
    told = (unfunded.stderr + unfunded.stdout).lower()
    assert unfunded.returncode == 1 and f"bcfl member fund {address_of(folder)}" in told, told
    assert consortium.registry.member_id_of(Web3.to_checksum_address(address_of(folder))) == 0  # nothing sent
    funded = site.admin("member", "fund", address_of(folder), "--amount", "0.1")
    assert funded.returncode == 0, funded.stderr + funded.stdout

    joined = site.hospital("node", "join", str(folder), "--format", "json")
    assert joined.returncode == 0, joined.stderr + joined.stdout
    request = json.loads(joined.stdout)
    assert request["status"] == "pending" and request["node_key_published"]
    member_id = int(request["member_id"])

    # Still pending: the SuperLink does not know its key, so the node does not start.
    code, checks = doctor(site, folder)
    assert code == 1 and checks["membership"]["status"] != "ok" and checks["admission"]["status"] != "ok"
    refused = site.hospital("node", "start", str(folder))
    assert refused.returncode == 1 and "not starting" in refused.stderr + refused.stdout
    assert "Traceback" not in refused.stderr + refused.stdout

    approved = site.admin("member", "approve", str(member_id))
    assert approved.returncode == 0, approved.stderr + approved.stdout
    checks = doctor_until_ok(site, folder)
    assert {c["status"] for c in checks.values()} == {"ok"}

    started = site.hospital("node", "start", str(folder), "--wait", "180")
    assert started.returncode == 0, started.stderr + started.stdout
    try:
        assert run.flwr_run(1, extra_config=["min-nodes=4"]) == 0
        chain_round = consortium.ledger.round_count()
        members = sorted(u.member_id for u in consortium.ledger.updates(round_number=chain_round))
        assert members == sorted([*(h.member_id for h in run.hospitals), member_id])
        assert consortium.ledger.get_round(chain_round).status.name == "FINALIZED"

        # Suspended: the node sync unregisters its key and Flower drops the node; the ledger's
        # next round goes on without it.
        suspended = site.admin("member", "suspend", str(member_id), "--reason", "test: audit pending")
        assert suspended.returncode == 0, suspended.stderr + suspended.stdout
        supernode_pid = int((folder / "supernode.pid").read_text())
        deadline = time.monotonic() + SYNC_WAIT_S
        while alive(supernode_pid) and time.monotonic() < deadline:
            time.sleep(1)
        assert not alive(supernode_pid), "the suspended hospital's SuperNode is still connected"
        code, checks = doctor(site, folder)
        assert code == 1 and checks["membership"]["status"] != "ok"
        assert run.flwr_run(1) == 0
        after = consortium.ledger.updates(round_number=consortium.ledger.round_count())
        assert member_id not in {u.member_id for u in after} and len(after) == len(HOSPITALS)
    finally:
        site.hospital("node", "stop", str(folder))
