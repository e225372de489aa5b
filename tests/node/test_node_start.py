"""``bcfl node doctor / start / stop`` against a real ``flower-superlink`` (TLS, SuperNode
authentication) behind the Fleet gateway, as the demo starts them, and a real Anvil: the hospital's
folder is made by ``bcfl node init`` (pinning the CA from the gateway's handshake), joined and
approved on chain; the SuperLink refuses the node until its key is registered, then admits it."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from bcfl.chain.anvil import free_port
from bcfl.chain.client import ChainClient
from bcfl.chain.consortium import Consortium
from bcfl.chain.deploy import deploy_consortium
from bcfl.chain.fingerprints import certificate_fingerprint
from bcfl.cli.main import app
from bcfl.demo.heart import prepare_heart_hospitals
from bcfl.demo.processes import FlowerDeployment, base_env
from bcfl.demo.tls_setup import prepare_tls
from bcfl.demo.topology import GATEWAY, LocalLayout, Plan, fleet_gateway, local_folders, superlink, tls_names
from bcfl.flower.certs import CA_CERT, TlsFiles
from bcfl.flower.control import ControlClient
from bcfl.flower.node_follower import reconcile
from bcfl.flower.node_keys import load_node_key
from bcfl.flower.node_sync import SyncResult
from hospital_node.site.processes import alive
from tests.chain.helpers import prepare_rounds
from tests.conftest import Actors

ENV = {"BCFL_KEYSTORE_PASSWORD": "correct horse battery"}
WAIT_S = "120"


@dataclass(frozen=True)
class Link:
    superlink: str
    gateway: str
    ca: Path
    tls: TlsFiles


def invoke(*args: str) -> Result:
    return CliRunner().invoke(app, list(args), env=ENV)


@pytest.fixture(scope="module")
def link(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Link]:
    run_dir = tmp_path_factory.mktemp("link")
    ports = {"superlink": free_port(), GATEWAY: free_port()}
    layout = LocalLayout(local_folders(run_dir, []), ports)
    plan = Plan(0, 1, ports["superlink"], rounds="0")
    tls = prepare_tls(
        layout.folders["tls"], tls_names(layout, plan), layout.folders["consortium-ca"], [], "test"
    )
    flower = FlowerDeployment(run_dir / "logs", base_env(run_dir / "flwr-home"), layout, plan, ports)
    try:
        flower.start(superlink(layout, plan))
        flower.start(fleet_gateway(layout, plan))
        yield Link(
            layout.address("superlink", plan.superlink_port),
            f"127.0.0.1:{ports[GATEWAY]}",
            layout.folders["consortium-ca"] / CA_CERT,
            tls,
        )
    finally:
        flower.stop()


def checks(folder: Path) -> tuple[int, dict[str, dict[str, str]]]:
    result = invoke("node", "doctor", str(folder), "--format", "json")
    return result.exit_code, {c["name"]: c for c in json.loads(result.stdout)["checks"]}


def joined_node(link: Link, client: ChainClient, actors: Actors, tmp_path: Path) -> tuple[Consortium, Path]:
    """A new consortium pinning the gateway's certificate, and a hospital's folder made by ``init``
    (pinning the CA from the gateway's handshake), joined and approved as member #1."""
    consortium = Consortium.connect(
        client, deploy_consortium(client, actors.admin, coordinator=actors.coordinator.address)
    )
    prepare_rounds(consortium, actors.admin)
    fingerprint = certificate_fingerprint(link.tls.server_cert.read_bytes())
    consortium.registry.set_superlink_certificate(actors.admin, fingerprint, link.gateway)
    manifest = tmp_path / "deployment.json"
    consortium.manifest.save(manifest)
    (hospital,) = prepare_heart_hospitals(tmp_path / "given", ["hungary"])
    folder = tmp_path / "st-mary"
    made = invoke(
        "node", "init", str(folder), "--manifest", str(manifest), "--rpc-url", client.rpc_url,
        "--data", str(hospital.data), "--schema", str(hospital.schema), "--format", "json",
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    assert json.loads(made.stdout)["pinned"] == "0x" + fingerprint.hex()
    assert (folder / "ca.crt").read_bytes() == link.ca.read_bytes()  # from the gateway's handshake
    address = json.loads((folder / "keystore.json").read_text())["address"]
    client.transfer(actors.admin, client.w3.to_checksum_address("0x" + address), 10**17)
    assert invoke("node", "join", str(folder)).exit_code == 0
    consortium.registry.approve(actors.admin, 1)
    return consortium, folder


def test_a_node_is_refused_until_its_key_is_registered_then_starts_and_stops(
    link: Link, client: ChainClient, actors: Actors, tmp_path: Path
) -> None:
    _, folder = joined_node(link, client, actors, tmp_path)

    code, report = checks(folder)
    assert code == 1 and report["superlink"]["status"] == "ok", report["superlink"]
    assert "does not know this node's key" in report["admission"]["detail"]
    refused = invoke("node", "start", str(folder), "--wait", WAIT_S)
    assert refused.exit_code == 1 and "not starting: admission" in refused.output
    assert not (folder / "supernode.pid").exists()

    with ControlClient(link.superlink, link.ca) as control:
        control.register(load_node_key(folder / "node.key").spki_pem, "st-mary")
    code, report = checks(folder)
    assert report["admission"]["status"] == "ok", report["admission"]
    assert code == 0, report
    with ControlClient(link.superlink, link.ca) as control:
        (listed,) = control.nodes()
    assert listed.status == "registered"  # the doctor's probe activated nothing

    started = invoke("node", "start", str(folder), "--wait", WAIT_S, "--format", "json")
    try:
        assert started.exit_code == 0, started.output
        pids = json.loads(started.stdout)
        assert not pids["already_running"] and alive(pids["supernode_pid"]) and alive(pids["superexec_pid"])
        assert alive(pids["signer_pid"])
        assert "SuperNode ID:" in (folder / "logs" / "supernode.log").read_text()
        # The signing agent alone has the keystore's password; the SuperNode and the SuperExec (whose
        # children are the ClientApps) get neither the password nor the keystore, only the socket.
        assert ENV["BCFL_KEYSTORE_PASSWORD"].encode() in environ(pids["signer_pid"])
        for name in ("supernode_pid", "superexec_pid"):
            assert ENV["BCFL_KEYSTORE_PASSWORD"].encode() not in environ(pids[name]), name
            assert b"BCFL_KEYSTORE_PASSWORD" not in environ(pids[name]), name
            command = Path(f"/proc/{pids[name]}/cmdline").read_bytes()
            assert b"keystore" not in command and b"password" not in command and b"signer-socket" in command
        code, report = checks(folder)
        assert report["signer"]["status"] == "ok" and "running" in report["signer"]["detail"], report
        assert report["signer"]["detail"].lower().endswith(address_of(folder))
        again = json.loads(invoke("node", "start", str(folder), "--format", "json").stdout)
        assert again["already_running"] and again["supernode_pid"] == pids["supernode_pid"]
        os.kill(pids["superexec_pid"], signal.SIGTERM)  # one of the two dies: start restarts both
        deadline = time.monotonic() + 60
        while alive(pids["superexec_pid"]) and time.monotonic() < deadline:
            time.sleep(0.1)
        restarted = invoke("node", "start", str(folder), "--wait", WAIT_S, "--format", "json")
        assert restarted.exit_code == 0, restarted.output
        assert not json.loads(restarted.stdout)["already_running"] and not alive(pids["supernode_pid"])
        pids = json.loads(restarted.stdout)
    finally:
        stopped = invoke("node", "stop", str(folder), "--format", "json")
    assert stopped.exit_code == 0, stopped.output
    assert set(json.loads(stopped.stdout)["stopped"]) == {"signer", "supernode", "superexec"}
    assert not alive(pids["supernode_pid"]) and not alive(pids["superexec_pid"])
    assert not alive(pids["signer_pid"]) and not (folder / "signer" / "agent.sock").exists()
    assert not any(name.endswith(".pid") for name in os.listdir(folder))
    assert "was not running" in invoke("node", "stop", str(folder)).output

    # `bcfl node run` (a container's command): the same three processes in the foreground, their
    # output on its own; any one stopping stops the others, and SIGTERM stops all.
    code, output, children = run_in_foreground(folder, stop=lambda kids: os.kill(kids[2], signal.SIGKILL))
    assert code == 1 and "the superexec stopped" in output, output[-3000:]
    assert not any(alive(pid) for pid in children)
    code, output, children = run_in_foreground(folder, stop=lambda kids: os.kill(kids[0], signal.SIGKILL))
    assert code == 1 and "the signer stopped" in output, output[-3000:]
    assert not any(alive(pid) for pid in children)
    code, output, children = run_in_foreground(folder, stop=None)
    assert code == 0 and "stopped the node's processes" in output, output[-3000:]
    assert not any(alive(pid) for pid in children) and not (folder / "supernode.pid").exists()


def environ(pid: int) -> bytes:
    """A process's environment, as the kernel keeps it."""
    return Path(f"/proc/{pid}/environ").read_bytes()


def address_of(folder: Path) -> str:
    return "0x" + str(json.loads((folder / "keystore.json").read_text())["address"]).lower()


def run_in_foreground(
    folder: Path, stop: Callable[[tuple[int, int, int]], None] | None
) -> tuple[int, str, tuple[int, int, int]]:
    """`bcfl node run FOLDER` until its SuperNode connected; then ``stop`` its children (None: SIGTERM
    to the command). Its exit code, its output and its children's pids."""
    log = folder.parent / "foreground.log"
    with open(log, "wb") as handle:
        command = subprocess.Popen(
            [str(Path(sys.executable).with_name("bcfl")), "node", "run", str(folder)],
            stdout=handle,
            stderr=subprocess.STDOUT,
            env={**os.environ, **ENV},
        )
    try:
        deadline = time.monotonic() + float(WAIT_S)
        while "SuperNode ID:" not in log.read_text() and command.poll() is None:
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.2)
        found = re.search(
            r"signing agent\s+\(pid (\d+)\),\s+SuperNode\s+\(pid (\d+)\)\s+and\s+SuperExec\s+\(pid (\d+)\)",
            log.read_text(),
        )
        assert found and command.poll() is None, log.read_text()[-3000:]
        children = (int(found.group(1)), int(found.group(2)), int(found.group(3)))
        if stop is None:
            command.send_signal(signal.SIGTERM)
        else:
            stop(children)
        code = command.wait(timeout=60)
    finally:
        if command.poll() is None:
            command.kill()
    return code, log.read_text(), children


def test_a_reinstated_member_is_admitted_again_after_rotate_key(
    link: Link, client: ChainClient, actors: Actors, tmp_path: Path
) -> None:
    """Through the node sync and the real SuperLink: suspended, the key is dropped for good; reinstated,
    the node stays refused until ``rotate-key``, after which the sync registers the new key."""
    consortium, folder = joined_node(link, client, actors, tmp_path)
    registry = consortium.registry

    def sync() -> SyncResult:
        return reconcile(registry, lambda: ControlClient(link.superlink, link.ca))

    assert [c.member_id for c in sync().registered] == [1]
    assert checks(folder)[1]["admission"]["status"] == "ok"
    registry.suspend(actors.admin, 1, "TEST: audit")
    assert [c.reason for c in sync().unregistered] == ["suspended"]
    registry.reinstate(actors.admin, 1)
    (problem,) = sync().problems
    assert "bcfl node rotate-key" in problem.message
    code, report = checks(folder)
    assert code == 1 and report["admission"]["status"] == "fail", report["admission"]
    assert "was suspended" in report["node key"]["detail"] and "rotate-key" in report["node key"]["detail"]

    rotated = invoke("node", "rotate-key", str(folder), "--format", "json")
    assert rotated.exit_code == 0, rotated.output
    new = json.loads(rotated.stdout)["node_key_fingerprint"]
    back = sync()
    assert ["0x" + c.fingerprint.hex() for c in back.registered] == [new] and not back.problems
    code, report = checks(folder)
    assert report["admission"]["status"] == "ok" and code == 0, report
