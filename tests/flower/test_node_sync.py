"""The sync's rules (bcfl.flower.node_sync) on a fake Control API: which keys it registers, which it
unregisters, what it leaves alone and what it reports. The real stack is in test_node_sync_stack.py."""

from __future__ import annotations

import base64
import hashlib
import itertools
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from bcfl.chain.registry import Member, MemberStatus, NodeKeyPublication
from bcfl.flower.control import ControlError, RegisteredNode
from bcfl.flower.node_sync import RegistryView, node_name, sync_nodes


@dataclass
class FakeControl:
    """The Control API as Flower behaves: unique keys, unregistered ones kept for good."""

    nodes_: list[RegisteredNode] = field(default_factory=list)
    ids: itertools.count[int] = field(default_factory=lambda: itertools.count(100))

    def nodes(self) -> list[RegisteredNode]:
        return list(self.nodes_)

    def register(self, public_key_pem: bytes, name: str) -> int:
        if any(n.public_key == public_key_pem for n in self.nodes_):
            raise ControlError("[code: 23] Public key already in use.")
        node_id = next(self.ids)
        self.nodes_.append(RegisteredNode(node_id, "registered", name, public_key_pem))
        return node_id

    def unregister(self, node_id: int) -> None:
        self.nodes_ = [
            RegisteredNode(n.node_id, "unregistered", n.name, n.public_key) if n.node_id == node_id else n
            for n in self.nodes_
        ]

    def live(self) -> dict[str, int]:
        return {n.name: n.node_id for n in self.nodes_ if n.status != "unregistered"}


def new_key() -> tuple[bytes, bytes]:
    """A node key's OpenSSH blob and its PEM SubjectPublicKeyInfo."""
    public = ec.generate_private_key(ec.SECP256R1()).public_key()
    line = public.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    pem = public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64decode(line.split()[1]), pem


def member(member_id: int, status: MemberStatus, blob: bytes, name: str = "") -> Member:
    return Member(member_id, "0x0", status, 1, 0, hashlib.sha256(blob).digest(), name or f"H{member_id}", "")


def published(member_id: int, blob: bytes, block: int = 1) -> NodeKeyPublication:
    return NodeKeyPublication(member_id, hashlib.sha256(blob).digest(), blob, block, "0x", 0)


def test_active_members_keys_are_registered_once_and_pending_ones_not() -> None:
    (a, _), (b, _), (c, _) = new_key(), new_key(), new_key()
    view = RegistryView(
        5,
        (
            member(1, MemberStatus.ACTIVE, a, "St. Mary's <b>Hospital</b>"),
            member(2, MemberStatus.PENDING, b),
            member(3, MemberStatus.ACTIVE, c),
        ),
        (published(1, a), published(2, b)),
    )
    control = FakeControl()
    first = sync_nodes(view, control)
    assert [(r.member_id, r.name) for r in first.registered] == [(1, "St.-Mary-s-b-Hospital-b")]
    assert control.live() == {"St.-Mary-s-b-Hospital-b": 100}
    # Member 3 is active but published nothing: a problem, not a crash.
    assert [p.member_id for p in first.problems] == [3] and "has not published" in first.problems[0].message
    again = sync_nodes(view, control)
    assert not again.changed and [k.node_id for k in again.kept] == [100]


def test_suspended_rejected_and_rotated_out_keys_are_unregistered() -> None:
    (a, _), (b, _), (old, _), (new, _) = new_key(), new_key(), new_key(), new_key()
    control = FakeControl()
    active = RegistryView(
        5,
        (
            member(1, MemberStatus.ACTIVE, a),
            member(2, MemberStatus.ACTIVE, b),
            member(3, MemberStatus.ACTIVE, old),
        ),
        (published(1, a), published(2, b), published(3, old)),
    )
    assert len(sync_nodes(active, control).registered) == 3
    later = RegistryView(
        9,
        (
            member(1, MemberStatus.SUSPENDED, a),
            member(2, MemberStatus.REJECTED, b),
            member(3, MemberStatus.ACTIVE, new),
        ),
        (published(1, a), published(2, b), published(3, old), published(3, new, 8)),
    )
    result = sync_nodes(later, control)
    assert sorted((c.member_id, c.reason) for c in result.unregistered) == [
        (1, "suspended"),
        (2, "rejected"),
        (3, "rotated out"),
    ]
    assert [(c.member_id, c.node_id) for c in result.registered] == [(3, 103)]
    assert control.live() == {"H3": 103}


def test_a_reinstated_member_with_its_burned_key_is_a_problem_until_it_rotates() -> None:
    (a, _), (rotated, _) = new_key(), new_key()
    control = FakeControl()
    sync_nodes(RegistryView(1, (member(1, MemberStatus.ACTIVE, a),), (published(1, a),)), control)
    sync_nodes(RegistryView(2, (member(1, MemberStatus.SUSPENDED, a),), (published(1, a),)), control)
    reinstated = sync_nodes(
        RegistryView(3, (member(1, MemberStatus.ACTIVE, a),), (published(1, a),)), control
    )
    assert not reinstated.changed and "never registers a key again" in reinstated.problems[0].message
    fixed = sync_nodes(
        RegistryView(4, (member(1, MemberStatus.ACTIVE, rotated),), (published(1, a), published(1, rotated))),
        control,
    )
    assert len(fixed.registered) == 1 and not fixed.problems


def test_keys_not_on_chain_are_left_alone_and_reported() -> None:
    (_, stranger_pem), (a, _) = new_key(), new_key()
    control = FakeControl()
    stranger = control.register(stranger_pem, "by-hand")
    result = sync_nodes(RegistryView(1, (member(1, MemberStatus.ACTIVE, a),), (published(1, a),)), control)
    assert result.unknown == (stranger,) and control.live()["by-hand"] == stranger


def test_a_bad_key_on_chain_is_reported_not_a_crash() -> None:
    garbage = b"\x00\x00\x00\x13ecdsa-sha2-nistp256" + b"\x00" * 40  # the right type, no valid point
    ed25519 = b"\x00\x00\x00\x0bssh-ed25519" + b"\x01" * 36
    view = RegistryView(
        1,
        (member(1, MemberStatus.ACTIVE, garbage), member(2, MemberStatus.ACTIVE, ed25519)),
        (published(1, garbage), published(2, ed25519)),
    )
    control = FakeControl()
    result = sync_nodes(view, control)
    assert not result.registered and control.live() == {}
    assert [p.member_id for p in result.problems] == [1, 2]
    assert all("Flower cannot use" in p.message for p in result.problems)


def test_a_key_flower_refuses_is_a_problem_and_the_rest_goes_on() -> None:
    (a, a_pem), (b, _) = new_key(), new_key()
    control = FakeControl()
    control.register(a_pem, "elsewhere")
    control.unregister(100)  # burned before it was ever published
    view = RegistryView(
        1,
        (member(1, MemberStatus.ACTIVE, a), member(2, MemberStatus.ACTIVE, b)),
        (published(1, a), published(2, b)),
    )
    result = sync_nodes(view, control)
    assert [p.member_id for p in result.problems] == [1] and [r.member_id for r in result.registered] == [2]


def test_node_names_are_sanitized() -> None:
    (a, _) = new_key()
    assert node_name(member(7, MemberStatus.ACTIVE, a, "../../\n\t")) == "member-7"
    assert node_name(member(7, MemberStatus.ACTIVE, a, "x" * 200)) == "x" * 48
