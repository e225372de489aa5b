"""SuperNode registration through the SuperLink's Control API (what ``flwr supernode register``,
``unregister`` and ``list`` do), with Flower's own client, ``ControlHttpClient``.

With ``--enable-supernode-auth`` the SuperLink admits a SuperNode only if its public key was
registered here. Unregistering takes the node id Flower gave at registration; the SuperNode is
refused at its next request (within seconds) and exits. A key once unregistered can never be
registered again (Flower keeps it, unique): the node needs a new key. The Control API has no
authentication in open-source Flower, so it must be reachable only from the coordinator's host
(the SuperLink listens on loopback; hospitals reach the Fleet API through bcfl.flower.gateway).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import httpx
from flwr.proto.control_pb2 import ListNodesRequest, RegisterNodeRequest, UnregisterNodeRequest
from flwr.supercore.control import ControlHttpClient
from flwr.supercore.error.base import FlowerError

from bcfl.chain.exceptions import ChainError
from bcfl.chain.fingerprints import public_key_fingerprints

logger = logging.getLogger(__name__)


class ControlError(ChainError):
    """The SuperLink's Control API refused a request or could not be reached (the message says which)."""


@dataclass(frozen=True)
class RegisteredNode:
    """A SuperNode as the SuperLink lists it: Flower's status (``registered``, ``online``,
    ``offline`` or ``unregistered``) and its public key (PEM SubjectPublicKeyInfo)."""

    node_id: int
    status: str
    name: str
    public_key: bytes

    def has_fingerprint(self, fingerprint: bytes) -> bool:
        """Whether this node's key is the one with this on-chain fingerprint."""
        return "0x" + fingerprint.hex() in public_key_fingerprints(self.public_key)


class ControlClient:
    """The Control API of the SuperLink at ``address`` (``host:port``), over TLS checked against
    ``root_certificates`` (``None``: plain HTTP, the ``--insecure`` demo only). Use it as a context
    manager."""

    def __init__(self, address: str, root_certificates: Path | None) -> None:
        self.address = address
        self._client = ControlHttpClient.from_server_address(
            server_address=address,
            insecure=root_certificates is None,
            root_certificates=None if root_certificates is None else root_certificates.read_bytes(),
            interceptors=[],
        )

    def __enter__(self) -> ControlClient:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()

    def nodes(self) -> list[RegisteredNode]:
        """Every SuperNode the SuperLink knows, unregistered ones included."""
        try:
            listed = self._client.ListNodes(ListNodesRequest())
        except (httpx.HTTPError, ValueError) as exc:
            raise self._error("list the SuperNodes", exc) from None
        return [
            RegisteredNode(int(n.node_id), str(n.status), str(n.name), bytes(n.public_key))
            for n in listed.nodes_info
        ]

    def register(self, public_key_pem: bytes, name: str) -> int:
        """Register a SuperNode's public key (PEM SubjectPublicKeyInfo); returns its node id."""
        try:
            reply = self._client.RegisterNode(RegisterNodeRequest(public_key=public_key_pem, name=name))
        except (httpx.HTTPError, ValueError) as exc:
            raise self._error(f"register {name}'s node key", exc) from None
        logger.info("registered %s's node key with the SuperLink: node %d", name, reply.node_id)
        return int(reply.node_id)

    def unregister(self, node_id: int) -> None:
        """Unregister a SuperNode: it is refused from its next request on, for good."""
        try:
            self._client.UnregisterNode(UnregisterNodeRequest(node_id=node_id))
        except (httpx.HTTPError, ValueError) as exc:
            raise self._error(f"unregister node {node_id}", exc) from None
        logger.info("unregistered node %d from the SuperLink", node_id)

    def _error(self, what: str, exc: Exception) -> ControlError:
        if isinstance(exc, httpx.HTTPStatusError):
            flower = FlowerError.from_json(exc.response.text)
            if flower is not None:
                detail = " ".join(
                    p for p in (f"[code: {flower.code}]", flower.message, flower.public_details) if p
                )
            else:
                detail = exc.response.text[:300].strip() or f"HTTP {exc.response.status_code}"
            return ControlError(f"the SuperLink at {self.address} refused to {what}: {detail}")
        return ControlError(f"cannot {what} at the SuperLink {self.address}: {type(exc).__name__}: {exc}")
