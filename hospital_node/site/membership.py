"""``bcfl node join``'s work: the membership request and the node key on chain, then the status.

The request is signed by the hospital's own key and carries its Flower node key's fingerprint; the
node key itself (its OpenSSH blob) is published right after (``publishNodeKey`` accepts it from a
pending member), so the admin's tooling can register it with the SuperLink once the member is
approved. Running it again sends nothing new and shows where the request stands.
"""

from __future__ import annotations

from dataclasses import dataclass

from eth_account.signers.local import LocalAccount

from bcfl.chain.consortium import Consortium
from bcfl.chain.exceptions import ChainError
from bcfl.chain.fingerprints import openssh_key_blob
from bcfl.chain.registry import Member, MemberStatus
from bcfl.flower.node_keys import NodeKey
from hospital_node.errors import HospitalNodeError


class JoinError(HospitalNodeError):
    """The request cannot be sent or does not fit this node (the message says what to do)."""


@dataclass(frozen=True)
class JoinStatus:
    """Where the hospital's membership stands after ``join``."""

    member_id: int
    address: str
    name: str
    status: str
    approvals: int
    #: "the admin", or "N member approvals" in governance mode.
    approver: str
    node_key_published: bool
    sent: tuple[str, ...]
    next_step: str


def no_ether(address: str, command: str = "join", paying: str = "its request") -> JoinError:
    """The error for a key that cannot pay for its transactions, with what to do (then ``bcfl node
    COMMAND`` again)."""
    return JoinError(
        f"the hospital's key {address} has no ether to pay for {paying}: ask the consortium admin to run "
        f"`bcfl member fund {address}`, then run `bcfl node {command}` again"
    )


def join(
    consortium: Consortium, hospital: LocalAccount, node_key: NodeKey, name: str, folder: str
) -> JoinStatus:
    """Request membership (once) and publish the node key (once); the request's status."""
    registry = consortium.registry
    sent: list[str] = []
    member_id = registry.member_id_of(hospital.address)
    try:
        if member_id == 0:
            require_ether(consortium, hospital.address)
            member_id = registry.request_membership(hospital, name, node_key.fingerprint, "")
            sent.append(f"sent membership request #{member_id} for {name}, signed by {hospital.address}")
        member = registry.member(member_id)
        if member.node_key_fingerprint != node_key.fingerprint:
            raise JoinError(
                f"membership #{member_id} names node key 0x{member.node_key_fingerprint.hex()}, "
                f"not this folder's 0x{node_key.fingerprint.hex()}: use the folder you joined with, "
                f"or finish the node key's rotation with `bcfl node rotate-key {folder}`"
            )
        published = registry.published_node_key(member_id) is not None
        if not published and member.status in (MemberStatus.PENDING, MemberStatus.ACTIVE):
            require_ether(consortium, hospital.address)
            registry.publish_node_key(hospital, openssh_key_blob(node_key.openssh))
            published = True
            sent.append(f"published the Flower node key 0x{node_key.fingerprint.hex()} on chain")
    except JoinError:
        raise
    except ChainError as exc:
        if "insufficient funds" in str(exc).lower():
            raise no_ether(hospital.address) from None
        raise
    return _status(consortium, member, published, tuple(sent), folder)


def require_ether(
    consortium: Consortium, address: str, command: str = "join", paying: str = "its request"
) -> None:
    """Refuse (:func:`no_ether`) before sending anything when ``address`` holds no ether at all."""
    client = consortium.client
    balance = client.retrying("eth_getBalance", lambda: client.w3.eth.get_balance(address))  # type: ignore[arg-type]
    if balance == 0:
        raise no_ether(address, command, paying)


def _status(
    consortium: Consortium, before: Member, published: bool, sent: tuple[str, ...], folder: str
) -> JoinStatus:
    member = consortium.registry.member(before.member_id)
    governance, quorum = consortium.registry.governance()
    approver = f"{quorum} member approvals" if governance else "the admin"
    steps = {
        MemberStatus.PENDING: f"wait for {approver} (`bcfl member approve {member.member_id}`); "
        f"run `bcfl node join {folder}` again to see the status, then `bcfl node doctor {folder}`",
        MemberStatus.ACTIVE: f"run `bcfl node doctor {folder}`, then `bcfl node start {folder}`",
        MemberStatus.SUSPENDED: "the consortium suspended this membership: contact the admin",
        MemberStatus.REJECTED: "the consortium rejected this request: contact the admin",
    }
    return JoinStatus(
        member_id=member.member_id,
        address=member.signer,
        name=member.name,
        status=member.status.name.lower(),
        approvals=member.approvals,
        approver=approver,
        node_key_published=published,
        sent=sent,
        next_step=steps.get(member.status, ""),
    )
