"""Where a hospital's signing agent puts its socket: a folder of its own (mode 0700) in the node's
state folder, or, when that path is too long for a Unix socket, a short folder under /tmp.

A Unix socket's path holds at most 107 bytes (``sun_path``). A node folder deep in a file system (a
service account's home, a CI workspace) easily passes that, so such a node's socket goes to
``/tmp/bcfl-signer-<uid>/<digest of the node folder>/`` instead: the same folder for the same node
folder every time (``bcfl node start``, ``stop`` and ``doctor`` agree on it without asking), and
``/tmp/bcfl-signer-<uid>`` is this user's alone (made mode 0700; one made by someone else is refused).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from hospital_node.signer.server import MAX_SOCKET_PATH, private_directory

#: The longest path a Unix socket may have (``sun_path`` is 108 bytes with its terminating NUL).
SOCKET_PATH_MAX = MAX_SOCKET_PATH
#: The agent's folder in a node folder, and the socket's name in it.
AGENT_DIR = "signer"
SOCKET_NAME = "agent.sock"
SHORT_ROOT = Path("/tmp")


def socket_path(state_folder: Path) -> Path:
    """The agent's socket for the node whose state is in ``state_folder``."""
    local = state_folder.absolute() / AGENT_DIR / SOCKET_NAME
    if len(os.fsencode(local)) <= SOCKET_PATH_MAX:
        return local
    digest = hashlib.sha256(os.fsencode(state_folder.absolute())).hexdigest()[:16]
    return short_root() / digest / SOCKET_NAME


def short_root() -> Path:
    """``/tmp/bcfl-signer-<uid>``: where agents' sockets go when their own folder's path is too long."""
    return SHORT_ROOT / f"bcfl-signer-{os.geteuid()}"


def ensure_short_root() -> Path:
    """:func:`short_root`, made (mode 0700) if missing; refused if another user owns it or it is open
    to others (someone could then put their own socket in the agent's place)."""
    root = short_root()
    # Someone else's folder, or one open to others, may hold their socket in the agent's place: it is
    # removed, never adopted.
    private_directory(
        root, "the signing agents' folder", "remove it, or run the node from a folder with a shorter path"
    )
    return root


def prepare_socket_folder(path: Path) -> None:
    """What must exist before an agent can make its folder for ``path``: its parent (the node folder,
    or the private root under /tmp)."""
    if path.parent.parent == short_root():
        ensure_short_root()
    else:
        path.parent.parent.mkdir(parents=True, exist_ok=True)
