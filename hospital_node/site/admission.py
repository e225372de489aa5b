"""Whether the SuperLink admits this node's key, asked without side effects.

Flower 1.41's ``ActivateNode`` (the first call a SuperNode makes, signed with its key) looks the key
up before anything else: an unknown key is refused with code 2004 ("No SuperNode found with the given
public key"); a known key goes on to the heartbeat interval's check. Sent with an interval outside
Flower's bounds, a known key is refused with code 2003 before the node is marked online, so the
answer tells admission apart and changes nothing on the SuperLink.
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from flwr.proto.fleet_pb2 import ActivateNodeRequest
from flwr.supercore.error.base import ApiErrorCode, FlowerError
from flwr.supercore.interceptors.http.runtime_version import RuntimeVersionHttpInterceptor
from flwr.supercore.primitives.asymmetric import public_key_to_bytes
from flwr.supernode.fleet_http_client import FleetHttpClient
from flwr.supernode.node_auth_http_interceptor import NodeAuthHttpInterceptor

#: An interval Flower refuses (its bounds are positive), so no node is ever activated by the probe.
PROBE_INTERVAL = -1.0


class Admission(Enum):
    """The SuperLink's answer to the node key."""

    ACCEPTED = "accepted"
    UNKNOWN_KEY = "unknown key"
    UNAUTHENTICATED = "signature refused"


def probe(address: str, ca_cert: Path, node_key: Path) -> Admission:
    """Ask the SuperLink at ``address`` whether it admits ``node_key`` (HTTPError if it cannot be asked)."""
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
    try:
        client.ActivateNode(
            ActivateNodeRequest(public_key=public_key_to_bytes(public), heartbeat_interval=PROBE_INTERVAL)
        )
    except httpx.HTTPStatusError as exc:
        if exc.response.status_code == httpx.codes.UNAUTHORIZED:
            return Admission.UNAUTHENTICATED
        error = FlowerError.from_json(exc.response.text)
        code = None if error is None else error.code
        if code == ApiErrorCode.FLEET_INVALID_HEARTBEAT_INTERVAL:
            return Admission.ACCEPTED
        if code == ApiErrorCode.FLEET_NODE_ACTIVATION_FAILED:
            return Admission.UNKNOWN_KEY
        raise
    finally:
        client.close()
    return Admission.ACCEPTED  # not reached with Flower 1.41: the interval is refused
