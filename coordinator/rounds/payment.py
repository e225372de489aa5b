"""Step 6: pay a finalized round. Its budget is split among its participants by weight
(:func:`coordinator.incentives.split_budget`) in one transaction, once: a paid round is never paid
again. The contract pays only rounds with at least its minimum number of participants, and mints
at most its limit per block window: a round below the minimum is not paid, and a round over the limit
is left unpaid with a warning and the contract's reason (the round stays payable on chain)."""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping

from eth_account.signers.local import LocalAccount
from web3.types import TxReceipt

from bcfl.chain.errors import RewardDistributorMintLimitExceeded
from bcfl.chain.rewards import Distributor
from coordinator.incentives import split_budget

logger = logging.getLogger(__name__)


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
    minimum = distributor.minting_rule()[0]
    if len(participants) < minimum:
        logger.warning(
            "round %d is not paid: %d participants, a paid round needs %d",
            chain_round,
            len(participants),
            minimum,
        )
        return None
    amounts = split_budget(distributor.budget_of(chain_round), weights)
    members = sorted(amounts)
    try:
        receipt = distributor.pay_round(coordinator, chain_round, members, [amounts[m] for m in members])
    except RewardDistributorMintLimitExceeded as exc:
        logger.warning("round %d is not paid yet: %s; it stays payable on chain", chain_round, exc)
        return None
    return {m: amounts[m] for m in members}, receipt
