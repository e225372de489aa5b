"""Step 2: the round's updates on chain. Keep one verified update per member, agreeing with what the
chain already holds for the round (after a restart), and register the new ones in one transaction.
An update that stops verifying between the check here and the transaction (its member rotated its key
or was suspended) is skipped by the contract with an ``UpdateSkipped`` event, and left out here: the
round goes on without it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from eth_account.signers.local import LocalAccount
from web3.types import TxReceipt

from bcfl.chain.ledger import Ledger, SkippedUpdate
from coordinator.verification import Rejection, VerifiedUpdate


def screen(
    checked: Iterable[VerifiedUpdate | Rejection], registered: Mapping[int, bytes]
) -> tuple[list[VerifiedUpdate], list[Rejection]]:
    """The verified updates by member id (the first of each member's), and every rejection.

    After a restart mid-round, updates may already be on chain (``registered``, by member id): an
    update that matches its registered hash is kept (it is not registered again), any other from
    that member is refused.
    """
    accepted: dict[int, VerifiedUpdate] = {}
    rejected: list[Rejection] = []
    for result in checked:
        if isinstance(result, Rejection):
            rejected.append(result)
        elif result.member_id in accepted:
            rejected.append(Rejection(result.node_id, "a second update from the same member", result.signer))
        elif (
            result.member_id in registered
            and registered[result.member_id] != result.signed.update.update_hash
        ):
            rejected.append(
                Rejection(result.node_id, "differs from the update registered earlier", result.signer)
            )
        else:
            accepted[result.member_id] = result
    return [accepted[m] for m in sorted(accepted)], rejected


def registered_hashes(ledger: Ledger, chain_round: int) -> dict[int, bytes]:
    """The update hash each member has registered in ``chain_round``, as the chain holds it now."""
    return {u.member_id: u.update_hash for u in ledger.updates(round_number=chain_round)}


def register(
    ledger: Ledger,
    coordinator: LocalAccount,
    chain_round: int,
    updates: Iterable[VerifiedUpdate],
    registered: Mapping[int, bytes],
) -> tuple[TxReceipt | None, list[tuple[VerifiedUpdate, SkippedUpdate]]]:
    """Register the updates the chain does not hold yet, in one transaction: its receipt (None when
    there was nothing to send) and the updates the contract skipped, with the reason."""
    new = [u for u in updates if u.member_id not in registered]
    if not new:
        return None, []
    receipt = ledger.register_updates(coordinator, chain_round, [u.signed for u in new])
    return receipt, [(new[s.index], s) for s in ledger.skipped_in(receipt)]
