"""``bcfl-signer`` as its own process, with a real encrypted keystore and the manifest of a real
deployment: it signs under the ledger's domain, stops cleanly on SIGTERM, names bad input in one line,
and the ClientApp's side of it never loads keystore code."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_account.signers.local import LocalAccount

from bcfl.chain.consortium import Consortium
from bcfl.chain.eip712 import recover_evaluation_signer, recover_signer
from bcfl.chain.keystore import create_keystore
from hospital_node.signer.client import SignerClient
from tests.signer.helpers import REPORT, UPDATE, short_folder

PASSWORD = "correct horse battery"
#: A hang guard only: how long the agent may take to unlock the keystore (scrypt) on a busy machine.
START_WAIT_S = 120.0


@pytest.fixture
def folder() -> Iterator[Path]:
    with short_folder() as path:
        yield path


@pytest.fixture
def node(folder: Path, deployed: Consortium) -> tuple[LocalAccount, list[str]]:
    """A keystore, its password file and the deployment's manifest: the agent's command line."""
    account = create_keystore(folder / "keystore.json", PASSWORD)
    (folder / "password").write_text(PASSWORD + "\n")
    deployed.manifest.save(folder / "deployment.json")
    args = [
        "--socket", str(folder / "signer" / "agent.sock"),
        "--keystore", str(folder / "keystore.json"),
        "--manifest", str(folder / "deployment.json"),
        "--password-file", str(folder / "password"),
    ]  # fmt: skip
    return account, args


def start(args: list[str], env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "hospital_node.signer", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def wait_for_socket(agent: subprocess.Popen[str], path: Path) -> None:
    deadline = time.monotonic() + START_WAIT_S
    while not path.exists():
        if agent.poll() is not None:
            raise AssertionError(f"the agent exited with {agent.returncode}: {agent.communicate()[1]}")
        assert time.monotonic() < deadline, "the agent did not open its socket"
        time.sleep(0.1)


def test_the_agent_signs_under_the_ledgers_domain_and_stops_on_sigterm(
    node: tuple[LocalAccount, list[str]], folder: Path, deployed: Consortium
) -> None:
    account, args = node
    path = folder / "signer" / "agent.sock"
    agent = start(args)
    try:
        wait_for_socket(agent, path)
        client = SignerClient(path)
        domain = deployed.ledger.domain()
        assert client.identity().domain == domain
        assert recover_signer(domain, client.sign_update(domain, UPDATE)) == account.address
        signature = client.sign_evaluation(domain, REPORT)
        assert recover_evaluation_signer(domain, REPORT, signature) == account.address
        second = start(args)
        _, error = second.communicate(timeout=START_WAIT_S)
        assert second.returncode == 1
        assert error.strip().splitlines() == [
            f"bcfl-signer: error: a signing agent already runs on {path} (pid {agent.pid}): stop it first"
        ]
        agent.send_signal(signal.SIGTERM)
        _, log = agent.communicate(timeout=60)
    finally:
        agent.kill()
    assert agent.returncode == 0
    assert not path.exists()
    assert "received SIGTERM: stopping" in log
    assert PASSWORD not in log
    assert account.key.hex().removeprefix("0x") not in log


def test_a_wrong_password_is_one_line_and_no_socket(
    node: tuple[LocalAccount, list[str]], folder: Path
) -> None:
    _, args = node
    (folder / "password").write_text("not the password\n")
    agent = start(args)
    _, error = agent.communicate(timeout=START_WAIT_S)
    assert agent.returncode == 1
    assert error.strip().splitlines() == [
        f"bcfl-signer: error: wrong password for keystore {folder / 'keystore.json'}"
    ]
    assert not (folder / "signer" / "agent.sock").exists()


def test_no_password_at_all_is_one_line(node: tuple[LocalAccount, list[str]], folder: Path) -> None:
    _, args = node
    env = {key: value for key, value in os.environ.items() if key != "BCFL_KEYSTORE_PASSWORD"}
    agent = start(args[: args.index("--password-file")], env)
    _, error = agent.communicate(timeout=START_WAIT_S)
    assert agent.returncode == 1
    assert error.strip().splitlines() == [
        "bcfl-signer: error: no keystore password: set BCFL_KEYSTORE_PASSWORD or pass a password file"
    ]


def test_the_client_side_never_loads_keystore_code() -> None:
    """What a ClientApp imports to sign leaves keystore loading (and the agent's own modules) out."""
    probe = (
        "import json, sys; import hospital_node.signer.client; "
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith(('bcfl', 'hospital_node')))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True
    )
    loaded = set(json.loads(done.stdout))
    assert "hospital_node.signer.client" in loaded
    forbidden = {
        "bcfl.chain.keystore",
        "hospital_node.signer.main",
        "hospital_node.signer.server",
        "hospital_node.signer.signing",
        "hospital_node.node",
    }
    assert loaded & forbidden == set()
