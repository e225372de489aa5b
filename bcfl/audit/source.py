"""Where an audit reads the chain from: the consortium's events, the signed entries of each
registration transaction (events do not carry signatures), and the little that only the chain's
current state answers (token balances, current reputations).

:class:`ScanSource` reads everything over JSON-RPC (a full rescan); :class:`IndexSource` reads events
and signatures from the event index (kept up to date by its sync), and the current state over JSON-RPC.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from web3.types import BlockIdentifier

from bcfl.chain.consortium import Consortium
from bcfl.chain.eip712 import SignedModelUpdate
from bcfl.chain.ledger import RoundRecord
from bcfl.index.records import IndexedEvent
from bcfl.index.scan import scan_events
from bcfl.index.store import EventIndex


class AuditSource(Protocol):
    """What an audit needs from the chain."""

    @property
    def chain_id(self) -> int: ...

    @property
    def registry_address(self) -> str: ...

    @property
    def ledger_address(self) -> str: ...

    def events(self) -> Sequence[IndexedEvent]:
        """Every consortium event, from any address, in chain order."""
        ...

    def registrations(self, tx_hash: str) -> Sequence[SignedModelUpdate]:
        """The entries of registration transaction ``tx_hash`` in batch order (skipped ones
        included); ValueError, in one line, if it is no direct ``registerUpdates`` call."""
        ...

    def balance_of(self, account: str) -> int:
        """The reward token balance of ``account`` now (base units)."""
        ...

    def reputation_of(self, member_id: int) -> int:
        """The reputation ledger's current reputation of ``member_id`` (bps)."""
        ...

    def token(self) -> tuple[str, int]:
        """The reward token's symbol and decimals."""
        ...

    def round_count(self) -> int:
        """The RoundLedger's count of rounds opened."""
        ...

    def round_record(self, number: int) -> RoundRecord:
        """The RoundLedger's stored record of round ``number``."""
        ...

    def payout_of(self, number: int) -> tuple[bool, int]:
        """The RewardDistributor's record of round ``number``: paid or not, and its total."""
        ...

    def total_supply(self) -> int:
        """The reward token's total supply (every token was minted by a payout)."""
        ...


class ScanSource:
    """An :class:`AuditSource` over a connected consortium: events by a full ``eth_getLogs`` rescan
    (once, then kept), signatures from each registration transaction's input (cached)."""

    def __init__(self, consortium: Consortium) -> None:
        self.consortium = consortium
        self._events: list[IndexedEvent] | None = None
        self._registrations: dict[str, list[SignedModelUpdate]] = {}
        self._token: tuple[str, int] | None = None

    @property
    def chain_id(self) -> int:
        return self.consortium.client.chain_id

    @property
    def registry_address(self) -> str:
        return self.consortium.registry.address

    @property
    def ledger_address(self) -> str:
        return self.consortium.ledger.address

    def events(self) -> Sequence[IndexedEvent]:
        if self._events is None:
            self._events = scan_events(self.consortium.client, self.consortium.manifest)
        return self._events

    def registrations(self, tx_hash: str) -> Sequence[SignedModelUpdate]:
        if tx_hash not in self._registrations:
            self._registrations[tx_hash] = self.consortium.ledger.registered_signatures(tx_hash)
        return self._registrations[tx_hash]

    def balance_of(self, account: str) -> int:
        return self.consortium.token.balance_of(account)

    def reputation_of(self, member_id: int) -> int:
        return self.consortium.reputation.reputation_of(member_id)

    def token(self) -> tuple[str, int]:
        if self._token is None:
            self._token = (self.consortium.token.symbol(), self.consortium.token.decimals())
        return self._token

    def round_count(self) -> int:
        return self.consortium.ledger.round_count()

    def round_record(self, number: int) -> RoundRecord:
        return self.consortium.ledger.get_round(number)

    def payout_of(self, number: int) -> tuple[bool, int]:
        return self.consortium.distributor.payout_of(number)

    def total_supply(self) -> int:
        return self.consortium.token.total_supply()


class IndexSource(ScanSource):
    """An :class:`AuditSource` over the event index: every event and every registration's signed
    entries read at once from ``index`` (synced by the caller), the current state from the chain."""

    def __init__(self, consortium: Consortium, index: EventIndex) -> None:
        if index.manifest.address("ConsortiumRegistry") != consortium.manifest.address("ConsortiumRegistry"):
            raise ValueError("the event index belongs to another deployment than the consortium's")
        self.last_block = index.last_block()
        # The chain's state as of the last indexed block, which the events describe: the head may
        # have moved on since the sync (a chain reopened read-only never does: its head is read).
        client = consortium.client
        at: BlockIdentifier = "latest" if client.block_number() <= self.last_block else self.last_block
        super().__init__(Consortium.connect(client.pinned(at), consortium.manifest, verify=False))
        self._events = index.events(to_block=self.last_block)
        self._indexed = index.all_registrations()

    def registrations(self, tx_hash: str) -> Sequence[SignedModelUpdate]:
        entries = self._indexed.get(tx_hash.lower())
        if not entries:
            raise ValueError(
                f"transaction {tx_hash} is no direct registerUpdates call to the RoundLedger "
                f"{self.ledger_address}, so its input carries no signatures the audit can read"
            )
        return entries
