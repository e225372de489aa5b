"""Members' Flower nodes online or offline, as a real SuperLink lists them.

A real ``flower-superlink`` over TLS with SuperNode authentication, node keys made with
``ssh-keygen`` and registered with ``flwr supernode register`` (what an operator does), a real
``flower-supernode`` started with one of them; the members name their keys on chain by fingerprint
(``updateNodeKey``). The dashboard, served by uvicorn with its watcher running, shows each member's
node from the SuperLink's answer, tells the live feed when it changes, and says ``unknown`` where it
cannot know (no key named, no SuperLink, the SuperLink down)."""

from __future__ import annotations

import base64
import datetime
import hashlib
import ipaddress
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from fastapi.testclient import TestClient

from bcfl.chain.anvil import free_port
from bcfl.chain.fingerprints import public_key_fingerprints
from dashboard.app import create_app
from tests.audit.runs import Run
from tests.conftest import Actors
from tests.dashboard.conftest import live_server, next_message, settings_for, sse_messages, wait_for
from tests.dashboard.test_stream import READ_S, stream

BIN = Path(sys.executable).parent
#: The longest a Flower process may take to start on a busy machine.
START_S = 120.0


@dataclass(frozen=True)
class NodeKey:
    private: Path
    public: Path

    def fingerprint_ssh(self) -> str:
        """The SHA-256 ``ssh-keygen -l -E sha256`` prints (base64), as 0x hex."""
        out = subprocess.run(
            ["ssh-keygen", "-l", "-E", "sha256", "-f", str(self.public)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        digest = out.split()[1].removeprefix("SHA256:")
        return "0x" + base64.b64decode(digest + "=" * (-len(digest) % 4)).hex()

    def fingerprint_der(self) -> str:
        """The SHA-256 of the key's DER SubjectPublicKeyInfo, by ssh-keygen and openssl."""
        pem = subprocess.run(
            ["ssh-keygen", "-e", "-m", "PKCS8", "-f", str(self.public)], check=True, capture_output=True
        ).stdout
        der = subprocess.run(
            ["openssl", "pkey", "-pubin", "-outform", "DER"], input=pem, check=True, capture_output=True
        ).stdout
        return "0x" + hashlib.sha256(der).hexdigest()


def new_key(folder: Path, name: str) -> NodeKey:
    private = folder / name
    subprocess.run(["ssh-keygen", "-q", "-t", "ecdsa", "-b", "384", "-N", "", "-f", str(private)], check=True)
    return NodeKey(private, private.with_suffix(".pub"))


def tls_files(folder: Path) -> tuple[Path, Path, Path]:
    """A throw-away CA, and a certificate it signed for 127.0.0.1: (ca.pem, server.pem, server.key)."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "dashboard test CA")])

    def certificate(subject: x509.Name, key: ec.EllipticCurvePrivateKey) -> x509.CertificateBuilder:
        return (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(ca_name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
        )

    ca = certificate(ca_name, ca_key).add_extension(
        x509.BasicConstraints(ca=True, path_length=None), critical=True
    )
    server_key = ec.generate_private_key(ec.SECP256R1())
    server = certificate(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]), server_key
    ).add_extension(
        x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False
    )
    paths = (folder / "ca.pem", folder / "server.pem", folder / "server.key")
    paths[0].write_bytes(ca.sign(ca_key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(server.sign(ca_key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        server_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return paths


class Flower:
    """Flower processes started by a test, each in its own process group, with logs in ``folder``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.env = {
            "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            "FLWR_HOME": str(folder / "flwr"),
        }
        self.env.update({k: os.environ[k] for k in ("HOME", "LANG", "TMPDIR") if k in os.environ})
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self, name: str, *command: str) -> subprocess.Popen[bytes]:
        log = (self.folder / f"{name}.log").open("ab")
        process = subprocess.Popen(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=self.env,
            cwd=self.folder,
            start_new_session=True,
        )
        log.close()
        self.processes.append(process)
        return process

    def run(self, *command: str) -> str:
        return subprocess.run(
            command,
            env=self.env,
            cwd=self.folder,
            check=True,
            capture_output=True,
            text=True,
            timeout=START_S,
        ).stdout

    def log(self, name: str) -> str:
        return (self.folder / f"{name}.log").read_text(errors="replace")[-3000:]

    @staticmethod
    def stop(process: subprocess.Popen[bytes]) -> None:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()

    def stop_all(self) -> None:
        for process in reversed(self.processes):
            self.stop(process)


@dataclass(frozen=True)
class Federation:
    flower: Flower
    superlink: subprocess.Popen[bytes]
    address: str
    ca: Path
    secret: Path


@pytest.fixture
def federation(tmp_path: Path) -> Iterator[Federation]:
    """A SuperLink over TLS that admits registered SuperNodes only."""
    folder = tmp_path / "flower"
    (folder / "flwr").mkdir(parents=True)
    ca, cert, key = tls_files(folder)
    secret = folder / "superexec.secret"
    secret.write_text(os.urandom(32).hex())
    port = free_port()
    address = f"127.0.0.1:{port}"
    (folder / "flwr" / "config.toml").write_text(
        '[superlink]\ndefault = "test"\n\n'
        f'[superlink.test]\naddress = "{address}"\nroot-certificates = "{ca}"\n'
    )
    flower = Flower(folder)
    superlink = flower.start(
        "superlink",
        "flower-superlink",
        f"--ssl-ca-certfile={ca}",
        f"--ssl-certfile={cert}",
        f"--ssl-keyfile={key}",
        "--enable-supernode-auth",
        "--isolation=process",
        "--disable-runtime-dependency-installation",
        "--host=127.0.0.1",
        f"--port={port}",
        f"--superexec-auth-secret-file={secret}",
    )
    try:
        wait_for(
            "the SuperLink to serve TLS",
            lambda: superlink.poll() is None and _answers(f"https://{address}", ca),
            timeout_s=START_S,
            every_s=0.5,
        )
        assert superlink.poll() is None, flower.log("superlink")
        yield Federation(flower, superlink, address, ca, secret)
    finally:
        flower.stop_all()


def _answers(url: str, ca: Path) -> bool:
    try:
        httpx.get(url, verify=str(ca), timeout=2)
    except httpx.HTTPError:
        return False
    return True


def start_supernode(federation: Federation, key: NodeKey) -> subprocess.Popen[bytes]:
    return federation.flower.start(
        f"supernode-{key.private.name}",
        "flower-supernode",
        f"--root-certificates={federation.ca}",
        f"--superlink={federation.address}",
        "--isolation=process",
        "--host=127.0.0.1",
        f"--port={free_port()}",
        f"--superexec-auth-secret-file={federation.secret}",
        f"--auth-supernode-private-key={key.private}",
    )


def test_a_node_key_fingerprint_is_the_sha256_of_the_key_as_ssh_keygen_and_openssl_see_it(
    tmp_path: Path,
) -> None:
    key = new_key(tmp_path, "node")
    public = serialization.load_ssh_public_key(key.public.read_bytes())
    pem = public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    found = public_key_fingerprints(pem)
    assert key.fingerprint_ssh() in found and key.fingerprint_der() in found
    assert key.fingerprint_ssh() != key.fingerprint_der()
    assert new_key(tmp_path, "other").fingerprint_der() not in found
    assert public_key_fingerprints(b"not a key") == {"0x" + hashlib.sha256(b"not a key").hexdigest()}


def test_without_a_superlink_every_node_is_unknown(api: TestClient) -> None:
    assert {m["node"] for m in api.get("/api/v1/members").json()} == {"unknown"}
    nodes = api.get("/api/v1/status").json()["nodes"]
    assert nodes == {
        "reachable": None,
        "error": "no SuperLink configured (BCFL_SUPERLINK)",
        "checked_at": None,
        "online": 0,
    }


def test_members_nodes_follow_the_superlink(
    federation: Federation, run: Run, actors: Actors, members: list[int], tmp_path: Path
) -> None:
    flower, registry = federation.flower, run.consortium.registry
    running_key, idle_key = new_key(tmp_path, "node-a"), new_key(tmp_path, "node-b")
    for key in (running_key, idle_key):
        assert '"success": true' in flower.run(
            "flwr", "supernode", "register", str(key.public), "--format", "json"
        )
    # The first member names its key by its DER fingerprint, the second by its OpenSSH one; the third none.
    registry.update_node_key(actors.hospitals[0], bytes.fromhex(running_key.fingerprint_der()[2:]))
    registry.update_node_key(actors.hospitals[1], bytes.fromhex(idle_key.fingerprint_ssh()[2:]))
    first, second, third = members
    node = start_supernode(federation, running_key)
    wait_for(
        "the SuperNode to connect",
        lambda: "SuperNode ID" in flower.log(f"supernode-{running_key.private.name}"),
        timeout_s=START_S,
        every_s=0.5,
    )
    assert node.poll() is None, flower.log(f"supernode-{running_key.private.name}")

    settings = settings_for(
        run,
        tmp_path,
        poll_s=0.2,
        BCFL_SUPERLINK=federation.address,
        superlink_root_certificates=federation.ca,
    )
    with live_server(create_app(settings)) as url, httpx.Client(base_url=url, timeout=READ_S) as http:

        def nodes() -> dict[int, str]:
            return {m["member_id"]: m["node"] for m in http.get("/api/v1/members").json()}

        wait_for("the first view of the ledger", lambda: http.get("/readyz").status_code == 200)
        wait_for("the SuperLink's answer", lambda: nodes()[first] == "online", timeout_s=60)
        assert nodes() == {
            first: "online",
            second: "offline",
            third: "unknown",
        }  # second: registered, never seen
        listed = {m["member_id"]: m["node_key_fingerprint"] for m in http.get("/api/v1/members").json()}
        assert listed == {
            first: running_key.fingerprint_der(),
            second: idle_key.fingerprint_ssh(),
            third: None,
        }
        status = http.get("/api/v1/status").json()["nodes"]
        assert status["reachable"] is True and status["error"] is None and status["online"] == 1

        with stream(http) as response:
            messages = sse_messages(response)
            assert next(messages).event == "chain"
            Flower.stop(node)
            went = next_message(messages, "nodes")
            assert went.data == {str(first): "offline", str(second): "offline"}
            assert nodes() == {first: "offline", second: "offline", third: "unknown"}

            Flower.stop(federation.superlink)
            gone = next_message(messages, "nodes")
            assert gone.data == {}
        assert set(nodes().values()) == {"unknown"}
        status = http.get("/api/v1/status").json()["nodes"]
        assert status["reachable"] is False and "ConnectError" in status["error"], status
        assert http.get("/readyz").status_code == 200


def test_a_superlink_that_does_not_answer_leaves_nodes_unknown(run: Run, tmp_path: Path) -> None:
    settings = settings_for(run, tmp_path, BCFL_SUPERLINK=f"127.0.0.1:{free_port()}")
    with TestClient(create_app(settings, watch=False)) as client:
        watcher = client.app.state.watcher  # type: ignore[attr-defined]
        watcher.step()
        status = client.get("/api/v1/status").json()
        assert status["chain"]["reachable"] is True
        assert status["nodes"]["reachable"] is False and "ConnectError" in status["nodes"]["error"]
        assert {m["node"] for m in client.get("/api/v1/members").json()} == {"unknown"}
