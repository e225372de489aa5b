"""How the ClientApp reaches its signing agent: where the socket goes (short enough for a Unix socket,
the same for the same node folder), and that the ClientApp's process never loads keystore code."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from hospital_node.errors import HospitalNodeError
from hospital_node.signer import location
from hospital_node.signer.location import SOCKET_PATH_MAX, ensure_short_root, socket_path


def test_the_client_app_module_does_not_import_keystore_code() -> None:
    """Importing the ClientApp (what flwr-clientapp does) loads no keystore code: it could not unlock
    the key even if it found the file."""
    code = "import sys, hospital_node.client_app; sys.exit(1 if 'bcfl.chain.keystore' in sys.modules else 0)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
    # The check can fail: the keystore module is what the signing agent's entry point loads.
    agent = code.replace("hospital_node.client_app", "hospital_node.signer.main")
    assert subprocess.run([sys.executable, "-c", agent], check=False).returncode == 1


def test_a_short_node_folder_keeps_its_socket() -> None:
    folder = Path("/srv/bcfl/st-mary")
    assert socket_path(folder) == folder / "signer" / "agent.sock"


def test_a_deep_node_folder_gets_a_short_private_socket_under_tmp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(location, "SHORT_ROOT", tmp_path)
    deep = Path("/srv").joinpath(*["a-long-folder-name-for-a-hospital"] * 4)
    path = socket_path(deep)
    assert len(os.fsencode(path)) <= SOCKET_PATH_MAX and str(deep) not in str(path)
    assert path.parent.parent == tmp_path / f"bcfl-signer-{os.geteuid()}"
    # The same folder gets the same socket every time (start, stop and doctor agree), another another.
    assert socket_path(deep) == path and socket_path(deep / "other") != path
    root = ensure_short_root()
    assert root == path.parent.parent and (root.stat().st_mode & 0o777) == 0o700


def test_a_short_root_open_to_others_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(location, "SHORT_ROOT", tmp_path)
    root = tmp_path / f"bcfl-signer-{os.geteuid()}"
    root.mkdir(mode=0o777)
    os.chmod(root, 0o777)
    refused = r"the signing agents' folder .* is open to other users \(mode 777\): remove it"
    with pytest.raises(HospitalNodeError, match=refused) as raised:
        ensure_short_root()
    assert "\n" not in str(raised.value)
