"""The node sync through the real stack: a real Anvil with the registry compiled from source, a real
``flower-superlink`` over TLS with ``--enable-supernode-auth`` behind the Fleet gateway (as the demo's
topology starts them), real ``flower-supernode`` processes, and ``bcfl superlink sync-nodes``.

Approved and published: the key is registered and its SuperNode admitted; suspended: unregistered and
the running SuperNode dropped; reinstated: a problem until the hospital rotates its key; rotated: old
key out, new key in; never approved: never registered; a bad key on chain: reported, not a crash."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from eth_account.signers.local import LocalAccount
from typer.testing import CliRunner

from bcfl.chain.anvil import AnvilNode, free_port
from bcfl.chain.consortium import Consortium
from bcfl.chain.fingerprints import openssh_key_blob
from bcfl.cli.main import app
from bcfl.flower.node_follower import reconcile
from bcfl.flower.node_keys import NodeKey, ensure_node_key
from bcfl.flower.node_sync import SyncResult
from tests.conftest import Actors
from tests.flower.tls_stack import TlsStack, tls_stack

#: Each node's folder (its key, the CA); one hospital's first and its rotated key are two folders.
NODES = ["alpha", "alpha-rotated", "beta", "pending", "follow"]
#: The longest a Flower process may take to connect or to go on a busy machine.
WAIT_S = 120.0


class Stack(TlsStack):
    def sync(self, consortium: Consortium) -> SyncResult:
        return reconcile(consortium.registry, self.control)

    def statuses(self, name: str) -> list[str]:
        with self.control() as control:
            return [n.status for n in control.nodes() if n.has_fingerprint(self.keys[name].fingerprint)]

    def manifest(self, consortium: Consortium) -> Path:
        path = self.run_dir / f"{consortium.registry.address}.json"
        consortium.manifest.save(path)
        return path


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with tls_stack(Stack, tmp_path_factory.mktemp("sync"), NODES) as running:
        yield running


def wait_until(what: str, check: Callable[[], object], timeout_s: float = WAIT_S) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, f"timed out after {timeout_s}s waiting for {what}"
        time.sleep(0.3)


def join(consortium: Consortium, hospital: LocalAccount, name: str, key: NodeKey) -> int:
    """A hospital's request naming its node key, and the key published (pending: not yet approved)."""
    member_id = consortium.registry.request_membership(hospital, name, key.fingerprint)
    consortium.registry.publish_node_key(hospital, openssh_key_blob(key.openssh))
    return member_id


def test_approved_admitted_suspended_dropped_reinstated_needs_a_new_key(
    stack: Stack, deployed: Consortium, actors: Actors
) -> None:
    registry = deployed.registry
    member_id = join(deployed, actors.hospitals[0], "Alpha Hospital", stack.keys["alpha"])
    # Pending: its published key is not registered, and a SuperNode with it is refused.
    assert not stack.sync(deployed).registered and stack.statuses("alpha") == []
    registry.approve(actors.admin, member_id)
    approved = stack.sync(deployed)
    assert [(c.member_id, c.name) for c in approved.registered] == [(member_id, "Alpha-Hospital")]
    assert not approved.problems and stack.statuses("alpha") == ["registered"]
    node = stack.start_node("alpha")
    wait_until("the admitted node online", lambda: stack.statuses("alpha") == ["online"])
    assert stack.sync(deployed).kept[0].node_id == approved.registered[0].node_id  # idempotent

    registry.suspend(actors.admin, member_id, "TEST: audit")
    suspended = stack.sync(deployed)
    assert [(c.member_id, c.reason) for c in suspended.unregistered] == [(member_id, "suspended")]
    started = time.monotonic()
    wait_until("the suspended SuperNode to be dropped", lambda: node.process.poll() is not None, 60)
    assert time.monotonic() - started < 60 and stack.statuses("alpha") == ["unregistered"]

    # Reinstated with the same key: Flower never takes it back, and the sync says what to do.
    registry.reinstate(actors.admin, member_id)
    reinstated = stack.sync(deployed)
    assert not reinstated.changed
    (problem,) = reinstated.problems
    assert problem.member_id == member_id and "new node key" in problem.message
    # A rotation: the new key recorded and published; the sync registers it and the node is back.
    rotated = stack.keys["alpha-rotated"]
    registry.update_node_key(actors.hospitals[0], rotated.fingerprint)
    registry.publish_node_key(actors.hospitals[0], openssh_key_blob(rotated.openssh))
    back = stack.sync(deployed)
    assert [c.member_id for c in back.registered] == [member_id] and not back.problems
    stack.start_node("alpha-rotated")
    wait_until("the rotated node online", lambda: stack.statuses("alpha-rotated") == ["online"])


def test_a_rotation_of_an_active_member_swaps_its_keys(
    stack: Stack, deployed: Consortium, actors: Actors
) -> None:
    registry = deployed.registry
    old = ensure_node_key(stack.run_dir / "rotation" / "old.key")
    new = ensure_node_key(stack.run_dir / "rotation" / "new.key")
    member_id = join(deployed, actors.hospitals[1], "Rotating", old)
    registry.approve(actors.admin, member_id)
    first = stack.sync(deployed)
    assert [c.fingerprint for c in first.registered] == [old.fingerprint]
    registry.update_node_key(actors.hospitals[1], new.fingerprint)
    # Recorded but not yet published: the old key is out at once, the new one waits for its key.
    between = stack.sync(deployed)
    assert [(c.fingerprint, c.reason) for c in between.unregistered] == [(old.fingerprint, "rotated out")]
    assert "has not published" in between.problems[0].message
    registry.publish_node_key(actors.hospitals[1], openssh_key_blob(new.openssh))
    after = stack.sync(deployed)
    assert [c.fingerprint for c in after.registered] == [new.fingerprint] and not after.problems
    with stack.control() as control:
        listed = {n.status for n in control.nodes() if n.has_fingerprint(old.fingerprint)}
    assert listed == {"unregistered"}


def test_never_approved_and_rejected_members_keys_are_never_registered(
    stack: Stack, deployed: Consortium, actors: Actors
) -> None:
    pending = join(deployed, actors.hospitals[2], "Pending", stack.keys["pending"])
    rejected_key = ensure_node_key(stack.run_dir / "rejected" / "node.key")
    rejected = join(deployed, actors.hospitals[3], "Rejected", rejected_key)
    deployed.registry.reject(actors.admin, rejected, "TEST: no")
    result = stack.sync(deployed)
    assert not result.registered and not result.problems
    assert stack.statuses("pending") == []
    node = stack.start_node("pending")
    wait_until("the pending member's node to give up", lambda: node.process.poll() is not None)
    assert "Failed to activate SuperNode" in node.log.read_text(errors="replace")
    assert deployed.registry.member(pending).status.name == "PENDING"


def test_a_bad_key_on_chain_is_reported_and_the_command_exits_2(
    stack: Stack, deployed: Consortium, actors: Actors, anvil: AnvilNode
) -> None:
    registry = deployed.registry
    garbage = b"\x00\x00\x00\x13ecdsa-sha2-nistp256" + bytes(40)  # the right type, no point on the curve
    bad = registry.request_membership(actors.hospitals[0], "Bad key", hashlib.sha256(garbage).digest())
    registry.publish_node_key(actors.hospitals[0], garbage)  # the contract checks the hash only
    good = join(deployed, actors.hospitals[1], "Beta", stack.keys["beta"])
    for member_id in (bad, good):
        registry.approve(actors.admin, member_id)
    args = ["superlink", "sync-nodes", "--manifest", str(stack.manifest(deployed))]
    args += ["--rpc-url", anvil.rpc_url]
    args += ["--superlink", stack.superlink_address, "--root-certificates", str(stack.ca), "--format", "json"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output
    report = json.loads(result.output)
    assert [r["member_id"] for r in report["registered"]] == [good]
    assert [p["member_id"] for p in report["problems"]] == [bad]
    assert "Flower cannot use" in report["problems"][0]["message"]
    assert stack.statuses("beta") == ["registered"]


def test_bad_options_give_one_line_and_a_nonzero_exit(
    stack: Stack, deployed: Consortium, anvil: AnvilNode
) -> None:
    manifest = str(stack.manifest(deployed))
    good = ["--manifest", manifest, "--root-certificates", str(stack.ca)]
    cases = {
        "must be host:port": [*good, "--superlink", "https://127.0.0.1:1"],
        "no CA certificate": ["--manifest", manifest, "--root-certificates", "/nonexistent/ca.crt"],
        "has no scheme": [*good, "--rpc-url", "127.0.0.1:8545"],
        "cannot read deployment manifest": [
            "--manifest",
            "/nonexistent.json",
            "--root-certificates",
            str(stack.ca),
        ],
        "cannot list the SuperNodes": [
            *good,
            "--rpc-url",
            anvil.rpc_url,
            "--superlink",
            f"127.0.0.1:{free_port()}",
        ],
    }
    for message, args in cases.items():
        result = CliRunner().invoke(app, ["superlink", "sync-nodes", *args])
        assert result.exit_code != 0 and message in " ".join(result.output.split()), result.output
        assert "Traceback" not in result.output


def test_follow_registers_an_approval_within_seconds_and_stops_on_sigterm(
    stack: Stack, deployed: Consortium, actors: Actors, anvil: AnvilNode, tmp_path: Path
) -> None:
    ready = tmp_path / "ready"
    command = [str(Path(sys.executable).parent / "bcfl"), "superlink", "sync-nodes", "--follow"]
    command += [
        "--manifest",
        str(stack.manifest(deployed)),
        "--rpc-url",
        anvil.rpc_url,
        "--ready-file",
        str(ready),
    ]
    command += [
        "--superlink",
        stack.superlink_address,
        "--root-certificates",
        str(stack.ca),
        "--interval",
        "0.5",
    ]
    log = tmp_path / "sync.log"
    with open(log, "wb") as out:
        follower = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env={**os.environ})
    try:
        wait_until("the first reconciliation", ready.exists)
        member_id = join(deployed, actors.hospitals[4], "Follower", stack.keys["follow"])
        deployed.registry.approve(actors.admin, member_id)
        wait_until("the follower to register the key", lambda: stack.statuses("follow") == ["registered"], 60)
        deployed.registry.suspend(actors.admin, member_id, "TEST")
        wait_until("the follower to unregister it", lambda: stack.statuses("follow") == ["unregistered"], 60)
    finally:
        follower.send_signal(signal.SIGTERM)
        code = follower.wait(timeout=30)
    output = log.read_text()
    assert code == 0, output
    assert f"registered member #{member_id} (Follower)" in output and "suspended" in output
    assert output.rstrip().endswith("stopped") and "Traceback" not in output
