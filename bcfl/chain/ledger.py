"""Typed access to the RoundLedger: rounds, signed update hashes and finalization."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum

from eth_account.signers.local import LocalAccount
from web3.types import TxReceipt

from bcfl.chain.binding import ContractBinding
from bcfl.chain.eip712 import LedgerDomain, SignedModelUpdate


class RoundStatus(IntEnum):
    """Round status, as in the contract."""

    NONE = 0
    OPEN = 1
    FINALIZED = 2


@dataclass(frozen=True)
class RoundRecord:
    """A round as stored on chain."""

    round: int
    global_model_hash: bytes
    config_hash: bytes
    aggregated_model_hash: bytes
    metrics_hash: bytes
    participants_hash: bytes
    status: RoundStatus
    update_count: int
    opened_at_block: int
    finalized_at_block: int


@dataclass(frozen=True)
class RegisteredUpdate:
    """A hospital's update as recorded by an ``UpdateRegistered`` event."""

    round: int
    member_id: int
    signer: str
    update_hash: bytes
    num_examples: int
    block_number: int
    tx_hash: str


@dataclass(frozen=True)
class FinalizedRound:
    """A round's close as recorded by a ``RoundFinalized`` event."""

    round: int
    aggregated_model_hash: bytes
    metrics_hash: bytes
    participants: tuple[int, ...]
    weights: tuple[int, ...]
    block_number: int
    tx_hash: str


class Ledger(ContractBinding):
    """The round ledger."""

    CONTRACT = "RoundLedger"

    def domain(self) -> LedgerDomain:
        """The EIP-712 domain hospitals sign under for this deployment."""
        return LedgerDomain(chain_id=self.client.chain_id, verifying_contract=self.address)

    def open_round(self, coordinator: LocalAccount, global_model_hash: bytes, config_hash: bytes) -> int:
        """Open the next round; returns its number."""
        receipt = self._transact(coordinator, "openRound", global_model_hash, config_hash)
        round_number: int = self._receipt_events(receipt, "RoundOpened")[0]["round"]
        return round_number

    def register_updates(
        self, coordinator: LocalAccount, round_number: int, updates: Sequence[SignedModelUpdate]
    ) -> TxReceipt:
        """Register signed updates in one transaction (all or none)."""
        return self._transact(
            coordinator, "registerUpdates", round_number, [u.contract_tuple() for u in updates]
        )

    def finalize_round(
        self,
        coordinator: LocalAccount,
        round_number: int,
        aggregated_model_hash: bytes,
        metrics_hash: bytes,
        participants: Sequence[int],
        weights: Sequence[int],
    ) -> TxReceipt:
        """Close a round with its aggregate, metrics hash, and participants (ascending ids) with weights."""
        return self._transact(
            coordinator,
            "finalizeRound",
            round_number,
            aggregated_model_hash,
            metrics_hash,
            list(participants),
            list(weights),
        )

    def round_count(self) -> int:
        """The latest round's number (0 before the first)."""
        count: int = self._call("roundCount")
        return count

    def get_round(self, round_number: int) -> RoundRecord:
        """The stored record of a round (status NONE if never opened)."""
        glob, config, aggregated, metrics, participants, status, count, opened, finalized = self._call(
            "getRound", round_number
        )
        return RoundRecord(
            round_number,
            glob,
            config,
            aggregated,
            metrics,
            participants,
            RoundStatus(status),
            count,
            opened,
            finalized,
        )

    def has_submitted(self, round_number: int, member_id: int) -> bool:
        """Whether the member has a registered update in the round."""
        return bool(self._call("hasSubmitted", round_number, member_id))

    def is_participant(self, round_number: int, member_id: int) -> bool:
        """Whether the member entered the round's aggregate."""
        return bool(self._call("isParticipant", round_number, member_id))

    def update_digest(
        self, round_number: int, global_model_hash: bytes, update_hash: bytes, num_examples: int
    ) -> bytes:
        """The EIP-712 digest as the contract computes it."""
        digest: bytes = self._call("updateDigest", round_number, global_model_hash, update_hash, num_examples)
        return digest

    def updates(
        self,
        round_number: int | None = None,
        member_id: int | None = None,
        from_block: int | None = None,
        to_block: int | None = None,
    ) -> list[RegisteredUpdate]:
        """Registered updates, filtered by round and/or member and block range."""
        return [
            RegisteredUpdate(
                e.args["round"],
                e.args["memberId"],
                e.args["signer"],
                e.args["updateHash"],
                e.args["numExamples"],
                e.block_number,
                e.tx_hash,
            )
            for e in self.round_member_events(
                "UpdateRegistered", round_number, member_id, from_block, to_block
            )
        ]

    def finalized_rounds(
        self, round_number: int | None = None, from_block: int | None = None, to_block: int | None = None
    ) -> list[FinalizedRound]:
        """``RoundFinalized`` records, optionally of one round."""
        return [
            FinalizedRound(
                e.args["round"],
                e.args["aggregatedModelHash"],
                e.args["metricsHash"],
                tuple(e.args["participants"]),
                tuple(e.args["weights"]),
                e.block_number,
                e.tx_hash,
            )
            for e in self.round_member_events("RoundFinalized", round_number, None, from_block, to_block)
        ]
