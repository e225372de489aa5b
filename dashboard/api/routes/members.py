"""The consortium's members: a summary each, and one member's whole record."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path

from bcfl.audit.model import MemberView
from dashboard.api.deps import SnapshotDep, WatcherDep
from dashboard.api.errors import UNAVAILABLE, problem
from dashboard.api.schemas import MemberSummary
from dashboard.nodes import NodeState
from dashboard.snapshot import Snapshot

router = APIRouter(prefix="/members", tags=["members"], responses=UNAVAILABLE)


@router.get("")
def list_members(snapshot: SnapshotDep, watcher: WatcherDep) -> list[MemberSummary]:
    """Every member: status, key, reputation, updates, tokens paid and held, and its node's status."""
    nodes = watcher.nodes()
    return [_summary(m, snapshot, nodes.get(m.member_id, "unknown")) for m in snapshot.members.values()]


def _summary(m: MemberView, snapshot: Snapshot, node: NodeState) -> MemberSummary:
    latest = m.privacy[-1] if m.privacy else None
    return MemberSummary(
        member_id=m.member_id,
        name=m.name,
        status=m.status,
        signer=m.signer,
        reputation=m.reputation[-1][1] if m.reputation else None,
        updates=len(m.updates),
        paid_total=m.paid_total,
        balance=m.balance,
        node_key_fingerprint=snapshot.node_keys.get(m.member_id),
        node=node,
        privacy_lineage=latest.lineage if latest else None,
        epsilon_spent=latest.epsilon_spent if latest else None,
        epsilon_left=latest.epsilon_left if latest else None,
    )


@router.get("/{member_id}", responses={404: problem("No such member")})
def get_member(member_id: Annotated[int, Path(ge=0, le=2**63 - 1)], snapshot: SnapshotDep) -> MemberView:
    """Membership history, every update, reputation curve, payouts and balance."""
    member = snapshot.members.get(member_id)
    if member is None:
        known = ", ".join(map(str, snapshot.members)) or "none"
        raise HTTPException(404, f"no member {member_id} in this consortium (members: {known})")
    return member
