"""The consortium's access-control roles and the names people know them by."""

from __future__ import annotations

from eth_utils.crypto import keccak

#: OpenZeppelin's DEFAULT_ADMIN_ROLE: the consortium's admin.
ADMIN_ROLE = bytes(32)
COORDINATOR_ROLE = keccak(text="COORDINATOR_ROLE")
ROLE_NAMES: dict[bytes, str] = {ADMIN_ROLE: "admin", COORDINATOR_ROLE: "coordinator"}
#: The revert arguments that carry a role (OpenZeppelin's and the consortium's own errors).
ROLE_ARGUMENTS = ("neededRole", "role")


def role_name(role: bytes) -> str:
    """``admin``, ``coordinator``, or the role's hash when it is none the consortium defines."""
    return ROLE_NAMES.get(bytes(role), "0x" + bytes(role).hex())
