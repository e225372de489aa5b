"""The one demo onboarding (``bcfl demo-onboard``, ``bcfl demo``, compose) on a real Anvil: complete,
safe to repeat, for every demo consortium."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from bcfl.apps import app_hash, hash_text
from bcfl.chain.anvil import AnvilNode
from bcfl.chain.consortium import Consortium
from bcfl.chain.manifest import DeploymentManifest
from bcfl.chain.registry import MemberStatus
from bcfl.cli.demo_onboard import onboard
from bcfl.demo.consortia import CONSORTIA, HEART
from bcfl.demo.heart import prepare_heart_hospitals
from bcfl.demo.onboarding import (
    OnboardingError,
    new_keystore,
    onboard_consortium,
    onboard_hospital,
    prepare_coordinator_key,
)
from bcfl.flower.certs import TlsFiles, certificate_names
from bcfl.flower.node_keys import load_node_key
from bcfl.paths import REPO_ROOT
from tests.conftest import Actors


def test_onboarding_twice_reuses_data_key_and_membership(
    consortium: Consortium, actors: Actors, tmp_path: Path
) -> None:
    first = onboard_hospital(consortium, actors.admin, tmp_path, "hungary", HEART)
    assert "created its key" in first.actions and "approved by the admin" in first.actions
    folder = tmp_path / "hungary"
    assert {p.name for p in folder.iterdir()} == {
        "data.csv",
        "schema.json",
        "key",  # the keystore and its password: only the hospital's signing agent is given them
        "deployment.json",
        "node.key",
        "node.key.pub",
    }
    assert {p.name for p in (folder / "key").iterdir()} == {"keystore.json", "keystore.password"}
    assert first.keystore == folder / "key" / "keystore.json"
    assert stat.S_IMODE((folder / "key").stat().st_mode) == 0o700
    assert stat.S_IMODE(first.password_file.stat().st_mode) == 0o600
    assert stat.S_IMODE((folder / "node.key").stat().st_mode) == 0o600
    assert DeploymentManifest.load(folder / "deployment.json") == consortium.manifest
    keystore, node_key = first.keystore.read_text(), (folder / "node.key").read_bytes()
    # The membership request published the fingerprint of the node key its SuperNode authenticates with.
    fingerprint = load_node_key(first.node_key).fingerprint
    assert consortium.registry.member(first.member_id).node_key_fingerprint == fingerprint

    again = onboard_hospital(consortium, actors.admin, tmp_path, "hungary", HEART)
    assert again.actions == () and (again.member_id, again.address) == (first.member_id, first.address)
    assert again.keystore.read_text() == keystore
    assert (folder / "node.key").read_bytes() == node_key
    assert consortium.registry.member_count() == 1
    member = consortium.registry.member(first.member_id)
    assert member.status is MemberStatus.ACTIVE and member.signer == first.address


def test_a_pending_request_is_approved_and_a_suspended_member_stops_the_onboarding(
    consortium: Consortium, actors: Actors, tmp_path: Path
) -> None:
    # The last start stopped right after the hospital's own request: only the approval is missing.
    prepare_heart_hospitals(tmp_path, ["cleveland"])
    account = new_keystore(tmp_path / "cleveland")
    consortium.client.transfer(actors.admin, account.address, 10**18)
    member_id = consortium.registry.request_membership(account, "cleveland")  # no node key named
    site = onboard_hospital(consortium, actors.admin, tmp_path, "cleveland", HEART)
    assert site.member_id == member_id and site.address == account.address
    # A site made before the keys had a folder of their own: its keystore and password moved there.
    assert not (tmp_path / "cleveland" / "keystore.json").exists() and site.keystore.is_file()
    assert site.password_file.is_file() and not (tmp_path / "cleveland" / "keystore.password").exists()
    assert site.actions == (
        "created its node key",
        "approved by the admin",
        "published its node key's fingerprint",
        "published its node key",
    )
    fingerprint = load_node_key(site.node_key).fingerprint
    assert consortium.registry.member(member_id).node_key_fingerprint == fingerprint
    assert consortium.registry.published_node_key(member_id) is not None  # for the node sync

    consortium.registry.suspend(actors.admin, member_id, "audit")
    with pytest.raises(OnboardingError, match="suspended"):
        onboard_hospital(consortium, actors.admin, tmp_path, "cleveland", HEART)


def test_coordinator_keystore_is_made_once_and_must_hold_the_role(
    consortium: Consortium, actors: Actors, tmp_path: Path
) -> None:
    key = bytes(actors.coordinator.key)
    assert prepare_coordinator_key(consortium, tmp_path / "coordinator", key) == (
        actors.coordinator.address,
        True,
    )
    assert prepare_coordinator_key(consortium, tmp_path / "coordinator", key)[1] is False
    with pytest.raises(OnboardingError, match="coordinator role"):
        prepare_coordinator_key(consortium, tmp_path / "outsider", bytes(actors.outsider.key))


def test_cli_onboards_every_hospital_and_prints_no_secret(
    consortium: Consortium, anvil: AnvilNode, tmp_path: Path
) -> None:
    manifest = tmp_path / "deployment.json"
    consortium.manifest.save(manifest)
    app = typer.Typer()
    app.command()(onboard)
    args = ["--rpc-url", anvil.rpc_url, "--manifest", str(manifest), "--dev-account", "0"]
    args += ["--hospitals-dir", str(tmp_path / "sites"), "--hospital", "hungary", "--hospital", "cleveland"]
    args += ["--coordinator-dir", str(tmp_path / "coordinator")]
    args += ["--tls-dir", str(tmp_path / "tls"), "--tls-name", "superlink", "--ca-dir", str(tmp_path / "ca")]
    first = CliRunner().invoke(app, args)
    assert first.exit_code == 0, first.output
    assert "hungary: member #1" in first.output and "cleveland: member #2" in first.output
    assert "keystore created" in first.output and "PUBLIC" in first.output
    # The demo's App (this repository, by default) is approved on chain, under the hash flwr run sends.
    digest = app_hash(REPO_ROOT)
    assert f"app {hash_text(digest)} ({REPO_ROOT}): approved on chain" in first.output
    assert consortium.ledger.is_app_approved(digest)
    for folder in (
        tmp_path / "sites" / "hungary" / "key",
        tmp_path / "sites" / "cleveland" / "key",
        tmp_path / "coordinator",
    ):
        assert (folder / "keystore.password").read_text() not in first.output
    # The consortium's TLS files: the CA's certificate copied to the coordinator's side and every
    # hospital; the server certificate's fingerprint printed; no private key printed or copied.
    tls = TlsFiles(tmp_path / "tls")
    assert f"(SHA-256 {tls.fingerprint()})" in first.output
    ca = tls.ca_cert.read_bytes()
    for folder in (tmp_path / "ca", tmp_path / "sites" / "hungary", tmp_path / "sites" / "cleveland"):
        assert (folder / "ca.crt").read_bytes() == ca
    assert [p.name for p in (tmp_path / "ca").iterdir()] == ["ca.crt"]
    assert "superlink" in certificate_names(tls.server_cert.read_bytes())
    assert "PRIVATE KEY" not in first.output
    second = CliRunner().invoke(app, args)
    assert second.exit_code == 0, second.output
    assert f"(SHA-256 {tls.fingerprint()})" in second.output  # the same certificate, reused
    assert second.output.count("already onboarded, nothing to do") == 2
    assert "keystore already there" in second.output
    assert f"app {hash_text(digest)} ({REPO_ROOT}): already approved on chain" in second.output
    assert consortium.registry.active_member_count() == 2


@pytest.mark.parametrize("demo_name", ["ihc", "thyroid"])
def test_every_demo_consortium_is_onboarded_once(
    consortium: Consortium, actors: Actors, tmp_path: Path, demo_name: str
) -> None:
    demo = CONSORTIA[demo_name]
    names = list(demo.hospitals[:2])
    key = bytes(actors.coordinator.key)
    first = onboard_consortium(
        consortium, actors.admin, demo, tmp_path / "sites", names, tmp_path / "coordinator", key
    )
    assert [h.name for h in first.hospitals] == names and first.coordinator_created
    assert first.app_approved and consortium.ledger.is_app_approved(first.app_hash)
    for hospital in first.hospitals:
        assert hospital.data == tmp_path / "sites" / hospital.name / demo.data_name
        assert hospital.data.exists() and hospital.schema.exists() and hospital.manifest.exists()
        assert "created its key" in hospital.actions
    again = onboard_consortium(
        consortium, actors.admin, demo, tmp_path / "sites", names, tmp_path / "coordinator", key
    )
    assert all(h.actions == () for h in again.hospitals) and not again.coordinator_created
    assert (again.app_hash, again.app_approved) == (first.app_hash, False)
    assert [(h.member_id, h.address) for h in again.hospitals] == [
        (h.member_id, h.address) for h in first.hospitals
    ]
    assert consortium.registry.active_member_count() == len(names)
    with pytest.raises(OnboardingError, match="atlantis"):
        onboard_consortium(
            consortium, actors.admin, demo, tmp_path / "sites", ["atlantis"], tmp_path / "coordinator", key
        )
