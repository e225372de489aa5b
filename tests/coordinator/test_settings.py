"""The coordinator reads the chain's address under the names every bcfl command uses."""

from __future__ import annotations

from pathlib import Path

import pytest

from bcfl.chain.exceptions import KeystoreError
from bcfl.chain.keystore import create_keystore
from coordinator.errors import CoordinatorError
from coordinator.settings import load_settings


def test_settings_share_the_cli_names_for_chain_and_manifest(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("BCFL_RPC_URL", "http://127.0.0.1:8545")
    monkeypatch.setenv("BCFL_MANIFEST", str(tmp_path / "deployment.json"))
    monkeypatch.setenv("BCFL_COORDINATOR_KEYSTORE", str(tmp_path / "keystore.json"))
    monkeypatch.setenv("BCFL_COORDINATOR_RUN_DIR", str(tmp_path))
    settings = load_settings()
    assert settings.rpc_url == "http://127.0.0.1:8545"
    assert settings.manifest == tmp_path / "deployment.json" and settings.password_file is None


def test_missing_settings_are_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("BCFL_RPC_URL", "BCFL_MANIFEST", "BCFL_COORDINATOR_KEYSTORE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("BCFL_COORDINATOR_RUN_DIR", str(tmp_path))
    with pytest.raises(CoordinatorError, match="BCFL_RPC_URL") as raised:
        load_settings()
    assert "keystore" in str(raised.value).lower()


def test_the_coordinator_never_takes_a_hospital_s_password_variable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    password = "coordinator-secret-1"
    create_keystore(tmp_path / "keystore.json", password)
    monkeypatch.setenv("BCFL_RPC_URL", "http://127.0.0.1:8545")
    monkeypatch.setenv("BCFL_MANIFEST", str(tmp_path / "deployment.json"))
    monkeypatch.setenv("BCFL_COORDINATOR_KEYSTORE", str(tmp_path / "keystore.json"))
    monkeypatch.setenv("BCFL_COORDINATOR_RUN_DIR", str(tmp_path))
    monkeypatch.delenv("BCFL_COORDINATOR_PASSWORD_FILE", raising=False)
    monkeypatch.delenv("BCFL_COORDINATOR_PASSWORD", raising=False)
    monkeypatch.setenv("BCFL_KEYSTORE_PASSWORD", password)  # the hospitals' and the CLI's variable
    with pytest.raises(KeystoreError, match="BCFL_COORDINATOR_PASSWORD"):
        load_settings().account()
    monkeypatch.setenv("BCFL_COORDINATOR_PASSWORD", password)
    assert load_settings().account().address
