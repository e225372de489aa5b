"""What the signing agent's tests share: a short private folder for sockets, a running agent, raw
frames (what a hostile or broken client sends)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import struct
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount

from bcfl.chain.eip712 import EvaluationReport, LedgerDomain, ModelUpdate
from hospital_node.signer.server import IDLE_TIMEOUT_S, SigningAgent
from hospital_node.signer.signing import Signer

DOMAIN = LedgerDomain(31337, "0x5FbDB2315678afecb367f032d93F642f64180aa3")
UPDATE = ModelUpdate(3, bytes(range(32)), bytes(range(32, 64)), 120, 1_250_000, 10**13)
REPORT = EvaluationReport(3, bytes(range(64, 96)), bytes(range(96, 128)), 40)


@contextmanager
def short_folder() -> Iterator[Path]:
    """A folder under /tmp (socket paths must stay under 108 bytes), mode 0755 so that another user
    can reach what the agent puts in it; removed afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="bcfl-signer-", dir="/tmp"))
    os.chmod(folder, 0o755)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def new_account() -> LocalAccount:
    account: LocalAccount = Account.create()
    return account


@contextmanager
def running_agent(
    account: LocalAccount,
    folder: Path,
    *,
    allowed_uids: frozenset[int] | None = None,
    idle_timeout: float = IDLE_TIMEOUT_S,
) -> Iterator[SigningAgent]:
    """An agent serving ``account`` under :data:`DOMAIN` on ``folder/signer/agent.sock``."""
    path = folder / "signer" / "agent.sock"
    with SigningAgent(
        Signer(account, DOMAIN), path, allowed_uids=allowed_uids, idle_timeout=idle_timeout
    ) as agent:
        yield agent


def frame(payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + payload


def raw_exchange(path: Path, data: bytes) -> dict[str, object] | None:
    """Send ``data`` as it is and read one framed reply (None if the agent closed without one)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(30)
        sock.connect(str(path))
        sock.sendall(data)
        header = _read(sock, 4)
        if header is None:
            return None
        body = _read(sock, struct.unpack(">I", header)[0])
        assert body is not None
        reply: dict[str, object] = json.loads(body)
        return reply


def _read(sock: socket.socket, size: int) -> bytes | None:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def request(**fields: object) -> bytes:
    """A framed JSON request of ``fields``."""
    return frame(json.dumps(fields).encode())


def domain_fields(domain: LedgerDomain = DOMAIN) -> dict[str, object]:
    return {"chain_id": domain.chain_id, "verifying_contract": domain.verifying_contract}


def update_fields(**overrides: object) -> dict[str, object]:
    """A valid sign-update request's fields (:data:`UPDATE` under :data:`DOMAIN`), some replaced."""
    fields: dict[str, object] = {
        "v": 2,
        "op": "sign-update",
        "domain": domain_fields(),
        "round": UPDATE.round,
        "global_model_hash": "0x" + UPDATE.global_model_hash.hex(),
        "update_hash": "0x" + UPDATE.update_hash.hex(),
        "num_examples": UPDATE.num_examples,
        "epsilon_spent": UPDATE.epsilon_spent,
        "delta_spent": UPDATE.delta_spent,
    }
    return {**fields, **overrides}
