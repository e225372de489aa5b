"""Step 1: open the round on chain for the global model, or resume the round a stopped coordinator
left open (the chain decides which)."""

from __future__ import annotations

import logging

import numpy as np
from eth_account.signers.local import LocalAccount

from bcfl.chain.consortium import Consortium
from bcfl.chain.ledger import Ledger, RoundStatus
from bcfl.models.store import ModelStore
from coordinator.errors import CoordinatorError

logger = logging.getLogger(__name__)


def resume_point(consortium: Consortium, store: ModelStore) -> dict[str, np.ndarray] | None:
    """The global model of a round left open on chain, if this coordinator's store holds it."""
    latest = consortium.ledger.round_count()
    if not latest:
        return None
    current = consortium.ledger.get_round(latest)
    if current.status is not RoundStatus.OPEN or current.global_model_hash not in store:
        return None
    logger.info("round %d was left open: resuming it from the stored global model", latest)
    return store.get(current.global_model_hash)


def open_or_resume_round(
    ledger: Ledger, coordinator: LocalAccount, global_hash: bytes, config_hash: bytes
) -> int:
    """The chain round for ``global_hash``: the open one if it already carries this model and config
    document (a coordinator restarted mid-round resumes it), else a new one. A round left open with
    another model or config document is an error."""
    latest = ledger.round_count()
    current = ledger.get_round(latest) if latest else None
    if current is not None and current.status is RoundStatus.OPEN:
        if current.global_model_hash != global_hash:
            raise CoordinatorError(
                f"round {latest} is open on chain with global model 0x{current.global_model_hash.hex()}, "
                f"not this run's 0x{global_hash.hex()}: restart from the model store's copy to finish it"
            )
        if current.config_hash != config_hash:
            raise CoordinatorError(
                f"round {latest} is open on chain with config document 0x{current.config_hash.hex()}, "
                f"not this run's 0x{config_hash.hex()}: resume it with the run config it was opened with"
            )
        logger.info("resuming open round %d on chain", latest)
        return latest
    return ledger.open_round(coordinator, global_hash, config_hash)
