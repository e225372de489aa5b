"""Before a step builds on what the coordinator sent earlier, the chain is asked whether it still holds
it. A chain restarted from its state file (saved about once a second: docs/operators.md) comes back
without its last transactions, though the coordinator holds their receipts; a coordinator that went
on regardless would finalize a round whose scores are gone, and nobody would be paid for it. What the
chain lost is sent again from the round's own record: the same signed updates, the same scores."""

from __future__ import annotations

from eth_account.signers.local import LocalAccount

from bcfl.chain.consortium import Consortium
from coordinator.errors import CoordinatorError
from coordinator.rounds import registration
from coordinator.rounds.state import RoundState


def restore_round(consortium: Consortium, coordinator: LocalAccount, state: RoundState) -> dict[str, str]:
    """Register again ``state``'s updates, and record again its scores, that the chain no longer holds;
    the hash of each transaction sent, by what it sent (``register_tx``, ``scores_tx``): empty when
    the chain holds them all."""
    chain_round = state.chain_round
    sent: dict[str, str] = {}
    updates = state.registration.updates if state.registration is not None else ()
    if updates:
        ledger = consortium.ledger
        registered = registration.registered_hashes(ledger, chain_round)
        receipt, skipped = registration.register(ledger, coordinator, chain_round, updates, registered)
        if skipped:
            members = ", ".join(str(update.member_id) for update, _ in skipped)
            raise CoordinatorError(
                f"round {chain_round}: the chain lost the registration of member(s) {members} and now "
                f"skips it ({skipped[0][1].reason.text}): submit the run again to resume the round"
            )
        if receipt is not None:
            sent["register_tx"] = receipt["transactionHash"].to_0x_hex()
    if state.assessment is not None:
        reputation = consortium.reputation
        recorded = {c.member_id for c in reputation.history(round_number=chain_round)}
        scores = state.assessment.scores
        lost = [m for m in sorted(scores) if m not in recorded]
        if lost:
            receipt = reputation.record_scores(
                coordinator, chain_round, lost, [scores[m].score_bps for m in lost]
            )
            sent["scores_tx"] = receipt["transactionHash"].to_0x_hex()
    return sent
