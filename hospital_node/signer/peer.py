"""Who is on the other end of the agent's socket: the peer's credentials as the kernel reports them
(Linux ``SO_PEERCRED``: the connecting process's pid, uid and gid at ``connect`` time)."""

from __future__ import annotations

import socket
import struct
from dataclasses import dataclass

_CREDENTIALS = struct.Struct("3i")


@dataclass(frozen=True)
class PeerCredentials:
    """The process that connected."""

    pid: int
    uid: int
    gid: int


def supported() -> bool:
    """Whether this platform reports a Unix socket peer's credentials (``SO_PEERCRED``)."""
    return hasattr(socket, "SO_PEERCRED")


def peer_credentials(sock: socket.socket) -> PeerCredentials:
    """The credentials of ``sock``'s peer (a connected Unix stream socket)."""
    raw = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _CREDENTIALS.size)
    pid, uid, gid = _CREDENTIALS.unpack(raw)
    return PeerCredentials(pid, uid, gid)


def refusal(peer: PeerCredentials, allowed_uids: frozenset[int]) -> str | None:
    """Why ``peer`` may not use the agent, or None when its uid is one the agent serves."""
    if peer.uid in allowed_uids:
        return None
    served = ", ".join(str(uid) for uid in sorted(allowed_uids))
    return f"refused: this agent serves only its node's user (uid {served}), not uid {peer.uid}"
