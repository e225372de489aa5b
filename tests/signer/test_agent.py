"""The signing agent in this process (its server thread) with real Unix sockets: it signs exactly what
``sign_update``/``sign_evaluation`` sign with the same key, refuses other domains, data and callers,
survives broken clients, and its absence is one clear line."""

from __future__ import annotations

import json
import logging
import os
import socket
import struct
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_account.signers.local import LocalAccount

from bcfl.chain.eip712 import (
    LedgerDomain,
    ModelUpdate,
    recover_evaluation_signer,
    recover_signer,
    sign_evaluation,
    sign_update,
)
from hospital_node.signer.client import SignerClient, SignerRefusedError, SignerUnavailableError
from hospital_node.signer.protocol import MAX_FRAME
from hospital_node.signer.server import SigningAgent
from tests.signer.helpers import (
    DOMAIN,
    REPORT,
    UPDATE,
    frame,
    new_account,
    raw_exchange,
    request,
    running_agent,
    short_folder,
    update_fields,
)


@pytest.fixture(scope="module")
def account() -> LocalAccount:
    return new_account()


@pytest.fixture
def folder() -> Iterator[Path]:
    with short_folder() as path:
        yield path


@pytest.fixture
def agent(account: LocalAccount, folder: Path) -> Iterator[SigningAgent]:
    with running_agent(account, folder) as running:
        yield running


def client_of(agent: SigningAgent) -> SignerClient:
    return SignerClient(agent.socket_path)


def test_the_agent_signs_updates_and_evaluations_as_the_key_itself_does(
    agent: SigningAgent, account: LocalAccount
) -> None:
    client = client_of(agent)
    signed = client.sign_update(DOMAIN, UPDATE)
    assert signed == sign_update(account, DOMAIN, UPDATE)
    assert recover_signer(DOMAIN, signed) == account.address
    signature = client.sign_evaluation(DOMAIN, REPORT)
    assert signature == sign_evaluation(account, DOMAIN, REPORT)
    assert recover_evaluation_signer(DOMAIN, REPORT, signature) == account.address
    identity = client.identity()
    assert (identity.address, identity.domain) == (account.address, DOMAIN)


def test_the_socket_is_private_to_the_agents_user(agent: SigningAgent) -> None:
    assert agent.socket_path.stat().st_mode & 0o777 == 0o600
    assert agent.socket_path.parent.stat().st_mode & 0o777 == 0o700
    assert agent.socket_path.stat().st_uid == os.geteuid()


@pytest.mark.parametrize(
    "other",
    [
        LedgerDomain(1, DOMAIN.verifying_contract),
        LedgerDomain(DOMAIN.chain_id, "0x" + "ab" * 20),
    ],
)
def test_another_domain_is_refused(agent: SigningAgent, other: LedgerDomain) -> None:
    client = client_of(agent)
    with pytest.raises(SignerRefusedError, match="refused: this agent signs for chain 31337's ledger"):
        client.sign_update(other, UPDATE)
    with pytest.raises(SignerRefusedError, match=f"not for chain {other.chain_id}'s"):
        client.sign_evaluation(other, REPORT)


@pytest.mark.parametrize(
    "data",
    [
        request(v=2, op="sign-message", data="0x" + "41" * 64),
        request(v=2, op="sign-digest", digest="0x" + "11" * 32),
        request(v=2, op="sign-transaction", to="0x" + "22" * 20, value=10**18, nonce=0),
        request(v=2, op="export-key"),
        request(**update_fields(round="1")),
        frame(b"\x00\x01 not json at all"),
    ],
)
def test_arbitrary_data_gets_a_one_line_refusal_and_no_signature(agent: SigningAgent, data: bytes) -> None:
    reply = raw_exchange(agent.socket_path, data)
    assert reply is not None
    assert reply["ok"] is False and reply["kind"] == "error"
    assert set(reply) == {"v", "ok", "kind", "error"}
    assert "\n" not in str(reply["error"])
    assert client_of(agent).sign_update(DOMAIN, UPDATE).update == UPDATE


def test_an_oversized_request_is_refused_unread_and_the_agent_goes_on(agent: SigningAgent) -> None:
    reply = raw_exchange(agent.socket_path, struct.pack(">I", 50 * MAX_FRAME))
    assert reply is not None and reply["ok"] is False
    assert f"over the {MAX_FRAME}-byte limit" in str(reply["error"])
    assert client_of(agent).sign_evaluation(DOMAIN, REPORT)


def test_no_reply_ever_holds_the_key(agent: SigningAgent, account: LocalAccount) -> None:
    """Every operation and a battery of hostile requests: the answers hold a signature, an address and
    a domain, or an error, and never the key."""
    secret = account.key.hex().removeprefix("0x").lower()
    attempts = [
        request(v=2, op="identity"),
        request(**update_fields()),
        request(**update_fields(op="sign-evaluation")),
        request(v=2, op="export-key"),
        request(v=2, op="key"),
        request(v=2, op="private-key"),
        request(v=2, op="keystore"),
        request(v=2, op="password"),
        request(**{**update_fields(), "op": "identity", "reveal": True}),
    ]
    for data in attempts:
        reply = raw_exchange(agent.socket_path, data)
        assert reply is not None
        text = json.dumps(reply).lower()
        assert secret not in text
        if reply["ok"]:
            assert set(reply) in (
                {"v", "ok", "kind", "signature", "signer"},
                {"v", "ok", "kind", "address", "domain"},
            )


def test_the_logs_hold_no_secret(
    account: LocalAccount, folder: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with running_agent(account, folder) as agent:
        client = client_of(agent)
        client.sign_update(DOMAIN, UPDATE)
        client.sign_evaluation(DOMAIN, REPORT)
        raw_exchange(agent.socket_path, request(v=2, op="export-key"))
    text = caplog.text.lower()
    assert "signed the update of round 3" in text
    assert account.key.hex().lower().removeprefix("0x") not in text


def test_a_peer_of_another_uid_is_refused_by_its_credentials(account: LocalAccount, folder: Path) -> None:
    """SO_PEERCRED: an agent serving another uid refuses this process, whatever the file modes."""
    other = os.geteuid() + 4242
    with running_agent(account, folder, allowed_uids=frozenset({other})) as agent:
        with pytest.raises(
            SignerRefusedError, match=f"serves only its node's user \\(uid {other}\\), not uid"
        ):
            client_of(agent).sign_update(DOMAIN, UPDATE)
        reply = raw_exchange(agent.socket_path, request(v=2, op="identity"))
        assert reply is not None and reply["ok"] is False


def test_a_client_that_dies_midway_does_not_hurt_the_agent(agent: SigningAgent) -> None:
    # Half a frame, then gone.
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.connect(str(agent.socket_path))
        sock.sendall(struct.pack(">I", 300) + b'{"v": 2, "op": "sign-up')
    # A whole request, then gone before the reply (a process that crashed: its socket closes).
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.connect(str(agent.socket_path))
        sock.sendall(request(**update_fields()))
        os._exit(0)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert client_of(agent).sign_update(DOMAIN, UPDATE).update == UPDATE


def test_clients_are_served_while_another_stalls(agent: SigningAgent, account: LocalAccount) -> None:
    """A connection that sends half a request and waits holds only its own thread: eight clients
    signing at once are all served meanwhile."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as stalled:
        stalled.connect(str(agent.socket_path))
        stalled.sendall(struct.pack(">I", 200) + b"{")
        results: dict[int, bytes] = {}
        errors: list[BaseException] = []

        def sign(index: int) -> None:
            try:
                update = ModelUpdate(index, UPDATE.global_model_hash, UPDATE.update_hash, index + 1)
                results[index] = client_of(agent).sign_update(DOMAIN, update).signature
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=sign, args=(index,)) for index in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert errors == []
    for index, signature in results.items():
        expected = sign_update(
            account, DOMAIN, ModelUpdate(index, UPDATE.global_model_hash, UPDATE.update_hash, index + 1)
        )
        assert signature == expected.signature
    assert sorted(results) == list(range(8))


def test_a_silent_connection_is_closed_after_the_idle_timeout(account: LocalAccount, folder: Path) -> None:
    with running_agent(account, folder, idle_timeout=0.2) as agent:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(30)
            sock.connect(str(agent.socket_path))
            assert sock.recv(1) == b""
        assert client_of(agent).identity().address == account.address


def test_an_absent_agent_is_one_clear_line(folder: Path) -> None:
    path = folder / "signer" / "agent.sock"
    with pytest.raises(SignerUnavailableError) as absent:
        SignerClient(path).sign_update(DOMAIN, UPDATE)
    assert str(absent.value) == (
        f"the hospital's signing agent is not running at {path}: start it with `bcfl node start`"
    )
    # A socket file left by an agent that died: refused, the same line.
    path.parent.mkdir()
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as dead:
        dead.bind(str(path))
    with pytest.raises(SignerUnavailableError, match="is not running at"):
        SignerClient(path).sign_evaluation(DOMAIN, REPORT)


def test_an_agent_that_does_not_answer_is_a_timeout_not_a_hang(folder: Path) -> None:
    path = folder / "mute.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as mute:
        mute.bind(str(path))
        mute.listen(1)
        with pytest.raises(SignerUnavailableError, match=r"did not answer within 0\.3 s"):
            SignerClient(path, reply_timeout=0.3).sign_update(DOMAIN, UPDATE)


def test_stop_removes_the_socket(account: LocalAccount, folder: Path) -> None:
    with running_agent(account, folder) as agent:
        assert agent.socket_path.exists()
    assert not agent.socket_path.exists()
    with pytest.raises(SignerUnavailableError, match="is not running at"):
        client_of(agent).identity()
