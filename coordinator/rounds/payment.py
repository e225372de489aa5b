"""Step 6: pay a finalized round. Its budget is split among its participants by weight
(:func:`coordinator.incentives.split_budget`) in one transaction, once: a paid round is never paid
again, and a round that failed (no participants) is not paid."""

from __future__ import annotations

from collections.abc import Collection, Mapping

from eth_account.signers.local import LocalAccount
from web3.types import TxReceipt

from bcfl.chain.rewards import Distributor
from coordinator.incentives import split_budget


def pay(
    distributor: Distributor,
    coordinator: LocalAccount,
    chain_round: int,
    weights: Mapping[int, int],
    participants: Collection[int],
) -> tuple[dict[int, int], TxReceipt] | None:
    """Pay ``chain_round``'s ``participants`` (as finalized) by ``weights`` (member id -> weight); the
    amounts and the receipt, or None when no participant has a weight or the round was paid already.

    The distributor pays participants only: a member in good standing whose round failed (too few
    others in good standing) gets nothing.
    """
    weights = {m: w for m, w in weights.items() if m in participants}
    if not weights or distributor.payout_of(chain_round)[0]:
        return None
    amounts = split_budget(distributor.budget_of(chain_round), weights)
    members = sorted(amounts)
    receipt = distributor.pay_round(coordinator, chain_round, members, [amounts[m] for m in members])
    return {m: amounts[m] for m in members}, receipt
