"""Typed access to the RoundLedger: rounds, signed update hashes and finalization."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum

from eth_account.signers.local import LocalAccount
from eth_typing import HexStr
from web3.types import TxReceipt

from bcfl.chain.binding import ContractBinding
from bcfl.chain.eip712 import LedgerDomain, ModelUpdate, SignedModelUpdate
from bcfl.chain.privacy import PrivacyBudget

# Re-exported: the records live in the light bcfl.chain.rounds (the ClientApp reads them without web3).
from bcfl.chain.rounds import LineageStart as LineageStart
from bcfl.chain.rounds import RoundRecord as RoundRecord
from bcfl.chain.rounds import RoundStatus as RoundStatus


class SkipReason(IntEnum):
    """Why ``registerUpdates`` left an entry out, as in the contract."""

    EMPTY_VALUE = 0
    UNAUTHORIZED_SIGNER = 1
    DUPLICATE_UPDATE = 2
    PRIVACY_BUDGET_EXCEEDED = 3

    @property
    def text(self) -> str:
        """The reason in words ("unauthorized signer")."""
        return self.name.lower().replace("_", " ")


@dataclass(frozen=True)
class LineageHead:
    """The model the next round must open from, the round that produced it (0 at a lineage start)
    and the lineage's number (0 before the first lineage)."""

    model_hash: bytes
    round: int
    lineage: int


@dataclass(frozen=True)
class SkippedUpdate:
    """A registration entry the contract left out, as recorded by an ``UpdateSkipped`` event."""

    round: int
    index: int
    signer: str
    update_hash: bytes
    reason: SkipReason
    block_number: int
    tx_hash: str


@dataclass(frozen=True)
class RegisteredUpdate:
    """A hospital's update as recorded by an ``UpdateRegistered`` event (its signer is the member's key
    at that block; the signature is in the transaction's input)."""

    round: int
    member_id: int
    update_hash: bytes
    num_examples: int
    block_number: int
    tx_hash: str
    #: The ε and δ the update spent and the member's cumulative ε in the lineage after it
    #: (:mod:`bcfl.chain.privacy`'s units).
    epsilon_spent: int
    delta_spent: int
    epsilon_total: int


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

    def open_round(
        self, coordinator: LocalAccount, global_model_hash: bytes, config_hash: bytes, app_hash: bytes
    ) -> int:
        """Open the next round from the lineage's head, running approved app ``app_hash``; its number."""
        receipt = self._transact(coordinator, "openRound", global_model_hash, config_hash, app_hash)
        round_number: int = self._receipt_events(receipt, "RoundOpened")[0]["round"]
        return round_number

    def register_updates(
        self, sender: LocalAccount, round_number: int, updates: Sequence[SignedModelUpdate]
    ) -> TxReceipt:
        """Register signed updates in one transaction; an entry that does not verify is skipped with an
        ``UpdateSkipped`` event (see :meth:`skipped_in`). Anyone may send it: the signatures authorize."""
        return self._transact(sender, "registerUpdates", round_number, [u.contract_tuple() for u in updates])

    def registered_signatures(self, tx_hash: str) -> list[SignedModelUpdate]:
        """Every entry of the registration transaction ``tx_hash`` (a direct ``registerUpdates`` call to
        this ledger), rebuilt from its input as the contract verified it: the signed update over the
        round and the round's global model, in batch order (skipped entries included, at the index their
        ``UpdateSkipped`` event names).

        ``UpdateRegistered`` carries no signer: an auditor recovers each entry's signer with
        :func:`bcfl.chain.eip712.recover_signer` under :meth:`domain` and compares it with the member's key
        at that block (the registry's ``MemberActivated`` and ``SignerRotated`` events). ValueError, in one
        line, for a transaction that is not such a call, or that reverted (it registered nothing)."""
        w3 = self.client.w3
        tx = self.client.retrying("eth_getTransactionByHash", lambda: w3.eth.get_transaction(HexStr(tx_hash)))
        if str(tx.get("to") or "").lower() != self.address.lower():
            raise ValueError(
                f"transaction {tx_hash} is not sent to the RoundLedger {self.address}: "
                "pass the hash of a registerUpdates transaction to this ledger"
            )
        try:
            function, args = self.contract.decode_function_input(tx["input"])
        except ValueError:
            function, args = None, {}
        if function is None or function.fn_name != "registerUpdates":
            raise ValueError(
                f"transaction {tx_hash} does not call registerUpdates: "
                "pass the hash of a registration transaction (see RegisteredUpdate.tx_hash)"
            )
        receipt = self.client.retrying(
            "eth_getTransactionReceipt", lambda: w3.eth.get_transaction_receipt(HexStr(tx_hash))
        )
        if receipt["status"] != 1:
            raise ValueError(
                f"transaction {tx_hash} reverted and registered nothing: "
                "pass the hash of a registration that succeeded (see RegisteredUpdate.tx_hash)"
            )
        record = self.get_round(args["round"])
        return [
            SignedModelUpdate(
                ModelUpdate(
                    record.round,
                    record.global_model_hash,
                    u["updateHash"],
                    u["numExamples"],
                    u["epsilonSpent"],
                    u["deltaSpent"],
                ),
                u["r"],
                u["vs"],
            )
            for u in args["updates"]
        ]

    def skipped_in(self, receipt: TxReceipt) -> list[SkippedUpdate]:
        """The entries a registration transaction skipped."""
        return [
            SkippedUpdate(
                e["round"],
                e["index"],
                e["signer"],
                e["updateHash"],
                SkipReason(e["reason"]),
                receipt["blockNumber"],
                receipt["transactionHash"].to_0x_hex(),
            )
            for e in self._receipt_events(receipt, "UpdateSkipped")
        ]

    def start_lineage(self, sender: LocalAccount, model_hash: bytes, reason: str) -> TxReceipt:
        """Start a new lineage from ``model_hash`` (the admin, or anyone once members approved it)."""
        return self._transact(sender, "startLineage", model_hash, reason)

    def lineage_head(self) -> LineageHead:
        """The model the next round must open from."""
        model_hash, round_number, lineage = self._call("lineageHead")
        return LineageHead(model_hash, round_number, lineage)

    def lineage_starts(self, lineage: int | None = None) -> list[LineageStart]:
        """``LineageStarted`` records, optionally of one lineage."""
        return [
            LineageStart(
                e.args["lineage"],
                e.args["modelHash"],
                e.args["startedBy"],
                e.args["reason"],
                e.block_number,
                e.tx_hash,
            )
            for e in self.events("LineageStarted", filters={} if lineage is None else {"lineage": lineage})
        ]

    def lineage_decision(self, model_hash: bytes, reason: str) -> bytes:
        """The decision id members approve (governance mode) to start a lineage from ``model_hash``."""
        decision: bytes = self._call("lineageDecision", model_hash, reason)
        return decision

    def approve_app(self, sender: LocalAccount, app_hash: bytes) -> TxReceipt:
        """Approve the app whose FAB hashes to ``app_hash`` (the admin, or anyone once members approved)."""
        return self._transact(sender, "approveApp", app_hash)

    def revoke_app(self, sender: LocalAccount, app_hash: bytes) -> TxReceipt:
        """Withdraw the approval of ``app_hash``."""
        return self._transact(sender, "revokeApp", app_hash)

    def is_app_approved(self, app_hash: bytes) -> bool:
        """Whether the consortium approved the app whose FAB hashes to ``app_hash``."""
        return bool(self._call("isAppApproved", app_hash))

    def app_decision(self, app_hash: bytes, approved: bool) -> bytes:
        """The decision id members approve (governance mode) to approve or revoke ``app_hash``."""
        decision: bytes = self._call("appDecision", app_hash, approved)
        return decision

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
        glob, config, aggregated, status, count, participants, opened, finalized, parent, lineage = (
            self._call("getRound", round_number)
        )
        return RoundRecord(
            round_number, glob, config, aggregated, RoundStatus(status), count, participants, opened,
            finalized, parent, lineage,
        )  # fmt: skip

    def has_submitted(self, round_number: int, member_id: int) -> bool:
        """Whether the member has a registered update in the round."""
        return bool(self._call("hasSubmitted", round_number, member_id))

    def is_participant(self, round_number: int, member_id: int) -> bool:
        """Whether the member entered the round's aggregate."""
        return bool(self._call("isParticipant", round_number, member_id))

    def update_digest(self, update: ModelUpdate) -> bytes:
        """The EIP-712 digest of ``update`` as the contract computes it."""
        unsigned = SignedModelUpdate(update, bytes(32), bytes(32)).contract_tuple()
        digest: bytes = self._call("updateDigest", update.round, update.global_model_hash, unsigned)
        return digest

    def privacy_budget(self) -> PrivacyBudget:
        """What each member may spend per lineage."""
        epsilon, delta = self._call("privacyBudget")
        return PrivacyBudget(epsilon, delta)

    def epsilon_spent(self, lineage: int, member_id: int) -> int:
        """The member's cumulative ε in ``lineage`` (:mod:`bcfl.chain.privacy`'s units)."""
        spent: int = self._call("epsilonSpent", lineage, member_id)
        return spent

    def set_privacy_budget(self, sender: LocalAccount, budget: PrivacyBudget) -> TxReceipt:
        """Set the privacy budget (the admin, or anyone once members approved it in governance mode)."""
        return self._transact(sender, "setPrivacyBudget", budget.as_tuple())

    def privacy_budget_decision(self, budget: PrivacyBudget) -> bytes:
        """The decision id members approve (governance mode) to set ``budget``."""
        decision: bytes = self._call("privacyBudgetDecision", budget.as_tuple())
        return decision

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
                e.args["updateHash"],
                e.args["numExamples"],
                e.block_number,
                e.tx_hash,
                e.args["epsilonSpent"],
                e.args["deltaSpent"],
                e.args["epsilonTotal"],
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
