"""Step 1: open the round on chain for the global model, or resume the round a stopped coordinator
left open (the chain decides which). A round opens only from the head of the consortium's approved
lineage (the previous round's aggregate, or an approved lineage start) and only for an approved app:
the contract enforces both, and this step says so in one line before sending anything."""

from __future__ import annotations

import logging

import numpy as np
from eth_account.signers.local import LocalAccount

from bcfl.chain.consortium import Consortium
from bcfl.chain.ledger import Ledger, RoundRecord, RoundStatus
from bcfl.models.store import ModelStore
from coordinator.errors import CoordinatorError

logger = logging.getLogger(__name__)


def open_round(ledger: Ledger) -> tuple[int, RoundRecord] | None:
    """The latest round and its record if it is open on chain (a coordinator stopped mid-round)."""
    latest = ledger.round_count()
    current = ledger.get_round(latest) if latest else None
    return (latest, current) if current is not None and current.status is RoundStatus.OPEN else None


def resume_point(consortium: Consortium, store: ModelStore) -> dict[str, np.ndarray] | None:
    """Where this run starts: the global model of a round left open on chain, else the head of the
    consortium's lineage (a run continues the lineage), if this coordinator's store holds it; else None,
    and the run's fresh model must be the head of an approved lineage start."""
    ledger = consortium.ledger
    opened = open_round(ledger)
    if opened is not None:
        latest, current = opened
        if current.global_model_hash in store:
            logger.info("round %d was left open: resuming it from the stored global model", latest)
            return store.get(current.global_model_hash)
        return None
    head = ledger.lineage_head()
    if head.lineage == 0 or head.model_hash not in store:
        return None
    logger.info(
        "continuing lineage %d from model 0x%s (round %d)", head.lineage, head.model_hash.hex(), head.round
    )
    return store.get(head.model_hash)


def open_or_resume_round(
    ledger: Ledger, coordinator: LocalAccount, global_hash: bytes, config_hash: bytes, app_hash: bytes
) -> int:
    """The chain round for ``global_hash``: the open one if it already carries this model and config
    document (a coordinator restarted mid-round resumes it), else a new one. A round left open with
    another model or config document, a model that is not the lineage's head, or an app the
    consortium did not approve is an error."""
    opened = open_round(ledger)
    if opened is not None:
        latest, current = opened
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
    head = ledger.lineage_head()
    if head.model_hash != global_hash:
        raise CoordinatorError(
            f"this run's model 0x{global_hash.hex()} is not the head of the consortium's lineage "
            f"(0x{head.model_hash.hex()}, lineage {head.lineage}): continue from the head (the model store "
            "must hold it), or have the admin (or the members, in governance mode) start a new lineage "
            "from this model (bcfl lineage start)"
        )
    if not ledger.is_app_approved(app_hash):
        raise CoordinatorError(
            f"this run's app 0x{app_hash.hex()} is not approved by the consortium on chain: "
            "have the admin approve it (bcfl app approve), or run an approved app"
        )
    return ledger.open_round(coordinator, global_hash, config_hash, app_hash)
