"""``bcfl node rotate-key``'s work: a new Flower node key, recorded and published on chain.

Flower never registers a node key again once it was unregistered, so a hospital reinstated after a
suspension needs a new node key; so does one whose key leaked (``new=True``). The steps:

1. refuse while the node runs (its SuperNode signs with the key);
2. move ``node.key.pub`` then ``node.key`` aside to ``node.key.retired-<UTC time>`` (never deleted);
3. make the new key pair (P-256, mode 0600);
4. record its fingerprint (``updateNodeKey``: only an active member's signer may) and publish the key
   (``publishNodeKey``), both signed by the hospital's key.

Each step is resumable: interrupted after 2 or 3, the folder's key (or its absence) is not the one on
chain while one of its retired keys is, so a rerun makes the key if it is missing and sends the
transactions, never a second new key; interrupted between the two transactions, the key is recorded
but not published, so a rerun publishes it. Run again once done, it sends nothing and says so.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from eth_account.signers.local import LocalAccount

from bcfl.chain.consortium import Consortium
from bcfl.chain.exceptions import ChainError
from bcfl.chain.fingerprints import openssh_key_blob
from bcfl.chain.registry import Member, MemberStatus
from bcfl.flower.node_keys import NodeKey, ensure_node_key, load_node_key
from hospital_node.errors import HospitalNodeError
from hospital_node.site.config import NodeFolder
from hospital_node.site.key_history import dropped_by_superlink
from hospital_node.site.membership import no_ether, require_ether
from hospital_node.site.processes import SUPEREXEC, SUPERNODE, running_pid

COMMAND = "rotate-key"
PAYING = "the new node key's transactions"
RETIRED = ".retired-"


class RotationError(HospitalNodeError):
    """The node key cannot be rotated now (the message says why and what to do)."""


@dataclass(frozen=True)
class Rotation:
    """What ``rotate-key`` did, and what comes next."""

    member_id: int
    name: str
    #: "rotated" (a new key), "completed" (an interrupted rotation finished) or "nothing to do".
    action: str
    node_key_fingerprint: str
    previous_fingerprint: str | None
    retired: str | None
    done: tuple[str, ...]
    summary: str
    next_step: str


def refuse_running(node: NodeFolder) -> None:
    """A one-line error while the node's SuperNode or SuperExec runs."""
    for name in (SUPERNODE, SUPEREXEC):
        pid = running_pid(node, name)
        if pid is not None:
            raise RotationError(
                f"the node is running ({name} pid {pid}) and its SuperNode signs with the node key: "
                f"stop it first with `bcfl node stop {node.folder}`, then run `bcfl node {COMMAND} "
                f"{node.folder}` again"
            )


def rotate_node_key(
    consortium: Consortium,
    hospital: LocalAccount,
    node: NodeFolder,
    *,
    new: bool = False,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> Rotation:
    """Rotate the folder's node key if the SuperLink dropped it (or ``new``), or finish a rotation."""
    refuse_running(node)
    member = _active_member(consortium, hospital.address, node)
    on_chain = member.node_key_fingerprint
    key = load_node_key(node.node_key) if node.node_key.exists() else None
    done: list[str] = []
    if key is not None and key.fingerprint == on_chain:
        dropped = dropped_by_superlink(consortium.registry, member)
        if dropped is None and not new:
            if consortium.registry.published_node_key(member.member_id) is None:  # interrupted between
                _send(consortium, hospital, key, done, record=False)  # the two transactions
            return _result(member, node, key, None, None, done, "completed" if done else "nothing to do")
        why = "a new key was asked for (--new)" if dropped is None else f"the SuperLink dropped it: {dropped}"
    elif _retired_holds(node, on_chain):  # an interrupted rotation: finish it with the folder's new key
        require_ether(consortium, hospital.address, COMMAND, PAYING)
        if key is None:
            key = _make(node, done)
        else:
            key = ensure_node_key(node.node_key)  # its .pub too, if the interruption came before it
            done.append(f"found the new node key 0x{key.fingerprint.hex()} of an interrupted rotation")
        _send(consortium, hospital, key, done, record=True)
        return _result(member, node, key, on_chain, None, done, "completed")
    elif not new:
        raise RotationError(_not_ours(node, member, key))
    else:
        why = "this folder's key is not the member's, and a new key was asked for (--new)"
    require_ether(consortium, hospital.address, COMMAND, PAYING)
    retired = _retire(node, now()) if node.node_key.exists() else None
    if retired is not None:
        done.append(f"moved the old node key aside to {retired} (kept, never deleted); {why}")
    key = _make(node, done)
    _send(consortium, hospital, key, done, record=True)
    return _result(member, node, key, on_chain, retired, done, "rotated")


def _active_member(consortium: Consortium, address: str, node: NodeFolder) -> Member:
    registry = consortium.registry
    member_id = registry.member_id_of(address)
    if member_id == 0:
        raise RotationError(
            f"{address} is not a member of this consortium: join first (`bcfl node join {node.folder}`); "
            "a new member's node key needs no rotation"
        )
    member = registry.member(member_id)
    if member.status is MemberStatus.SUSPENDED:
        raise RotationError(
            f"membership #{member_id} is suspended, and the registry records a new node key only for an "
            f"active member: ask the consortium admin to reinstate it (`bcfl member reinstate {member_id}`), "
            f"then run `bcfl node {COMMAND} {node.folder}` again"
        )
    if member.status is MemberStatus.PENDING:
        raise RotationError(
            f"membership #{member_id} is pending, and the registry records a new node key only for an "
            "active member: a pending member's key was never registered with the SuperLink; wait for the "
            f"approval (`bcfl node join {node.folder}` shows it), then run this again if the key leaked"
        )
    if member.status is not MemberStatus.ACTIVE:
        raise RotationError(f"membership #{member_id} is {member.status.name.lower()}: contact the admin")
    return member


def _retired_keys(node: NodeFolder) -> list[Path]:
    prefix = node.node_key.name + RETIRED
    return sorted(
        p for p in node.folder.iterdir() if p.name.startswith(prefix) and not p.name.endswith(".pub")
    )


def _retired_holds(node: NodeFolder, fingerprint: bytes) -> bool:
    """Whether one of the folder's retired keys is the one with ``fingerprint`` (an interrupted rotation)."""
    for path in _retired_keys(node):
        try:
            if load_node_key(path).fingerprint == fingerprint:
                return True
        except ChainError:  # a retired file Flower cannot read is not the key on chain
            continue
    return False


def _retire(node: NodeFolder, when: datetime) -> Path:
    """Move ``node.key`` (its ``.pub`` first) to a fresh ``node.key.retired-<time>``; its path."""
    stamp = when.strftime("%Y%m%dT%H%M%SZ")
    target = node.node_key.with_name(f"{node.node_key.name}{RETIRED}{stamp}")
    count = 1
    while target.exists() or target.with_name(target.name + ".pub").exists():
        count += 1
        target = node.node_key.with_name(f"{node.node_key.name}{RETIRED}{stamp}-{count}")
    public = node.node_key.with_name(node.node_key.name + ".pub")
    if public.exists():
        os.replace(public, target.with_name(target.name + ".pub"))
    os.replace(node.node_key, target)
    return target


def _make(node: NodeFolder, done: list[str]) -> NodeKey:
    key = ensure_node_key(node.node_key)
    done.append(
        f"made the new Flower node key {node.node_key} (fingerprint 0x{key.fingerprint.hex()}, mode 0600)"
    )
    return key


def _send(
    consortium: Consortium, hospital: LocalAccount, key: NodeKey, done: list[str], *, record: bool
) -> None:
    registry = consortium.registry
    try:
        if record:
            registry.update_node_key(hospital, key.fingerprint)
            done.append(f"recorded its fingerprint 0x{key.fingerprint.hex()} on chain (updateNodeKey)")
        registry.publish_node_key(hospital, openssh_key_blob(key.openssh))
        done.append(f"published the node key 0x{key.fingerprint.hex()} on chain (publishNodeKey)")
    except ChainError as exc:
        if "insufficient funds" in str(exc).lower():
            raise no_ether(hospital.address, COMMAND, PAYING) from None
        raise


def _not_ours(node: NodeFolder, member: Member, key: NodeKey | None) -> str:
    have = "has no node key" if key is None else f"holds node key 0x{key.fingerprint.hex()}"
    return (
        f"{node.folder} {have}, but membership #{member.member_id} names "
        f"0x{member.node_key_fingerprint.hex()} "
        "and no retired key in the folder is that one: use the folder the hospital joined with, or run "
        f"`bcfl node {COMMAND} {node.folder} --new` to record a new key for this folder"
    )


def _result(
    member: Member,
    node: NodeFolder,
    key: NodeKey,
    previous: bytes | None,
    retired: Path | None,
    done: list[str],
    action: str,
) -> Rotation:
    folder = node.folder
    fingerprint = "0x" + key.fingerprint.hex()
    next_step = (
        "the consortium's node-sync service registers the new key with the SuperLink within seconds: "
        f"`bcfl node doctor {folder}` says when the SuperLink admits it (admission ok), "
        f"then `bcfl node start {folder}`"
    )
    if action == "nothing to do":
        summary = (
            f"nothing to do: node key {fingerprint} is this folder's, recorded and published on chain, and "
            "the SuperLink has not dropped it (no suspension or rotation since it was published); if it "
            f"leaked, run `bcfl node {COMMAND} {folder} --new`"
        )
        next_step = f"`bcfl node doctor {folder}`, then `bcfl node start {folder}`"
    elif action == "rotated":
        summary = f"rotated: membership #{member.member_id}'s node key is now {fingerprint}"
    else:
        summary = (
            f"finished an interrupted rotation: the node key of #{member.member_id} is now {fingerprint}"
        )
    return Rotation(
        member_id=member.member_id,
        name=member.name,
        action=action,
        node_key_fingerprint=fingerprint,
        previous_fingerprint=None if previous is None else "0x" + previous.hex(),
        retired=None if retired is None else str(retired),
        done=tuple(done),
        summary=summary,
        next_step=next_step,
    )
