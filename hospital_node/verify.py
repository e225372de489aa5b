"""Trust but verify: a hospital trains only on the global model the ledger registered for an open
round, on the consortium's approved lineage: the model is the aggregate of the round's parent, or the
model an approved ``LineageStarted`` named. The contract enforces the lineage when it opens a round;
the hospital reads it back rather than take the coordinator's word."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Protocol

import numpy as np

from bcfl.chain.rounds import LineageStart, RoundRecord, RoundStatus
from bcfl.models.canonical import model_hash
from hospital_node.errors import HospitalNodeError

logger = logging.getLogger(__name__)


class RoundReader(Protocol):
    """What the check reads from the RoundLedger: the web3 :class:`bcfl.chain.ledger.Ledger`, or the
    ClientApp's light :class:`bcfl.chain.view.LedgerView`."""

    def get_round(self, round_number: int) -> RoundRecord:
        """The stored record of a round."""
        ...

    def lineage_starts(self, lineage: int | None = None) -> list[LineageStart]:
        """``LineageStarted`` records, optionally of one lineage."""
        ...


class GlobalModelRejectedError(HospitalNodeError):
    """The model received is not the one registered on chain for the round."""


def check_global_model(ledger: RoundReader, chain_round: int, arrays: Mapping[str, np.ndarray]) -> bytes:
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
        reason = _off_lineage(ledger, record)
        if not reason:
            return received
    logger.error("refusing to train: %s", reason)
    raise GlobalModelRejectedError(f"refused: {reason}")


def _off_lineage(ledger: RoundReader, record: RoundRecord) -> str:
    """Why ``record``'s global model is not on an approved lineage, or an empty string."""
    if record.parent_round:
        parent = ledger.get_round(record.parent_round)
        if (
            parent.status is RoundStatus.FINALIZED
            and parent.aggregated_model_hash == record.global_model_hash
        ):
            return ""
        return (
            f"round {record.round}'s global model is not the aggregate of its parent, "
            f"round {record.parent_round}"
        )
    starts = ledger.lineage_starts(record.lineage) if record.lineage else []
    if any(start.model_hash == record.global_model_hash for start in starts):
        return ""
    return f"round {record.round}'s global model starts no approved lineage (lineage {record.lineage})"
