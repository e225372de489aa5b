"""The ``bcfl`` command line against a real Anvil: deploy, onboard, list, clean errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bcfl.chain.anvil import AnvilNode
from bcfl.chain.client import ChainClient
from bcfl.chain.consortium import Consortium
from bcfl.chain.manifest import DeploymentManifest
from bcfl.chain.reputation import ReputationParameters
from bcfl.cli.main import app
from tests.conftest import Actors

runner = CliRunner()


def invoke(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = runner.invoke(app, list(args), env=env)
    return result.exit_code, result.output


@pytest.fixture
def manifest_path(anvil: AnvilNode, actors: Actors, tmp_path: Path) -> Path:
    path = tmp_path / "deployment.json"
    code, out = invoke(
        "chain",
        "deploy",
        "--rpc-url",
        anvil.rpc_url,
        "--dev-account",
        "0",
        "--coordinator",
        actors.coordinator.address,
        "--out",
        str(path),
    )
    assert code == 0, out
    return path


def test_deploy_writes_a_manifest_the_chain_confirms(anvil: AnvilNode, manifest_path: Path) -> None:
    manifest = DeploymentManifest.load(manifest_path)
    assert manifest.chain_id == 31337
    assert set(manifest.contracts) == {
        "ConsortiumRegistry",
        "RoundLedger",
        "ReputationLedger",
        "RewardToken",
        "RewardDistributor",
    }
    code, out = invoke(
        "chain", "status", "--rpc-url", anvil.rpc_url, "--manifest", str(manifest_path), "--format", "json"
    )
    assert code == 0, out
    status = json.loads(out)
    assert status["members"] == 0 and status["rounds"] == 0
    assert status["contracts"]["RoundLedger"] == manifest.address("RoundLedger")


def test_onboarding_with_an_encrypted_keystore(
    anvil: AnvilNode, client: ChainClient, actors: Actors, manifest_path: Path, tmp_path: Path
) -> None:
    env = {"BCFL_KEYSTORE_PASSWORD": "correct horse battery"}
    keystore = tmp_path / "hospital.json"
    code, out = invoke("keys", "new", str(keystore), "--format", "json", env=env)
    assert code == 0, out
    address = json.loads(out)["address"]
    assert "correct horse" not in out and "private" not in out.lower()
    client.transfer(actors.admin, address, 10**17)
    common = ["--rpc-url", anvil.rpc_url, "--manifest", str(manifest_path)]
    code, out = invoke(
        "member",
        "request",
        "--name",
        "St Mary",
        *common,
        "--keystore",
        str(keystore),
        "--format",
        "json",
        env=env,
    )
    assert code == 0, out
    requested = json.loads(out)
    assert {k: requested[k] for k in ("member_id", "signer", "name", "status")} == {
        "member_id": 1,
        "signer": address,
        "name": "St Mary",
        "status": "pending",
    }
    assert "refuses its SuperNode" in requested["flower_access"]
    code, out = invoke("member", "approve", "1", *common, "--dev-account", "0")
    assert code == 0 and "active" in out, out
    code, out = invoke("member", "list", *common, "--format", "json")
    rows = json.loads(out)
    assert [(r["member_id"], r["name"], r["status"], r["reputation_bps"], r["excluded"]) for r in rows] == [
        (1, "St Mary", "active", 5000, False)
    ]
    assert rows[0]["balance"] == "0"  # no round paid yet
    code, out = invoke("member", "suspend", "1", "--reason", "audit", *common, "--dev-account", "0")
    assert code == 0 and "suspended" in out, out


def test_errors_are_one_clean_line_not_a_traceback(
    anvil: AnvilNode, manifest_path: Path, tmp_path: Path
) -> None:
    common = ["--rpc-url", anvil.rpc_url, "--manifest", str(manifest_path)]
    code, out = invoke("member", "approve", "9", *common, "--dev-account", "0")
    assert code == 1 and "ConsortiumRegistryUnknownMember(memberId=9)" in out and "Traceback" not in out
    code, out = invoke("member", "approve", "1", *common, "--dev-account", "5")
    assert code == 1
    keystore = tmp_path / "k.json"
    assert invoke("keys", "new", str(keystore), env={"BCFL_KEYSTORE_PASSWORD": "right-password"})[0] == 0
    code, out = invoke(
        "member",
        "request",
        "--name",
        "X",
        *common,
        "--keystore",
        str(keystore),
        env={"BCFL_KEYSTORE_PASSWORD": "wrong-password"},
    )
    assert code == 1 and "wrong password" in out and "wrong-password" not in out
    code, out = invoke("chain", "status", "--rpc-url", "http://127.0.0.1:9", "--manifest", str(manifest_path))
    assert code == 1 and "did not answer" in out
    code, out = invoke(
        "chain", "status", "--rpc-url", anvil.rpc_url, "--manifest", str(tmp_path / "missing.json")
    )
    assert code == 1 and "cannot read deployment manifest" in out


def test_keys_new_refuses_to_overwrite_and_short_passwords(tmp_path: Path) -> None:
    keystore = tmp_path / "k.json"
    assert invoke("keys", "new", str(keystore), env={"BCFL_KEYSTORE_PASSWORD": "long-enough"})[0] == 0
    code, out = invoke("keys", "new", str(keystore), env={"BCFL_KEYSTORE_PASSWORD": "long-enough"})
    assert code == 1 and "refusing to overwrite" in out
    code, out = invoke("keys", "new", str(tmp_path / "b.json"), env={"BCFL_KEYSTORE_PASSWORD": "short"})
    assert code == 1 and "at least 8" in out


def test_deploy_checks_its_input_before_sending_anything(
    anvil: AnvilNode, client: ChainClient, tmp_path: Path
) -> None:
    before = client.block_number()
    for args, message in (
        (["--coordinator", "0xnothex"], "--coordinator must be a 20-byte 0x-hex address"),
        (["--admin", "12"], "--admin must be a 20-byte 0x-hex address"),
        (["--initial-reputation", "20000"], "initial_reputation"),
        (["--smoothing", "0"], "smoothing"),
        (["--exclusion-threshold", "10001"], "exclusion_threshold"),
        (["--exclusion-threshold", "6000"], "must be at least exclusion_threshold"),
    ):
        code, out = invoke("chain", "deploy", "--rpc-url", anvil.rpc_url, "--dev-account", "0", *args)
        unwrapped = " ".join(out.replace("│", " ").split())  # the error box wraps long messages
        assert code != 0 and message in unwrapped and "Traceback" not in out, out
    assert client.block_number() == before  # nothing was sent
    lower = "0x70997970c51812dc3a010c7d01b50e0d17dc79c8"  # lower-case addresses are fine
    out_path = tmp_path / "d.json"
    code, out = invoke(
        "chain",
        "deploy",
        "--rpc-url",
        anvil.rpc_url,
        "--dev-account",
        "0",
        "--coordinator",
        lower,
        "--out",
        str(out_path),
    )
    assert code == 0, out
    assert DeploymentManifest.load(out_path).coordinator == "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"


def test_deploy_sets_the_reputation_parameters(anvil: AnvilNode, client: ChainClient, tmp_path: Path) -> None:
    out_path = tmp_path / "d.json"
    code, out = invoke(
        "chain",
        "deploy",
        "--rpc-url",
        anvil.rpc_url,
        "--dev-account",
        "0",
        "--initial-reputation",
        "6000",
        "--smoothing",
        "2500",
        "--exclusion-threshold",
        "6000",
        "--min-participants",
        "3",
        "--mint-window-blocks",
        "50",
        "--mint-limit",
        "7",
        "--admin-delay",
        "3600",
        "--no-coordinator",
        "--out",
        str(out_path),
    )
    assert code == 0, out
    manifest = DeploymentManifest.load(out_path)
    consortium = Consortium.connect(client, manifest)
    assert consortium.distributor.minting_rule() == (3, 50, 7)
    assert consortium.registry.admin_delay() == 3_600
    parameters = manifest.parameters
    assert (parameters.initial_reputation, parameters.smoothing, parameters.exclusion_threshold) == (
        6_000,
        2_500,
        6_000,
    )
    reputation = Consortium.connect(client, manifest).reputation
    assert reputation.parameters() == ReputationParameters(6_000, 2_500, 6_000)
    assert not reputation.is_excluded(1)  # a new member starts at the threshold, included


def test_deploy_reuse_keeps_a_live_deployment(anvil: AnvilNode, manifest_path: Path) -> None:
    first = DeploymentManifest.load(manifest_path)
    code, out = invoke(
        "chain",
        "deploy",
        "--rpc-url",
        anvil.rpc_url,
        "--dev-account",
        "0",
        "--out",
        str(manifest_path),
        "--reuse",
    )
    assert code == 0 and "reusing" in out, out
    assert DeploymentManifest.load(manifest_path) == first


def test_deploy_refuses_a_second_consortium_or_no_coordinator_unless_asked(
    anvil: AnvilNode, client: ChainClient, actors: Actors, manifest_path: Path, tmp_path: Path
) -> None:
    first = manifest_path.read_text()
    deploy = ["chain", "deploy", "--rpc-url", anvil.rpc_url, "--dev-account", "0"]
    with_coordinator = [*deploy, "--coordinator", actors.coordinator.address]
    before = client.block_number()
    code, out = invoke(*with_coordinator, "--out", str(manifest_path), env={"COLUMNS": "200"})
    assert code != 0 and "already exists" in out and "--reuse" in out and "--replace" in out, out
    fresh = tmp_path / "fresh.json"
    code, out = invoke(*deploy, "--out", str(fresh), env={"COLUMNS": "200"})
    assert code != 0 and "--no-coordinator" in out and not fresh.exists(), out
    code, out = invoke(*with_coordinator, "--no-coordinator", "--out", str(fresh), env={"COLUMNS": "200"})
    assert code != 0 and "not both" in out and not fresh.exists(), out
    assert client.block_number() == before and manifest_path.read_text() == first  # nothing sent or written
    code, out = invoke(*with_coordinator, "--out", str(manifest_path), "--replace")
    assert code == 0, out
    replaced = DeploymentManifest.load(manifest_path)
    assert (
        replaced.address("ConsortiumRegistry")
        != json.loads(first)["contracts"]["ConsortiumRegistry"]["address"]
    )
    code, out = invoke(*deploy, "--no-coordinator", "--out", str(fresh))
    assert code == 0 and DeploymentManifest.load(fresh).coordinator is None, out


HOSTILE_NAMES = (
    "[/bold] x",  # rich markup that does not close: crashed `member list` for everyone
    "Evil\x1b[2J\nGeneral",  # ANSI clear-screen and a newline
    "abc\u202egnp.exe",  # right-to-left override
    "Z\u200bero width",
    "L" * 500,
)


def test_hostile_member_names_are_shown_escaped_by_every_command(
    anvil: AnvilNode, manifest_path: Path
) -> None:
    common = ["--rpc-url", anvil.rpc_url, "--manifest", str(manifest_path)]
    wide = {"COLUMNS": "400"}
    outputs = []
    for index, name in enumerate(HOSTILE_NAMES, start=2):
        signer = ["--dev-account", str(index)]
        code, out = invoke("member", "request", "--name", name, *common, *signer, env=wide)
        assert code == 0 and "Traceback" not in out, out
        outputs.append(out)
        code, out = invoke("member", "approve", str(index - 1), *common, "--dev-account", "0", env=wide)
        assert code == 0 and "active" in out, out
        outputs.append(out)
    code, out = invoke("member", "suspend", "1", "--reason", "[red", *common, "--dev-account", "0", env=wide)
    assert code == 0 and "suspended" in out, out
    outputs.append(out)
    code, out = invoke("member", "list", *common, env=wide)
    assert code == 0, out
    outputs.append(out)
    code, out = invoke("chain", "status", *common, env=wide)
    assert code == 0, out
    outputs.append(out)
    shown = "".join(outputs)
    assert "[/bold] x" in shown  # the markup is shown as the characters it is
    assert "Evil\\u001b[2J\\u000aGeneral" in shown and "\x1b" not in shown
    assert "abc\\u202egnp.exe" in shown and "\u202e" not in shown and "\u200b" not in shown
    assert "L" * 500 not in shown and "L" * 79 + "…" in shown  # shortened, marked as such
    # JSON keeps the exact bytes the chain holds (escaped by JSON itself).
    code, out = invoke("member", "list", *common, "--format", "json")
    assert code == 0 and [row["name"] for row in json.loads(out)] == list(HOSTILE_NAMES)
