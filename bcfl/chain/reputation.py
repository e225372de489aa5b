"""Typed access to the ReputationLedger, and the reference of its on-chain arithmetic.

A member whose reputation is below the exclusion threshold is excluded: its updates are still
registered and scored, but not aggregated nor paid, until good scores lift its reputation back to
the threshold (see ``docs/contracts.md``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from eth_account.signers.local import LocalAccount
from web3.types import TxReceipt

from bcfl.chain.binding import ContractBinding

MAX_SCORE = 10_000


def next_reputation(previous: int, contribution: int, smoothing: int) -> int:
    """The contract's update rule: an integer EMA in basis points, rounded down."""
    return (previous * (MAX_SCORE - smoothing) + contribution * smoothing) // MAX_SCORE


def excluded(reputation: int, exclusion_threshold: int) -> bool:
    """The contract's exclusion rule: a reputation strictly below the threshold (bps)."""
    return reputation < exclusion_threshold


@dataclass(frozen=True)
class ReputationParameters:
    """The ledger's parameters, in basis points."""

    initial_reputation: int
    smoothing: int
    exclusion_threshold: int


@dataclass(frozen=True)
class ReputationChange:
    """One ``ReputationUpdated`` event."""

    round: int
    member_id: int
    contribution: int
    previous: int
    current: int
    block_number: int
    tx_hash: str


class Reputation(ContractBinding):
    """The reputation ledger."""

    CONTRACT = "ReputationLedger"

    def record_scores(
        self,
        coordinator: LocalAccount,
        round_number: int,
        member_ids: Sequence[int],
        contributions: Sequence[int],
    ) -> TxReceipt:
        """Record contribution scores (bps) for members that submitted in the round."""
        return self._transact(
            coordinator, "recordScores", round_number, list(member_ids), list(contributions)
        )

    def set_parameters(
        self, admin: LocalAccount, initial_reputation: int, smoothing: int, exclusion_threshold: int
    ) -> TxReceipt:
        """Change the initial reputation, smoothing factor and exclusion threshold (bps).

        The initial reputation must be at least the threshold (a new member starts included).
        """
        return self._transact(admin, "setParameters", initial_reputation, smoothing, exclusion_threshold)

    def reputation_of(self, member_id: int) -> int:
        """Current reputation in basis points."""
        value: int = self._call("reputationOf", member_id)
        return value

    def last_scored_round(self, member_id: int) -> int:
        """Last round the member was scored in (0 if never)."""
        value: int = self._call("lastScoredRound", member_id)
        return value

    def is_excluded(self, member_id: int) -> bool:
        """Whether the member's updates are to be left out of aggregation (reputation < threshold)."""
        value: bool = self._call("isExcluded", member_id)
        return value

    def reputation_before(self, round_number: int, member_id: int) -> int:
        """The member's reputation before the round's score: what its exclusion is decided on."""
        value: int = self._call("reputationBefore", round_number, member_id)
        return value

    def is_excluded_before(self, round_number: int, member_id: int) -> bool:
        """Whether the member was excluded from the round (reputation before it below the threshold)."""
        return bool(self._call("isExcludedBefore", round_number, member_id))

    def parameters(self) -> ReputationParameters:
        """Initial reputation, smoothing and exclusion threshold, in basis points."""
        initial, smoothing, threshold = self._call("parameters")
        return ReputationParameters(int(initial), int(smoothing), int(threshold))

    def exclusion_threshold(self) -> int:
        """Reputation (bps) below which a member is excluded."""
        return self.parameters().exclusion_threshold

    def history(
        self,
        member_id: int | None = None,
        round_number: int | None = None,
        from_block: int | None = None,
        to_block: int | None = None,
    ) -> list[ReputationChange]:
        """Every reputation change, optionally of one member and/or round."""
        return [
            ReputationChange(
                e.args["round"],
                e.args["memberId"],
                e.args["contribution"],
                e.args["previous"],
                e.args["current"],
                e.block_number,
                e.tx_hash,
            )
            for e in self.round_member_events(
                "ReputationUpdated", round_number, member_id, from_block, to_block
            )
        ]
