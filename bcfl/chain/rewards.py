"""Typed access to the RewardToken and RewardDistributor."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from eth_account.signers.local import LocalAccount
from web3.types import TxReceipt

from bcfl.chain.binding import ContractBinding


@dataclass(frozen=True)
class Payment:
    """One ``RewardPaid`` event."""

    round: int
    member_id: int
    account: str
    amount: int
    block_number: int
    tx_hash: str


class Token(ContractBinding):
    """The ERC-20 reward token."""

    CONTRACT = "RewardToken"

    def balance_of(self, account: str) -> int:
        """Token balance of ``account`` in base units."""
        value: int = self._call("balanceOf", account)
        return value

    def total_supply(self) -> int:
        """Tokens minted so far (all of them by the distributor)."""
        value: int = self._call("totalSupply")
        return value

    def minter(self) -> str:
        """The only account that can mint: the distributor that created the token."""
        value: str = self._call("minter")
        return value

    def name(self) -> str:
        """Token name."""
        value: str = self._call("name")
        return value

    def symbol(self) -> str:
        """Token symbol."""
        value: str = self._call("symbol")
        return value

    def decimals(self) -> int:
        """Token decimals."""
        value: int = self._call("decimals")
        return value


class Distributor(ContractBinding):
    """The per-round reward distributor."""

    CONTRACT = "RewardDistributor"

    def pay_round(
        self, coordinator: LocalAccount, round_number: int, member_ids: Sequence[int], amounts: Sequence[int]
    ) -> TxReceipt:
        """Pay a finalized round's participants (ascending ids) in one transaction."""
        return self._transact(coordinator, "payRound", round_number, list(member_ids), list(amounts))

    def set_round_budget(self, admin: LocalAccount, budget: int) -> TxReceipt:
        """Set the budget (base units) of rounds opened from now on."""
        return self._transact(admin, "setRoundBudget", budget)

    def round_budget(self) -> int:
        """Budget of rounds opened from now on, in base units."""
        value: int = self._call("roundBudget")
        return value

    def budget_of(self, round_number: int) -> int:
        """Budget of a round: the one in force when it was opened."""
        value: int = self._call("budgetOf", round_number)
        return value

    def minting_rule(self) -> tuple[int, int, int]:
        """Fewest participants of a paid round, minting window (blocks) and most minted per window."""
        minimum, window, limit = self._call("mintingRule")
        return int(minimum), int(window), int(limit)

    def minted_in_current_window(self) -> int:
        """Tokens minted so far in the current block window."""
        value: int = self._call("mintedInCurrentWindow")
        return value

    def token_address(self) -> str:
        """The reward token this distributor created and alone mints."""
        value: str = self._call("token")
        return value

    def payout_of(self, round_number: int) -> tuple[bool, int]:
        """Whether the round was paid, and its total."""
        paid, total = self._call("payoutOf", round_number)
        return bool(paid), int(total)

    def paid_rounds(self) -> set[int]:
        """Every round paid so far (``RoundPaid`` events)."""
        return {e.args["round"] for e in self.events("RoundPaid")}

    def payments(
        self,
        round_number: int | None = None,
        member_id: int | None = None,
        from_block: int | None = None,
        to_block: int | None = None,
    ) -> list[Payment]:
        """Every payment, optionally of one round and/or member."""
        return [
            Payment(
                e.args["round"],
                e.args["memberId"],
                e.args["account"],
                e.args["amount"],
                e.block_number,
                e.tx_hash,
            )
            for e in self.round_member_events("RewardPaid", round_number, member_id, from_block, to_block)
        ]
