"""What a membership's status means for the hospital's Flower access, in the words each ``bcfl member``
command prints: the node-sync service keeps the SuperLink's registered node keys in step with the
registry (an active member's published key registered, any other's unregistered)."""

from __future__ import annotations

from typing import Any

from bcfl.chain.registry import Member, MemberStatus, Registry

#: Flower 1.41 never registers an unregistered node key again.
NEW_NODE_KEY = (
    "a node key once unregistered can never be registered again at the SuperLink: the hospital's IT runs "
    "`bcfl node stop DIR` then `bcfl node rotate-key DIR` (a new node key, recorded and published on chain), "
    "the node-sync service registers it, then `bcfl node start DIR`"
)


def flower_access(member: Member, key_published: bool, *, reinstated: bool = False) -> str:
    """One sentence: what the membership's status does to the hospital's Flower access now."""
    if member.status is MemberStatus.ACTIVE and reinstated:
        return f"active again; {NEW_NODE_KEY}"
    if member.status is MemberStatus.ACTIVE and key_published:
        return (
            "its published node key gets registered with the SuperLink by the node-sync service: "
            "its SuperNode connects and takes part from the next round"
        )
    if member.status is MemberStatus.ACTIVE:
        return (
            "no node key published yet: the hospital runs `bcfl node join` to publish it, then the "
            "node-sync service registers it with the SuperLink"
        )
    if member.status is MemberStatus.PENDING:
        return "none until the request is approved: the SuperLink refuses its SuperNode"
    if member.status is MemberStatus.SUSPENDED:
        return (
            "its node key is unregistered from the SuperLink, so Flower refuses its SuperNode within "
            "seconds, and the contract refuses its updates; once reinstated, the hospital needs a new "
            "node key (`bcfl node rotate-key DIR`)"
        )
    return "none: the request was rejected and its node key is never registered"


def member_report(registry: Registry, member_id: int, *, reinstated: bool = False) -> dict[str, Any]:
    """A member's record after an action, with its approvals and its Flower access (for ``--format``)."""
    member = registry.member(member_id)
    enabled, quorum = registry.governance()
    published = registry.published_node_key(member_id) is not None
    return {
        "member_id": member_id,
        "name": member.name,
        "signer": member.signer,
        "status": member.status.name.lower(),
        "approvals": member.approvals,
        "quorum": quorum if enabled else 1,
        "governance": enabled,
        "node_key_fingerprint": member.node_key_fingerprint,
        "node_key_published": published,
        "flower_access": flower_access(member, published, reinstated=reinstated),
    }
