"""Keep the SuperLink's node registrations in step with the registry: which SuperNodes Flower admits.

With ``--enable-supernode-auth`` the SuperLink admits a SuperNode only if its public key was
registered through the Control API (bcfl.flower.control). The registry says whose key that should be:
a member publishes its node key on chain (``publishNodeKey``, bound to its ``nodeKeyFingerprint``), and
the admin (or the members) approve, suspend, reject, and the member rotates its key. The rule,
applied per published key (its holder is the member of its latest publication: the contract lets a
second member publish a key only once its first holder was rejected):

- the holder is ACTIVE and the key is its current one: the key is **registered** (Flower's name is the
  member's name, sanitized, or ``member-<id>``); if Flower lists it as ``unregistered`` already, it can
  never come back (Flower keeps the key, unique): a **problem** for that member, whose hospital needs a
  new node key (``updateNodeKey`` then ``publishNodeKey``: a rotation), e.g. after a reinstatement;
- the holder is SUSPENDED or REJECTED, or the key is no longer its current one (rotated out): the key is
  **unregistered** (the running SuperNode is refused at its next request and exits);
- the holder is PENDING: nothing (a key registered already is reported, never unregistered, since that
  would burn it before the approval).

Keys the SuperLink lists that no member published are left alone and reported as **unknown**: the sync
does what the chain says and nothing else, and unregistering is irreversible (the operator of the
SuperLink registered them; the ledger refuses updates from non-members anyway). Chain data is
untrusted: a published key Flower cannot use, or a name with odd characters, is a problem or is
sanitized, never a crash. The sync sends no transaction and needs no key.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from cryptography.hazmat.primitives import serialization

from bcfl.chain.exceptions import KeyFormatError
from bcfl.chain.fingerprints import openssh_key_blob, openssh_line, public_key_fingerprints
from bcfl.chain.registry import Member, MemberStatus, NodeKeyPublication, Registry
from bcfl.flower.control import ControlError, RegisteredNode

logger = logging.getLogger(__name__)

#: Flower's status of a node whose key was unregistered (for good).
UNREGISTERED = "unregistered"
#: Longest node name given to Flower.
NAME_LIMIT = 48


class NodeControl(Protocol):
    """What the sync needs of the SuperLink's Control API (bcfl.flower.control.ControlClient)."""

    def nodes(self) -> list[RegisteredNode]: ...

    def register(self, public_key_pem: bytes, name: str) -> int: ...

    def unregister(self, node_id: int) -> None: ...


@dataclass(frozen=True)
class RegistryView:
    """What the sync reads from the registry, at one block: every member and every node key
    publication (in chain order)."""

    block: int
    members: tuple[Member, ...]
    publications: tuple[NodeKeyPublication, ...]


@dataclass(frozen=True)
class NodeChange:
    """A node key the sync registered, unregistered or found in the right state."""

    member_id: int
    name: str
    fingerprint: bytes
    node_id: int
    reason: str


@dataclass(frozen=True)
class SyncProblem:
    """Something about one member the sync cannot fix; ``message`` says what to do."""

    member_id: int
    name: str
    message: str


@dataclass(frozen=True)
class SyncResult:
    """What one reconciliation did."""

    block: int
    registered: tuple[NodeChange, ...]
    unregistered: tuple[NodeChange, ...]
    kept: tuple[NodeChange, ...]
    #: Node ids the SuperLink admits whose keys no member published (left alone).
    unknown: tuple[int, ...]
    problems: tuple[SyncProblem, ...]

    @property
    def changed(self) -> bool:
        """Whether it registered or unregistered anything."""
        return bool(self.registered or self.unregistered)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready form (fingerprints as ``0x`` hex)."""

        def change(c: NodeChange) -> dict[str, Any]:
            return {
                "member_id": c.member_id,
                "name": c.name,
                "fingerprint": "0x" + c.fingerprint.hex(),
                "node_id": c.node_id,
                "reason": c.reason,
            }

        return {
            "block": self.block,
            "registered": [change(c) for c in self.registered],
            "unregistered": [change(c) for c in self.unregistered],
            "kept": [change(c) for c in self.kept],
            "unknown": list(self.unknown),
            "problems": [
                {"member_id": p.member_id, "name": p.name, "message": p.message} for p in self.problems
            ],
        }


def read_registry(registry: Registry) -> RegistryView:
    """Members and node key publications, both as of the latest block."""
    block = registry.client.block_number()
    pinned = Registry(registry.client.pinned(block), registry.address, registry.deployment_block)
    return RegistryView(block, tuple(pinned.members()), tuple(registry.node_key_publications(to_block=block)))


def node_name(member: Member) -> str:
    """The name Flower lists the member's node under: its on-chain name with anything but letters,
    digits, ``.``, ``_`` and ``-`` made ``-`` (chain data is untrusted), or ``member-<id>``."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", member.name).strip("-.")[:NAME_LIMIT].strip("-.")
    return cleaned or f"member-{member.member_id}"


def spki_pem(blob: bytes) -> bytes:
    """The PEM SubjectPublicKeyInfo (what RegisterNode takes) of a published OpenSSH key blob;
    :class:`KeyFormatError` if it is not an ECDSA key Flower accepts."""
    line = openssh_line(blob)
    openssh_key_blob(line)  # checks the point is on the curve
    key = serialization.load_ssh_public_key(line.encode("ascii"))
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def sync_nodes(view: RegistryView, control: NodeControl) -> SyncResult:
    """Register and unregister node keys at the SuperLink so that it admits exactly the active members'
    current published keys (see the module's rules); returns what it did."""
    members = {m.member_id: m for m in view.members}
    listed = control.nodes()
    by_fingerprint = _nodes_by_fingerprint(listed)
    holders = _holders(view.publications)
    registered: list[NodeChange] = []
    unregistered: list[NodeChange] = []
    kept: list[NodeChange] = []
    problems: list[SyncProblem] = []
    for fingerprint, publication in holders.items():
        member = members.get(publication.member_id)
        if member is None:  # a publication newer than the members read: the next pass sees it
            continue
        name = node_name(member)
        nodes = by_fingerprint.get(fingerprint, [])
        live = [n for n in nodes if n.status != UNREGISTERED]
        current = member.node_key_fingerprint == fingerprint
        if current and member.status is MemberStatus.ACTIVE:
            if live:
                kept.extend(
                    NodeChange(member.member_id, name, fingerprint, n.node_id, "active") for n in live
                )
            elif nodes:
                problems.append(_burned(member, name))
            else:
                change = _register(control, member, name, publication, problems)
                if change is not None:
                    registered.append(change)
        elif current and member.status is MemberStatus.PENDING:
            if live:
                problems.append(
                    SyncProblem(
                        member.member_id,
                        name,
                        f"member #{member.member_id} is pending approval but the SuperLink admits its "
                        f"node key already (node {live[0].node_id}, registered by hand): left alone",
                    )
                )
        else:
            reason = "rotated out" if not current else member.status.name.lower()
            for node in live:
                try:
                    control.unregister(node.node_id)
                except ControlError as exc:
                    problems.append(SyncProblem(member.member_id, name, str(exc)))
                    continue
                logger.info(
                    "member #%d (%s): node %d unregistered (%s)", member.member_id, name, node.node_id, reason
                )
                unregistered.append(NodeChange(member.member_id, name, fingerprint, node.node_id, reason))
    problems.extend(_unpublished(view.members, holders))
    published = set(holders)
    unknown = tuple(
        n.node_id
        for n in listed
        if n.status != UNREGISTERED and not any(fp in published for fp in _fingerprints(n))
    )
    return SyncResult(
        view.block, tuple(registered), tuple(unregistered), tuple(kept), unknown, tuple(problems)
    )


def _register(
    control: NodeControl,
    member: Member,
    name: str,
    publication: NodeKeyPublication,
    problems: list[SyncProblem],
) -> NodeChange | None:
    try:
        pem = spki_pem(publication.public_key)
    except KeyFormatError as exc:
        problems.append(
            SyncProblem(
                member.member_id,
                name,
                f"member #{member.member_id} published a node key Flower cannot use ({exc}); the hospital "
                "must make a new node key and publish it (update its fingerprint, then publish the key: "
                "`bcfl node rotate-key DIR --new` on its node folder)",
            )
        )
        return None
    try:
        node_id = control.register(pem, name)
    except ControlError as exc:
        problems.append(SyncProblem(member.member_id, name, str(exc)))
        return None
    logger.info("member #%d (%s): node key registered as node %d", member.member_id, name, node_id)
    return NodeChange(member.member_id, name, publication.fingerprint, node_id, "active")


def _burned(member: Member, name: str) -> SyncProblem:
    return SyncProblem(
        member.member_id,
        name,
        f"member #{member.member_id} is active, but its node key was unregistered from the SuperLink "
        "earlier (e.g. while it was suspended) and Flower never registers a key again: the hospital "
        "must make a new node key, record its fingerprint (updateNodeKey) and publish it: "
        "`bcfl node rotate-key DIR` on its node folder",
    )


def _unpublished(members: Iterable[Member], holders: Mapping[bytes, NodeKeyPublication]) -> list[SyncProblem]:
    found = []
    for member in members:
        if member.status is not MemberStatus.ACTIVE:
            continue
        publication = holders.get(member.node_key_fingerprint)
        if publication is None or publication.member_id != member.member_id:
            found.append(
                SyncProblem(
                    member.member_id,
                    node_name(member),
                    f"member #{member.member_id} is active but has not published the node key of its "
                    "current fingerprint, so its SuperNode is not admitted: publish it (publishNodeKey)",
                )
            )
    return found


def _holders(publications: Iterable[NodeKeyPublication]) -> dict[bytes, NodeKeyPublication]:
    """Each published fingerprint's latest publication: its holder (the contract refuses a second
    member's publication unless the first holder was rejected)."""
    latest: dict[bytes, NodeKeyPublication] = {}
    for publication in publications:
        latest[publication.fingerprint] = publication
    return latest


def _fingerprints(node: RegisteredNode) -> set[bytes]:
    return {bytes.fromhex(fp[2:]) for fp in public_key_fingerprints(node.public_key)}


def _nodes_by_fingerprint(nodes: Iterable[RegisteredNode]) -> dict[bytes, list[RegisteredNode]]:
    found: dict[bytes, list[RegisteredNode]] = {}
    for node in nodes:
        for fingerprint in _fingerprints(node):
            found.setdefault(fingerprint, []).append(node)
    return found
