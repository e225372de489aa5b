"""Which members' Flower nodes are online, as the SuperLink says.

Flower 1.41's SuperLink lists its SuperNodes through the Control API (``ListNodes``, what ``flwr
supernode list`` shows): each with its status and its public key. A member names its node by the
registry's ``nodeKeyFingerprint`` (``bcfl member request --node-key-fingerprint``, then
``NodeKeyUpdated``): the SHA-256 of the node's public key. So a node maps to a member when the
fingerprint of its key is the member's: that holds for a SuperNode started with its own key
(``flower-supernode --auth-supernode-private-key``, the key registered with ``flwr supernode
register``; Flower allows it over TLS only), as the demo's are. A SuperNode started without a key
(``bcfl demo --insecure``) makes up a new key at every start and cannot be told apart from another: its
member's node stays ``unknown``, as does every node while the SuperLink is not configured or does
not answer.

The fingerprint is taken over the key as a hospital may hold it: the DER SubjectPublicKeyInfo
(``openssl pkey -pubin -outform DER | sha256sum``), the OpenSSH key blob (what ``ssh-keygen -l -E
sha256`` hashes, and what the registry's ``publishNodeKey`` checks) or the PEM bytes the SuperLink
reports; any of the three matches (:func:`bcfl.chain.fingerprints.public_key_fingerprints`).
"""

from __future__ import annotations

import logging
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import httpx
from flwr.proto.control_pb2 import ListNodesRequest, ListNodesResponse
from google.protobuf.message import DecodeError  # type: ignore[import-untyped]

from bcfl.audit.history import History
from bcfl.chain.fingerprints import public_key_fingerprints
from bcfl.text import printable

logger = logging.getLogger(__name__)

NodeState = Literal["online", "offline", "unknown"]
#: Seconds between two questions to the SuperLink, at least.
EVERY_S = 5.0
#: Seconds the SuperLink may take to answer.
TIMEOUT_S = 3.0
#: The Control API's ``ListNodes`` over HTTP (protobuf in, protobuf out), as ``flwr`` calls it.
LIST_NODES = "/v1/control/list-nodes"
PROTOBUF = "application/protobuf"
#: A member that never named a node key.
NO_KEY = "0x" + "00" * 32


@dataclass(frozen=True)
class SuperNode:
    """One SuperNode as the SuperLink lists it: Flower's status (``online``, ``offline``,
    ``registered`` (never connected) or ``unregistered``) and its key's fingerprints."""

    node_id: int
    status: str
    fingerprints: frozenset[str]


@dataclass(frozen=True)
class NodesAnswer:
    """What the SuperLink last said (``reachable`` None: no SuperLink configured, never asked)."""

    reachable: bool | None
    error: str | None
    checked_at: float | None
    nodes: tuple[SuperNode, ...] = ()

    @property
    def online(self) -> int:
        return sum(node.status == "online" for node in self.nodes)


NOT_ASKED = NodesAnswer(None, "no SuperLink configured (BCFL_SUPERLINK)", None)


def node_keys(history: History) -> dict[int, str]:
    """Each member's current node key fingerprint (lower-case 0x hex), for those that named one."""
    keys: dict[int, str] = {}
    for member_id, events in history.membership.items():
        for event in events:
            if event.name in ("MembershipRequested", "NodeKeyUpdated"):
                keys[member_id] = str(event.args.get("nodeKeyFingerprint", NO_KEY)).lower()
    return {member_id: key for member_id, key in keys.items() if key != NO_KEY}


def member_states(answer: NodesAnswer, keys: Mapping[int, str]) -> dict[int, NodeState]:
    """``online`` or ``offline`` for each member whose key names a node the SuperLink lists."""
    if not answer.reachable:
        return {}
    states: dict[int, NodeState] = {}
    for member_id, key in keys.items():
        matched = [n for n in answer.nodes if key in n.fingerprints and n.status != "unregistered"]
        if matched:
            states[member_id] = "online" if any(n.status == "online" for n in matched) else "offline"
    return states


def base_url(address: str, root_certificates: Path | None) -> str:
    """``host:port`` (plain HTTP, as the demo's ``--insecure`` SuperLink serves it) or an
    ``http(s)://`` URL; root certificates mean TLS."""
    if "://" in address:
        return address.rstrip("/")
    return f"{'https' if root_certificates else 'http'}://{address}"


class SuperLinkNodes:
    """Asks the SuperLink for its SuperNodes, at most every ``every_s`` seconds (call :meth:`poll`
    from one thread; read :attr:`answer` from any)."""

    def __init__(
        self,
        address: str | None,
        root_certificates: Path | None = None,
        *,
        every_s: float = EVERY_S,
        timeout_s: float = TIMEOUT_S,
    ) -> None:
        self.answer = NOT_ASKED
        self.every_s = every_s
        self._next = 0.0
        self._client: httpx.Client | None = None
        self._url = ""
        if address:
            verify: ssl.SSLContext | bool = True
            if root_certificates is not None:
                verify = ssl.create_default_context(cafile=str(root_certificates))
            self._url = base_url(address, root_certificates) + LIST_NODES
            self._client = httpx.Client(verify=verify, timeout=timeout_s, follow_redirects=False)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()

    def poll(self, now: float | None = None) -> bool:
        """Ask if it is time; True if the answer changed (nodes, statuses or reachability)."""
        now = time.monotonic() if now is None else now
        if self._client is None or now < self._next:
            return False
        self._next = now + self.every_s
        before = self.answer
        self.answer = self._ask(self._client)
        if (before.reachable, before.error) != (self.answer.reachable, self.answer.error):
            if self.answer.reachable:
                logger.info("the SuperLink answers: %d SuperNodes online", self.answer.online)
            else:
                logger.warning("the SuperLink cannot be asked for its nodes: %s", self.answer.error)
        return (before.reachable, before.error, before.nodes) != (
            self.answer.reachable,
            self.answer.error,
            self.answer.nodes,
        )

    def _ask(self, client: httpx.Client) -> NodesAnswer:
        try:
            response = client.post(
                self._url,
                content=ListNodesRequest().SerializeToString(),
                headers={"content-type": PROTOBUF, "accept": PROTOBUF},
            )
            if response.status_code != 200:
                return NodesAnswer(False, f"the SuperLink answered HTTP {response.status_code}", time.time())
            listed = ListNodesResponse()
            listed.ParseFromString(response.content)
        except (httpx.HTTPError, ssl.SSLError, OSError) as exc:
            return NodesAnswer(False, printable(f"{type(exc).__name__}: {exc}", 200), time.time())
        except DecodeError:
            return NodesAnswer(
                False, "the SuperLink's answer is not a Control API ListNodes reply", time.time()
            )
        nodes = tuple(
            SuperNode(int(info.node_id), str(info.status), public_key_fingerprints(bytes(info.public_key)))
            for info in listed.nodes_info
        )
        return NodesAnswer(True, None, time.time(), nodes)
