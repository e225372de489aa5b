"""Trust but verify: a hospital trains only on the global model the ledger registered."""

from __future__ import annotations

import logging
from collections.abc import Mapping

import numpy as np

from bcfl.chain.ledger import Ledger, RoundStatus
from bcfl.models.canonical import model_hash
from hospital_node.errors import HospitalNodeError

logger = logging.getLogger(__name__)


class GlobalModelRejectedError(HospitalNodeError):
    """The model received is not the one registered on chain for the round."""


def check_global_model(ledger: Ledger, chain_round: int, arrays: Mapping[str, np.ndarray]) -> bytes:
    """The model's hash, if the ledger shows it as the global model of the open ``chain_round``."""
    record = ledger.get_round(chain_round)
    received = model_hash(arrays)
    if record.status is not RoundStatus.OPEN:
        reason = f"round {chain_round} is not open on chain (status {record.status.name.lower()})"
    elif record.global_model_hash != received:
        reason = (
            f"the global model received hashes to 0x{received.hex()}, but round {chain_round} "
            f"registered 0x{record.global_model_hash.hex()} on chain"
        )
    else:
        return received
    logger.error("refusing to train: %s", reason)
    raise GlobalModelRejectedError(f"refused: {reason}")
