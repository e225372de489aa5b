"""The SuperLink over TLS with SuperNode authentication behind the Fleet gateway, as the demo's
topology starts them (bcfl.demo.topology through the launcher's FlowerDeployment): real
``flower-superlink``, ``bcfl fleet-gateway`` and ``flower-supernode`` processes, on loopback only.

The gateway forwards the Fleet API (the SuperNodes' signed headers pass through it) and answers 404
to the Control and Runtime APIs; a node key never registered is refused; a node unregistered while it
runs is dropped within seconds and its key can never come back; registrations survive a restart."""

from __future__ import annotations

import asyncio
import http.client
import ssl
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from flwr.proto.control_pb2 import ListNodesRequest
from typer.testing import CliRunner

from bcfl.chain.anvil import free_port
from bcfl.cli.main import app
from bcfl.demo.node_registration import register_node_keys
from bcfl.demo.processes import ManagedProcess
from bcfl.demo.topology import (
    superlink,
)
from bcfl.flower.certs import ensure_tls
from bcfl.flower.control import ControlError, RegisteredNode
from bcfl.flower.gateway import FleetGateway
from tests.flower.tls_stack import TlsStack, tls_stack

NODES = ["admitted", "stranger", "revoked"]
#: The longest a Flower process may take to connect or to go on a busy machine.
WAIT_S = 120.0
PROTOBUF = {"content-type": "application/protobuf", "accept": "application/protobuf"}


class Stack(TlsStack):
    def node(self, name: str) -> RegisteredNode | None:
        with self.control() as control:
            found = [n for n in control.nodes() if n.has_fingerprint(self.keys[name].fingerprint)]
        return found[0] if found else None

    def log(self, managed: ManagedProcess) -> str:
        return managed.log.read_text(errors="replace")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with tls_stack(Stack, tmp_path_factory.mktemp("tls"), NODES) as running:
        yield running


def wait_until(what: str, check: Callable[[], object], timeout_s: float = WAIT_S) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, f"timed out after {timeout_s}s waiting for {what}"
        time.sleep(0.3)


def raw_post(port: int, path: str, ca: Path) -> int:
    """POST ``path`` exactly as written (no URL normalization), over TLS; the status code."""
    connection = http.client.HTTPSConnection(
        "127.0.0.1", port, context=ssl.create_default_context(cafile=str(ca)), timeout=30
    )
    try:
        connection.request("POST", path, body=ListNodesRequest().SerializeToString(), headers=PROTOBUF)
        return connection.getresponse().status
    finally:
        connection.close()


def test_the_superlink_listens_on_loopback_and_the_gateway_forwards_the_fleet_api_only(stack: Stack) -> None:
    command = stack.flower.processes[0].process.args
    assert (
        isinstance(command, list) and "--host=127.0.0.1" in command and "--enable-supernode-auth" in command
    )
    link, gateway = stack.plan.superlink_port, stack.gateway_port
    # The SuperLink itself serves the Control API to anyone who reaches its port, without credentials.
    assert raw_post(link, "/v1/control/list-nodes", stack.ca) == 200
    for path in (
        "/v1/control/list-nodes",
        "/v1/control/start-run",
        "/v1/control/register-node",
        "/v1/runtime/pull-messages",
        "/docs",
        "/health",
        "/v1/fleet/../control/list-nodes",
        "/v1/fleet/%2e%2e/control/list-nodes",
        "/v1/fleet//control/list-nodes",
        "/v1/fleet/pull-messages?x=/v1/control",
    ):
        assert raw_post(gateway, path, stack.ca) == 404, path
    # A Fleet call goes through to the SuperLink, which checks the node's signature: none here.
    refused = httpx.post(
        f"https://127.0.0.1:{gateway}/v1/fleet/pull-messages",
        headers=PROTOBUF,
        content=b"",
        verify=ssl.create_default_context(cafile=str(stack.ca)),
    )
    assert refused.status_code == 401 and "Invalid SuperNode authentication" in refused.text
    # The gateway's certificate is the consortium's: without the CA, no connection.
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        httpx.post(f"https://127.0.0.1:{gateway}/v1/fleet/pull-messages", content=b"")


def test_a_registered_node_connects_through_the_gateway_with_its_signed_headers(stack: Stack) -> None:
    with stack.control() as control:
        (node_id,) = register_node_keys(control, {"admitted": stack.keys["admitted"]}).values()
        assert register_node_keys(control, {"admitted": stack.keys["admitted"]}) == {"admitted": node_id}
    process = stack.start_node("admitted")
    wait_until("the admitted node online", lambda: (n := stack.node("admitted")) and n.status == "online")
    assert process.process.poll() is None, stack.log(process)
    assert "--auth-supernode-private-key" in " ".join(map(str, process.process.args))  # type: ignore[arg-type]
    assert f"--superlink=127.0.0.1:{stack.gateway_port}" in process.process.args  # type: ignore[operator]
    # It activated through the gateway: the SuperLink checked its signed headers and accepted them.
    activated = [
        line for line in stack.log(stack.superlink).splitlines() if "/v1/fleet/activate-node" in line
    ]
    assert any(" 200" in line for line in activated), activated


def test_a_node_whose_key_was_never_registered_is_refused(stack: Stack) -> None:
    process = stack.start_node("stranger")
    wait_until("the stranger to give up", lambda: process.process.poll() is not None)
    log = stack.log(process)
    assert process.process.returncode != 0 and "Failed to activate SuperNode" in log, log[-2000:]
    assert "No SuperNode found with the given public key" in stack.log(stack.superlink)
    assert stack.node("stranger") is None


def test_a_node_unregistered_while_it_runs_is_dropped_and_its_key_never_comes_back(stack: Stack) -> None:
    key = stack.keys["revoked"]
    with stack.control() as control:
        node_id = register_node_keys(control, {"revoked": key})["revoked"]
    process = stack.start_node("revoked")
    wait_until("the node online", lambda: (n := stack.node("revoked")) and n.status == "online")
    with stack.control() as control:
        control.unregister(node_id)
    started = time.monotonic()
    wait_until("the SuperNode to be dropped", lambda: process.process.poll() is not None, timeout_s=60)
    assert time.monotonic() - started < 60
    node = stack.node("revoked")
    assert node is not None and node.status == "unregistered"
    with stack.control() as control:
        with pytest.raises(ControlError, match=r"can never be registered again: move .*node\.key away"):
            register_node_keys(control, {"revoked": key})
        with pytest.raises(ControlError, match="refused to register"):
            control.register(key.spki_pem, "revoked")
    # The admitted node is still served.
    admitted = stack.node("admitted")
    assert admitted is not None and admitted.status == "online"


def test_registrations_survive_a_superlink_restart(stack: Stack) -> None:
    """Last: it restarts the SuperLink (its database keeps the registrations)."""
    with stack.control() as control:
        before = {(n.node_id, n.status == "unregistered") for n in control.nodes()}
    assert before
    stack.superlink.stop()
    stack.superlink = stack.flower.start(superlink(stack.layout, stack.plan))
    with stack.control() as control:
        after = {(n.node_id, n.status == "unregistered") for n in control.nodes()}
    assert after == before


def test_the_gateway_answers_502_when_the_superlink_is_down_and_404_off_the_fleet_api() -> None:
    gateway = FleetGateway(f"https://127.0.0.1:{free_port()}", verify=True, timeout_s=5)

    async def ask() -> tuple[int, int]:
        transport = httpx.ASGITransport(app=gateway)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            fleet = await client.post("/v1/fleet/pull-messages", content=b"")
            control = await client.post("/v1/control/list-nodes", content=b"")
        await gateway.client().aclose()
        return fleet.status_code, control.status_code

    assert asyncio.run(ask()) == (502, 404)


def test_fleet_gateway_refuses_bad_options_in_one_line(tmp_path: Path) -> None:
    files = ensure_tls(tmp_path / "tls", [])
    good = ["--certfile", str(files.server_cert), "--keyfile", str(files.server_key)]
    good += ["--ca-certfile", str(files.ca_cert)]
    cases = {
        "no file at": ["--superlink", "127.0.0.1:9092", *good[:-1], str(tmp_path / "missing.crt")],
        "must be host:port": ["--superlink", "https://127.0.0.1:9092", *good],
    }
    for message, args in cases.items():
        result = CliRunner().invoke(app, ["fleet-gateway", *args])
        assert result.exit_code != 0 and message in result.output, result.output
        assert "Traceback" not in result.output
