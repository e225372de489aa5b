"""Whether the SuperLink admits this node's key, asked without side effects.

Flower 1.41's ``ActivateNode`` (the first call a SuperNode makes, signed with its key) looks the key
up before anything else: an unknown key is refused with code 2004 ("No SuperNode found with the given
public key"); a known key goes on to the heartbeat interval's check. Sent with an interval outside
Flower's bounds, a known key is refused with code 2003 before the node is marked online, so the
answer tells admission apart and changes nothing on the SuperLink.

A SuperNode killed without a goodbye (a crash, a power cut, SIGKILL) stays online on the SuperLink
until its heartbeats lapse (Flower: 30 s apart, two missed: up to a minute), and Flower refuses to
activate a node that is online: restarted within that minute, Flower's SuperNode exits at once
("Failed to activate SuperNode"). :func:`wait_until_activatable` is what ``bcfl-supernode`` does
first: it waits, asking every few seconds, until the SuperLink would activate the node, and leaves
it offline again for Flower to take over.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from enum import Enum
from pathlib import Path

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from flwr.common.constant import HEARTBEAT_DEFAULT_INTERVAL, HEARTBEAT_PATIENCE
from flwr.proto.fleet_pb2 import ActivateNodeRequest, DeactivateNodeRequest
from flwr.supercore.error.base import ApiErrorCode, FlowerError
from flwr.supercore.interceptors.http.runtime_version import RuntimeVersionHttpInterceptor
from flwr.supercore.primitives.asymmetric import public_key_to_bytes
from flwr.supernode.fleet_http_client import FleetHttpClient
from flwr.supernode.node_auth_http_interceptor import NodeAuthHttpInterceptor

logger = logging.getLogger(__name__)

#: An interval Flower refuses (its bounds are positive), so no node is ever activated by the probe.
PROBE_INTERVAL = -1.0
#: How long a restarted SuperNode waits for the SuperLink to let the crashed run of it go: the
#: longest it holds a silent node online (heartbeat interval x patience), and some.
TAKEOVER_PATIENCE_S = HEARTBEAT_DEFAULT_INTERVAL * HEARTBEAT_PATIENCE + 30.0
TAKEOVER_RETRY_S = 2.0


class Admission(Enum):
    """The SuperLink's answer to the node key."""

    ACCEPTED = "accepted"
    UNKNOWN_KEY = "unknown key"
    UNAUTHENTICATED = "signature refused"


def _client(address: str, ca_cert: Path, node_key: Path) -> tuple[FleetHttpClient, bytes]:
    """A Fleet API client signing with ``node_key``, and the key's public bytes."""
    private = serialization.load_ssh_private_key(node_key.read_bytes(), password=None)
    assert isinstance(private, ec.EllipticCurvePrivateKey)
    public = private.public_key()
    client = FleetHttpClient.from_server_address(
        address,
        False,
        ca_cert.read_bytes(),
        interceptors=[
            RuntimeVersionHttpInterceptor(component_name="SuperNode"),
            NodeAuthHttpInterceptor(private, public),
        ],
    )
    return client, public_key_to_bytes(public)


def _code(exc: httpx.HTTPStatusError) -> int | None:
    error = FlowerError.from_json(exc.response.text)
    return None if error is None else error.code


def probe(address: str, ca_cert: Path, node_key: Path) -> Admission:
    """Ask the SuperLink at ``address`` whether it admits ``node_key`` (HTTPError if it cannot be asked)."""
    client, public = _client(address, ca_cert, node_key)
    try:
        client.ActivateNode(ActivateNodeRequest(public_key=public, heartbeat_interval=PROBE_INTERVAL))
    except httpx.HTTPStatusError as exc:
        if exc.response.status_code == httpx.codes.UNAUTHORIZED:
            return Admission.UNAUTHENTICATED
        code = _code(exc)
        if code == ApiErrorCode.FLEET_INVALID_HEARTBEAT_INTERVAL:
            return Admission.ACCEPTED
        if code == ApiErrorCode.FLEET_NODE_ACTIVATION_FAILED:
            return Admission.UNKNOWN_KEY
        raise
    finally:
        client.close()
    return Admission.ACCEPTED  # not reached with Flower 1.41: the interval is refused


def wait_until_activatable(
    address: str,
    ca_cert: Path,
    node_key: Path,
    patience_s: float = TAKEOVER_PATIENCE_S,
    sleep: Callable[[float], None] = time.sleep,
) -> float:
    """Wait until the SuperLink at ``address`` would activate ``node_key``'s node, then leave the
    node offline for Flower's SuperNode to activate; the seconds waited. A key the SuperLink does not
    admit, an endpoint that cannot be asked, or ``patience_s`` passing end the wait at once: Flower's
    SuperNode then says what is wrong in its own words."""
    if probe(address, ca_cert, node_key) is not Admission.ACCEPTED:
        return 0.0
    client, public = _client(address, ca_cert, node_key)
    started = time.monotonic()
    said = False
    try:
        while True:
            try:
                activated = client.ActivateNode(
                    ActivateNodeRequest(public_key=public, heartbeat_interval=HEARTBEAT_DEFAULT_INTERVAL)
                )
            except httpx.HTTPStatusError as exc:
                waited = time.monotonic() - started
                if _code(exc) != ApiErrorCode.FLEET_NODE_ACTIVATION_FAILED or waited > patience_s:
                    return waited
                if not said:
                    logger.warning(
                        "the SuperLink still holds this node online (a run of it that stopped without "
                        "saying goodbye, until its heartbeats lapse): waiting up to %.0f s to take over",
                        patience_s,
                    )
                    said = True
                sleep(TAKEOVER_RETRY_S)
                continue
            client.DeactivateNode(DeactivateNodeRequest(node_id=activated.node_id))
            return time.monotonic() - started
    finally:
        client.close()
