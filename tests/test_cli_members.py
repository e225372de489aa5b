"""The admin's ``bcfl member`` group on a real Anvil: pending, approve (admin and governance votes),
suspend, reinstate, rotate, fund, each saying what it does to the hospital's Flower access."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from eth_account import Account
from typer.testing import CliRunner

from bcfl.chain.anvil import AnvilNode
from bcfl.chain.client import ChainClient
from bcfl.chain.consortium import Consortium
from bcfl.chain.devkeys import dev_account
from bcfl.chain.fingerprints import node_key_fingerprint, openssh_key_blob
from bcfl.chain.funding import balance_wei
from bcfl.chain.manifest import DeploymentManifest
from bcfl.chain.registry import MemberStatus
from bcfl.cli.main import app
from tests.chain.trust import openssh_public
from tests.conftest import Actors

runner = CliRunner()
WIDE = {"COLUMNS": "250"}


def invoke(*args: str, env: dict[str, str] | None = None, stdout: bool = False) -> tuple[int, str]:
    """Exit code and output (stdout alone with ``stdout``: JSON, without the dev-key warning)."""
    result = runner.invoke(app, list(args), env={**WIDE, **(env or {})})
    assert "Traceback" not in result.output
    return result.exit_code, result.stdout if stdout else result.output


@pytest.fixture
def common(anvil: AnvilNode, actors: Actors, tmp_path: Path) -> list[str]:
    path = tmp_path / "deployment.json"
    code, out = invoke(
        "chain", "deploy", "--rpc-url", anvil.rpc_url, "--dev-account", "0",
        "--coordinator", actors.coordinator.address, "--out", str(path),
    )  # fmt: skip
    assert code == 0, out
    return ["--rpc-url", anvil.rpc_url, "--manifest", str(path)]


def _registry(client: ChainClient, common: list[str]) -> Consortium:
    return Consortium.connect(client, DeploymentManifest.load(Path(common[-1])))


def _request(common: list[str], dev: int, name: str) -> int:
    signer = ["--dev-account", str(dev)]
    code, out = invoke("member", "request", "--name", name, *common, *signer, "--format", "json", stdout=True)
    assert code == 0, out
    return int(json.loads(out)["member_id"])


def _json(*args: str) -> dict[str, object]:
    code, out = invoke(*args, "--format", "json", stdout=True)
    assert code == 0, out
    loaded: dict[str, object] = json.loads(out)
    return loaded


def test_an_unfunded_key_is_told_to_ask_for_ether_and_the_admin_funds_it(
    client: ChainClient, common: list[str]
) -> None:
    fresh = Account.create()
    env = {"HOSPITAL_KEY": fresh.key.hex()}
    code, out = invoke("member", "request", "--name", "New", *common, "--key-env", "HOSPITAL_KEY", env=env)
    flat = " ".join(out.split())
    assert code == 1 and len(out.strip().splitlines()) == 1, out
    assert f"{fresh.address} has no ether to pay for gas" in flat
    assert f"ask the consortium's admin to run `bcfl member fund {fresh.address}`" in flat

    rpc = common[:2]
    code, out = invoke("member", "fund", fresh.address, "--amount", "abc", *rpc, "--dev-account", "0")
    assert code != 0 and "not an amount of ether" in out
    funded = _json("member", "fund", fresh.address.lower(), "--amount", "0.05", *rpc, "--dev-account", "0")
    assert funded["address"] == fresh.address and funded["amount_wei"] == 5 * 10**16
    assert funded["balance_wei"] == balance_wei(client, fresh.address) == 5 * 10**16
    code, out = invoke("member", "request", "--name", "New", *common, "--key-env", "HOSPITAL_KEY", env=env)
    assert code == 0 and "pending" in out, out


def test_pending_approve_by_votes_suspend_and_reinstate_say_what_flower_does(
    client: ChainClient, actors: Actors, common: list[str]
) -> None:
    admin = ["--dev-account", "0"]
    first, second = _request(common, 2, "First"), _request(common, 3, "Second")
    code, out = invoke("member", "approve", str(first), *common, "--dev-account", "4")
    flat = " ".join(out.split())
    assert code == 1 and f"{dev_account(4).address} does not hold the consortium's admin role" in flat, out
    assert (
        "neededRole=admin" in flat
        and "0x0000000000000000000000000000000000000000000000000000000000000000" not in flat
    )
    for member_id in (first, second):
        approved = _json("member", "approve", str(member_id), *common, *admin)
        assert approved["status"] == "active" and "no node key published yet" in str(
            approved["flower_access"]
        )
    governance = _json("member", "governance", *common, *admin, "--quorum", "2")
    assert governance == {"changed": True, "governance": True, "quorum": 2}

    # A third hospital publishes its node key while pending; members vote.
    line = openssh_public(ec.SECP256R1())
    code, out = invoke(
        "member", "request", "--name", "Third", *common, "--dev-account", "4",
        "--node-key-fingerprint", "0x" + node_key_fingerprint(line).hex(), "--format", "json", stdout=True,
    )  # fmt: skip
    assert code == 0, out
    third = int(json.loads(out)["member_id"])
    _registry(client, common).registry.publish_node_key(dev_account(4), openssh_key_blob(line))
    code, out = invoke("member", "pending", *common, "--format", "json", stdout=True)
    assert code == 0, out
    (row,) = json.loads(out)
    assert (row["member_id"], row["approvals"], row["needed"], row["approved_by"]) == (third, 0, 2, [])
    assert row["node_key_published"] is True
    vote = _json("member", "approve", str(third), *common, "--dev-account", "2")
    assert (vote["status"], vote["approvals"], vote["quorum"]) == ("pending", 1, 2)
    assert "until the request is approved" in str(vote["flower_access"])
    code, out = invoke("member", "pending", *common)
    assert code == 0 and "1 of 2 (by #1)" in out and "published" in out, out
    code, out = invoke("member", "approve", str(third), *common, "--dev-account", "3")
    flat = " ".join(out.split())
    assert code == 0 and "active (2 of 2 approvals)" in flat, out
    assert "published node key gets registered with the SuperLink by the node-sync service" in flat
    code, out = invoke("member", "pending", *common)
    assert code == 0 and "no pending requests" in out

    suspended = _json("member", "suspend", str(third), "--reason", "audit", *common, *admin)
    assert suspended["status"] == "suspended"
    assert "unregistered from the SuperLink" in str(suspended["flower_access"])
    assert "contract refuses its updates" in str(suspended["flower_access"])
    rows = {
        row["member_id"]: row
        for row in json.loads(invoke("member", "list", *common, "--format", "json", stdout=True)[1])
    }
    assert rows[third]["aggregated"] is False and rows[first]["aggregated"] is True
    code, out = invoke("member", "list", *common)
    assert code == 0 and "no (suspended)" in out and "yes" in out, out
    reinstated = _json("member", "reinstate", str(third), *common, *admin)
    assert reinstated["status"] == "active"
    assert "can never be registered again" in str(reinstated["flower_access"])
    assert "bcfl node rotate-key" in str(reinstated["flower_access"])


def test_list_says_a_pending_member_is_not_aggregated(common: list[str]) -> None:
    pending = _request(common, 2, "Waiting")
    code, out = invoke("member", "list", *common)
    assert code == 0 and "no (pending)" in out and "yes" not in out.split("Waiting", 1)[1].splitlines()[0], (
        out
    )
    (row,) = json.loads(invoke("member", "list", *common, "--format", "json", stdout=True)[1])
    assert row["member_id"] == pending and row["aggregated"] is False and row["excluded"] is False


def test_rotate_the_signing_key_in_two_steps_and_the_node_key(client: ChainClient, common: list[str]) -> None:
    member_id = _request(common, 2, "Rotating")
    assert invoke("member", "approve", str(member_id), *common, "--dev-account", "0")[0] == 0
    new_key = dev_account(7)
    code, out = invoke("member", "rotate", str(member_id), *common, "--dev-account", "2")
    assert code != 0 and "exactly one of" in out
    proposed = _json(
        "member", "rotate", str(member_id), *common, "--dev-account", "2", "--new-signer", new_key.address
    )
    assert proposed["proposed_by"] == "the member's current key" and "--accept" in str(proposed["next"])
    assert "unchanged" in str(proposed["flower_access"])
    registry = _registry(client, common).registry
    assert registry.pending_signer_of(member_id) == new_key.address
    accepted = _json("member", "rotate", str(member_id), *common, "--dev-account", "7", "--accept")
    assert accepted["new_signer"] == new_key.address == registry.signer_of(member_id)

    fingerprint = node_key_fingerprint(openssh_public(ec.SECP256R1()))
    args = ["member", "rotate", str(member_id), *common, "--node-key-fingerprint", "0x" + fingerprint.hex()]
    code, out = invoke(*args, "--dev-account", "2")  # the old key no longer signs for the member
    assert code != 0 and "signing key records its node key" in " ".join(out.split()), out
    changed = _json(*args, "--dev-account", "7")
    assert "unregisters the old node key" in str(changed["flower_access"])
    assert registry.member(member_id).node_key_fingerprint == fingerprint

    # A lost key: the admin proposes the next signer.
    by_admin = _json(
        "member",
        "rotate",
        str(member_id),
        *common,
        "--dev-account",
        "0",
        "--new-signer",
        dev_account(8).address,
    )
    assert by_admin["proposed_by"] == "the admin"
    assert registry.pending_signer_of(member_id) == dev_account(8).address
    assert registry.member(member_id).status is MemberStatus.ACTIVE
