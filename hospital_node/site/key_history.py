"""Whether the SuperLink has dropped a member's current node key for good, read from the registry.

The node-sync service (bcfl.flower.node_sync) unregisters a published node key when its member is
suspended or the key is rotated out, and Flower never registers an unregistered key again. So a key
the member published and that was then suspended (or rotated away from, even if it came back) can
never connect again: the hospital needs a new one (``bcfl node rotate-key``). A key never published
was never registered, so a suspension did not burn it.
"""

from __future__ import annotations

from bcfl.chain.registry import Member, Registry


def dropped_by_superlink(registry: Registry, member: Member) -> str | None:
    """Why the member's current node key was unregistered at the SuperLink (a suspension, a rotation),
    or None if nothing on chain did so."""
    current = member.node_key_fingerprint
    published = False
    for event in registry.membership_history(member.member_id):
        if event.name == "NodeKeyPublished" and bytes(event.args["fingerprint"]) == current:
            published = True
        elif published and event.name == "MemberSuspended":
            return f"membership #{member.member_id} was suspended after the key was published"
        elif (
            published
            and event.name == "NodeKeyUpdated"
            and bytes(event.args["nodeKeyFingerprint"]) != current
        ):
            return f"membership #{member.member_id} rotated to another node key after this one was published"
    return None
