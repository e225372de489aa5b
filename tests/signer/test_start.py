"""Starting and stopping the agent: one agent per socket, stale sockets replaced, private folders only,
and callers of another uid kept out by the file modes and, failing those, by their credentials."""

from __future__ import annotations

import json
import os
import socket
import struct
from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_account.signers.local import LocalAccount

from hospital_node.signer.server import SignerStartError, SigningAgent
from hospital_node.signer.signing import Signer
from tests.signer.helpers import DOMAIN, new_account, request, running_agent, short_folder, update_fields

NOBODY = 65534


@pytest.fixture(scope="module")
def account() -> LocalAccount:
    return new_account()


@pytest.fixture
def folder() -> Iterator[Path]:
    with short_folder() as path:
        yield path


def test_a_second_agent_on_a_live_socket_refuses_to_start(account: LocalAccount, folder: Path) -> None:
    with running_agent(account, folder) as first:
        second = SigningAgent(Signer(new_account(), DOMAIN), first.socket_path)
        with pytest.raises(SignerStartError, match=f"already runs on .* \\(pid {os.getpid()}\\): stop it"):
            second.start()
        assert first.socket_path.exists()
        reply = _as_other_user_or_self(first.socket_path, uid=None)
        assert reply["signer"] == account.address


def test_a_stale_socket_file_is_replaced(account: LocalAccount, folder: Path) -> None:
    path = folder / "signer" / "agent.sock"
    path.parent.mkdir(mode=0o700)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as dead:
        dead.bind(str(path))
    with running_agent(account, folder) as agent:
        assert _as_other_user_or_self(agent.socket_path, uid=None)["signer"] == account.address


def test_a_file_that_is_not_a_socket_is_left_alone(account: LocalAccount, folder: Path) -> None:
    path = folder / "signer" / "agent.sock"
    path.parent.mkdir(mode=0o700)
    path.write_text("not mine to remove")
    with pytest.raises(SignerStartError, match="exists and is not a socket"):
        SigningAgent(Signer(account, DOMAIN), path).start()
    assert path.read_text() == "not mine to remove"


def test_a_folder_open_to_others_is_refused_not_changed(account: LocalAccount, folder: Path) -> None:
    (folder / "signer").mkdir(mode=0o755)
    os.chmod(folder / "signer", 0o755)
    with pytest.raises(SignerStartError, match="open to other users \\(mode 755\\): `chmod 700"):
        SigningAgent(Signer(account, DOMAIN), folder / "signer" / "agent.sock").start()
    assert (folder / "signer").stat().st_mode & 0o777 == 0o755


def test_a_socket_path_too_long_for_unix_sockets_is_named(account: LocalAccount, folder: Path) -> None:
    path = folder / ("x" * 120) / "agent.sock"
    with pytest.raises(SignerStartError, match="over 107 bytes"):
        SigningAgent(Signer(account, DOMAIN), path).start()


@pytest.mark.skipif(os.geteuid() != 0, reason="running a client as another uid needs root")
def test_another_user_cannot_reach_the_socket(account: LocalAccount, folder: Path) -> None:
    with running_agent(account, folder) as agent:
        assert _as_other_user_or_self(agent.socket_path, uid=NOBODY) == {"connect": "PermissionError"}


@pytest.mark.skipif(os.geteuid() != 0, reason="running a client as another uid needs root")
def test_another_user_is_refused_by_its_credentials_even_with_open_modes(
    account: LocalAccount, folder: Path
) -> None:
    """If the folder and socket were opened to everyone by mistake, SO_PEERCRED still refuses."""
    with running_agent(account, folder) as agent:
        os.chmod(agent.socket_path.parent, 0o755)
        os.chmod(agent.socket_path, 0o666)
        reply = _as_other_user_or_self(agent.socket_path, uid=NOBODY)
        assert reply["ok"] is False
        assert reply["error"] == f"refused: this agent serves only its node's user (uid 0), not uid {NOBODY}"
        assert _as_other_user_or_self(agent.socket_path, uid=None)["ok"] is True


def _as_other_user_or_self(path: Path, uid: int | None) -> dict[str, object]:
    """One sign-update request from a forked child process, as ``uid`` (dropping root's groups, gid
    and uid, so no privilege is left) or, for None, as this process's user: its reply, or the name of
    the error its connect met."""
    readable, writable = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        os.close(readable)
        try:
            if uid is not None:
                os.setgroups([])
                os.setgid(uid)
                os.setuid(uid)
            answer = _one_request(path)
        except BaseException as exc:
            answer = {"child": repr(exc)}
        os.write(writable, json.dumps(answer).encode())
        os._exit(0)
    os.close(writable)
    with os.fdopen(readable, "rb") as pipe:
        output = pipe.read()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    reply: dict[str, object] = json.loads(output)
    assert "child" not in reply, reply
    return reply


def _one_request(path: Path) -> dict[str, object]:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(30)
        try:
            sock.connect(str(path))
        except OSError as exc:
            return {"connect": type(exc).__name__}
        sock.sendall(request(**update_fields()))
        size = struct.unpack(">I", sock.recv(4))[0]
        reply: dict[str, object] = json.loads(sock.recv(size))
        return reply
