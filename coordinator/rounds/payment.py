"""Step 6: pay a finalized round. Its budget is split among the members by weight
(:func:`coordinator.incentives.split_budget`) in one transaction, once: a paid round is never paid
again."""

from __future__ import annotations

from collections.abc import Mapping

from eth_account.signers.local import LocalAccount
from web3.types import TxReceipt

from bcfl.chain.rewards import Distributor
from coordinator.incentives import split_budget


def pay(
    distributor: Distributor, coordinator: LocalAccount, chain_round: int, weights: Mapping[int, int]
) -> tuple[dict[int, int], TxReceipt] | None:
    """Pay ``chain_round`` by ``weights`` (member id -> weight); the amounts and the receipt, or None
    when nobody has a weight or the round was paid already."""
    if not weights or distributor.payout_of(chain_round)[0]:
        return None
    amounts = split_budget(distributor.budget_of(chain_round), weights)
    members = sorted(amounts)
    receipt = distributor.pay_round(coordinator, chain_round, members, [amounts[m] for m in members])
    return {m: amounts[m] for m in members}, receipt
