"""What the replay rule of scoring needs from the chain: the first round each update hash was registered
in, read from the ledger's ``UpdateRegistered`` events.

A coordinator asks every round. Reading every update registered so far each time made a run quadratic
in its rounds, so the hashes are kept and each call reads only the blocks added since the last; if the
last block read is no longer the chain's (a reorganisation, a reverted snapshot), everything is read
again.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from web3.exceptions import BlockNotFound

from bcfl.chain.client import ChainClient
from bcfl.chain.ledger import Ledger

logger = logging.getLogger(__name__)


class RegisteredUpdates:
    """The round each update hash was first registered in, caught up with the chain on every call."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self._first: dict[bytes, int] = {}
        #: The last block read: (number, hash).
        self._read_to: tuple[int, bytes] | None = None

    def replayed(self, chain_round: int, update_hashes: Mapping[int, bytes]) -> list[int]:
        """The members (keys of ``update_hashes``) whose update hash was registered in a round before
        ``chain_round``."""
        first = self.first_rounds()
        return [m for m, digest in update_hashes.items() if first.get(digest, chain_round) < chain_round]

    def first_rounds(self) -> Mapping[bytes, int]:
        """Every registered update hash, with the first round it was registered in."""
        client = self.ledger.client
        head = _header(client, "latest")
        assert head is not None, "the chain has no latest block"
        if self._read_to is not None and _header(client, self._read_to[0]) != self._read_to:
            logger.info(
                "block %d is no longer on the chain: reading every registered update again", self._read_to[0]
            )
            self._first, self._read_to = {}, None
        start = self.ledger.deployment_block if self._read_to is None else self._read_to[0] + 1
        if start <= head[0]:
            for update in self.ledger.updates(from_block=start, to_block=head[0]):
                self._first[update.update_hash] = min(
                    update.round, self._first.get(update.update_hash, update.round)
                )
        self._read_to = head
        return self._first


def _header(client: ChainClient, block: int | str) -> tuple[int, bytes] | None:
    """(number, hash) of ``block``, or None if the chain has no such block."""
    try:
        found = client.retrying(f"eth_getBlockByNumber {block}", lambda: client.w3.eth.get_block(block))  # type: ignore[arg-type]
    except BlockNotFound:
        return None
    return int(found["number"]), bytes(found["hash"])
