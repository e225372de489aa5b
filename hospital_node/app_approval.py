"""Whether this hospital may run an app: only a Flower App the consortium approved on chain.

The hospital's SuperExec (``hospital_node.superexec``) asks :meth:`AppApproval.refusal` before it
starts any process of a task. The hash is the one Flower's SuperNode stored the app's bundle (FAB)
under, and the SuperNode checks that it is the SHA-256 of the bundle's bytes before storing it, so
an approved hash means exactly the approved code. The check fails closed: a task without an app
hash, or one the chain cannot be asked about, is refused too.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from bcfl.apps import hash_text
from bcfl.chain.exceptions import ChainError
from bcfl.chain.ledger import Ledger

logger = logging.getLogger(__name__)

_FAB_HASH = re.compile(r"[0-9a-f]{64}")
#: How an operator fixes a refusal of an app the consortium means to run.
HOW_TO_APPROVE = "an admin approves it with `bcfl app approve`"


@dataclass(frozen=True)
class AppApproval:
    """The consortium's approved apps, read from the RoundLedger at each task."""

    ledger: Ledger

    def refusal(self, fab_hash: str) -> str | None:
        """Why the app with this FAB hash (64 hex digits, as Flower gives it) may not run; None if it may."""
        if not _FAB_HASH.fullmatch(fab_hash):
            return f"the task names no app hash ({fab_hash[:80]!r}), so its app cannot be checked on chain"
        digest = bytes.fromhex(fab_hash)
        try:
            approved = self.ledger.is_app_approved(digest)
        except ChainError as exc:
            return f"app {hash_text(digest)} could not be checked on chain ({exc}); refusing it until it can"
        if not approved:
            return f"app {hash_text(digest)} is not approved by the consortium on chain: {HOW_TO_APPROVE}"
        return None
