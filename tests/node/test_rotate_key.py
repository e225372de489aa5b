"""``bcfl node rotate-key`` against a real Anvil and the deployed contracts: a reinstated hospital's new
node key recorded and published, a rerun that changes nothing, an interrupted rotation finished without
a second key, and its refusals (running node, suspended or pending membership, no ether)."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bcfl.chain.consortium import Consortium
from bcfl.chain.fingerprints import openssh_key_blob
from bcfl.chain.keystore import load_keystore
from bcfl.demo.heart import prepare_heart_hospitals
from bcfl.flower.node_keys import ensure_node_key, load_node_key
from tests.chain.helpers import prepare_rounds
from tests.conftest import Actors
from tests.node.test_node_cli import ENV, invoke, one_line_error


@dataclass(frozen=True)
class Joined:
    """A hospital's node folder made by ``init``, its request sent by ``join``."""

    folder: Path
    address: str
    member_id: int
    consortium: Consortium

    def on_chain(self) -> tuple[bytes, bytes | None]:
        registry = self.consortium.registry
        return (
            registry.member(self.member_id).node_key_fingerprint,
            registry.published_node_key(self.member_id),
        )

    def retired(self) -> list[str]:
        return sorted(p.name for p in self.folder.iterdir() if p.name.startswith("node.key.retired-"))

    def rotate(self, *extra: str) -> dict[str, object]:
        result = invoke("node", "rotate-key", str(self.folder), "--format", "json", *extra)
        assert result.exit_code == 0, result.output
        answer: dict[str, object] = json.loads(result.stdout)
        return answer


def join_node(consortium: Consortium, actors: Actors, tmp_path: Path, *, approve: bool = True) -> Joined:
    prepare_rounds(consortium, actors.admin)
    manifest = tmp_path / "given" / "deployment.json"
    consortium.manifest.save(manifest)
    (hospital,) = prepare_heart_hospitals(tmp_path / "given", ["hungary"])
    folder = tmp_path / "node"
    made = invoke(
        "node", "init", str(folder), "--manifest", str(manifest), "--rpc-url", consortium.client.rpc_url,
        "--data", str(hospital.data), "--schema", str(hospital.schema), "--superlink", "127.0.0.1:9",
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    client = consortium.client
    address = client.w3.to_checksum_address(json.loads((folder / "keystore.json").read_text())["address"])
    client.transfer(actors.admin, address, 10**17)
    joined = invoke("node", "join", str(folder), "--format", "json")
    assert joined.exit_code == 0, joined.output
    member_id = json.loads(joined.stdout)["member_id"]
    if approve:
        consortium.registry.approve(actors.admin, member_id)
    return Joined(folder, address, member_id, consortium)


@pytest.fixture
def node(deployed: Consortium, actors: Actors, tmp_path: Path) -> Joined:
    return join_node(deployed, actors, tmp_path)


@pytest.fixture
def running(node: Joined) -> Iterator[int]:
    """A live process named in the node's SuperNode pid file, as ``bcfl node start`` leaves it."""
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
    (node.folder / "supernode.pid").write_text(f"{process.pid}\n")
    try:
        yield process.pid
    finally:
        process.kill()
        process.wait()


def test_a_reinstated_member_rotates_once_then_reruns_change_nothing(node: Joined, actors: Actors) -> None:
    registry = node.consortium.registry
    old_key = (node.folder / "node.key").read_bytes()
    old = load_node_key(node.folder / "node.key")
    registry.suspend(actors.admin, node.member_id, "TEST: audit")
    line = one_line_error(invoke("node", "rotate-key", str(node.folder)))
    assert "is suspended" in line and f"bcfl member reinstate {node.member_id}" in line
    assert node.retired() == [] and (node.folder / "node.key").read_bytes() == old_key
    registry.reinstate(actors.admin, node.member_id)

    rotated = node.rotate()
    new = load_node_key(node.folder / "node.key")
    assert rotated["action"] == "rotated" and rotated["node_key_fingerprint"] == "0x" + new.fingerprint.hex()
    assert rotated["previous_fingerprint"] == "0x" + old.fingerprint.hex() != rotated["node_key_fingerprint"]
    assert "suspended after the key was published" in " ".join(rotated["done"])  # type: ignore[arg-type]
    assert node.on_chain() == (new.fingerprint, openssh_key_blob(new.openssh))
    assert stat.S_IMODE((node.folder / "node.key").stat().st_mode) == 0o600
    assert (node.folder / "node.key.pub").read_bytes().split() == new.openssh.split()
    retired = Path(str(rotated["retired"]))
    assert retired.parent == node.folder and retired.read_bytes() == old_key
    assert Path(f"{retired}.pub").read_bytes().split() == old.openssh.split()
    assert len(node.retired()) == 2 and "bcfl node doctor" in str(rotated["next_step"])

    again = invoke("node", "rotate-key", str(node.folder))
    assert again.exit_code == 0 and "nothing to do" in again.output and "done:" not in again.output
    assert node.on_chain() == (new.fingerprint, openssh_key_blob(new.openssh)) and len(node.retired()) == 2

    leaked = node.rotate("--new")
    newest = load_node_key(node.folder / "node.key")
    assert leaked["action"] == "rotated" and newest.fingerprint not in (new.fingerprint, old.fingerprint)
    assert (
        node.on_chain() == (newest.fingerprint, openssh_key_blob(newest.openssh)) and len(node.retired()) == 4
    )


def test_an_interrupted_rotation_is_finished_without_a_second_key(node: Joined) -> None:
    registry = node.consortium.registry
    # Interrupted after the new key was made, before any transaction: the old key is retired here.
    (node.folder / "node.key.pub").replace(node.folder / "node.key.retired-20260101T000000Z.pub")
    (node.folder / "node.key").replace(node.folder / "node.key.retired-20260101T000000Z")
    made = ensure_node_key(node.folder / "node.key")
    finished = node.rotate()
    assert finished["action"] == "completed" and finished["retired"] is None
    assert load_node_key(node.folder / "node.key").fingerprint == made.fingerprint
    assert node.on_chain() == (made.fingerprint, openssh_key_blob(made.openssh))
    assert node.retired() == ["node.key.retired-20260101T000000Z", "node.key.retired-20260101T000000Z.pub"]

    # Interrupted between the two transactions: recorded, not published; the rerun publishes it.
    (node.folder / "node.key.pub").replace(node.folder / "node.key.retired-20260102T000000Z.pub")
    (node.folder / "node.key").replace(node.folder / "node.key.retired-20260102T000000Z")
    second = ensure_node_key(node.folder / "node.key")
    account = load_keystore(node.folder / "keystore.json", ENV["BCFL_KEYSTORE_PASSWORD"])
    registry.update_node_key(account, second.fingerprint)
    assert node.on_chain() == (second.fingerprint, None)
    published = node.rotate()
    assert published["action"] == "completed" and node.on_chain()[1] == openssh_key_blob(second.openssh)
    assert load_node_key(node.folder / "node.key").fingerprint == second.fingerprint
    assert node.rotate()["action"] == "nothing to do"


def test_refused_while_the_node_runs(node: Joined, running: int) -> None:
    before = {p.name: p.read_bytes() for p in node.folder.iterdir() if p.is_file()}
    line = one_line_error(invoke("node", "rotate-key", str(node.folder)))
    assert f"supernode pid {running}" in line and f"bcfl node stop {node.folder}" in line
    assert {p.name: p.read_bytes() for p in node.folder.iterdir() if p.is_file()} == before


def test_no_ether_names_the_fund_command_and_changes_nothing(node: Joined, actors: Actors) -> None:
    registry = node.consortium.registry
    registry.suspend(actors.admin, node.member_id, "TEST: audit")
    registry.reinstate(actors.admin, node.member_id)
    node.consortium.client.w3.provider.make_request("anvil_setBalance", [node.address, "0x0"])  # type: ignore[arg-type]
    key = (node.folder / "node.key").read_bytes()
    line = one_line_error(invoke("node", "rotate-key", str(node.folder)))
    assert (
        "no ether" in line and f"bcfl member fund {node.address}" in line and "bcfl node rotate-key" in line
    )
    assert (node.folder / "node.key").read_bytes() == key and node.retired() == []


def test_a_pending_member_and_a_foreign_key_are_told_what_to_do(
    deployed: Consortium, actors: Actors, tmp_path: Path
) -> None:
    pending = join_node(deployed, actors, tmp_path, approve=False)
    line = one_line_error(invoke("node", "rotate-key", str(pending.folder)))
    assert "is pending" in line and "wait for the approval" in line and pending.retired() == []
    deployed.registry.approve(actors.admin, pending.member_id)
    (pending.folder / "node.key").unlink()
    (pending.folder / "node.key.pub").unlink()
    foreign = ensure_node_key(pending.folder / "node.key")
    line = one_line_error(invoke("node", "rotate-key", str(pending.folder)))
    assert "no retired key in the folder is that one" in line and "--new" in line
    replaced = pending.rotate("--new")
    made = load_node_key(pending.folder / "node.key")
    assert replaced["action"] == "rotated" and pending.on_chain() == (
        made.fingerprint,
        openssh_key_blob(made.openssh),
    )
    assert load_node_key(Path(str(replaced["retired"]))).fingerprint == foreign.fingerprint
