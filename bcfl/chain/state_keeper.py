"""Anvil's state kept in a file crash-safely: the file on disk is always a whole state, old or new.

Anvil's own ``--state FILE`` rewrites FILE in place every interval; a kill during that write (a
container stopped, a machine losing power) can leave it empty or cut, and a chain restarted from it
has lost every record. So the project does not let Anvil write it: :class:`StateKeeper` asks the
running node for its state over JSON-RPC (``anvil_dumpState``: the same JSON as ``--state`` writes,
gzipped), checks it, and replaces the file atomically (a temporary file beside it, flushed to disk,
then renamed over it, and the folder flushed). The node is started from the file with Anvil's
``--load-state``. What a kill can lose is what the chain did since the last save (at most one
interval); never the file.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import threading
from pathlib import Path

from bcfl.atomic import replace_atomically
from bcfl.chain.exceptions import ChainError
from bcfl.chain.jsonrpc import JsonRpc

logger = logging.getLogger(__name__)
#: The keys every Anvil state has (``--state``, ``--dump-state``, ``anvil_dumpState``).
STATE_KEYS = frozenset({"block", "accounts"})


class StateKeeperError(ChainError):
    """The node's state could not be read or saved."""


def dump_state(rpc: JsonRpc) -> bytes:
    """The node's state as the JSON ``--state`` writes (checked to be one)."""
    answer = rpc.request("anvil_dumpState", [])
    try:
        state = gzip.decompress(bytes.fromhex(str(answer).removeprefix("0x")))
        parsed = json.loads(state)
    except (ValueError, OSError, EOFError) as exc:
        raise StateKeeperError(f"anvil_dumpState answered something that is not a state ({exc})") from None
    if not isinstance(parsed, dict) or not parsed.keys() >= STATE_KEYS:
        raise StateKeeperError("anvil_dumpState answered a JSON that is not a state (no block and accounts)")
    return state


class StateKeeper:
    """Saves a running Anvil's state to ``path`` every ``interval_s`` seconds while it changes, and
    once more at :meth:`stop`."""

    def __init__(self, rpc_url: str, path: Path, interval_s: float = 1.0) -> None:
        self.rpc = JsonRpc(rpc_url, retries=0, outage_s=0.0)
        self.path = path
        self.interval_s = interval_s
        self._saved: bytes | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def save(self) -> bool:
        """Save the node's state now if it changed since the last save; whether the file was written."""
        state = dump_state(self.rpc)
        digest = hashlib.sha256(state).digest()
        if digest == self._saved and self.path.exists():
            return False
        replace_atomically(self.path, state, mode=0o644)  # readable as Anvil's own file was
        self._saved = digest
        return True

    def start(self) -> StateKeeper:
        """Save now, then every ``interval_s`` seconds in a background thread."""
        self.save()
        self._thread = threading.Thread(target=self._run, name="anvil-state-keeper", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.save()
            except Exception as exc:  # a busy node, a full disk: the next interval tries again
                logger.warning("could not save the chain's state to %s: %s", self.path, exc)

    def stop(self, *, last_save: bool = True) -> bool:
        """Stop saving in the background, then save one last time (unless ``last_save`` is False: the
        node was killed); False, with a warning, if that failed (the node no longer answers, a full
        disk): the file then holds the last state saved."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if not last_save:
            return False
        try:
            self.save()
        except (ChainError, OSError) as exc:
            logger.warning("could not save the chain's last state to %s: %s", self.path, exc)
            return False
        return True
