"""What the RoundLedger stores about a round and a lineage start, as plain records: read both by the
web3 :class:`bcfl.chain.ledger.Ledger` and by the ClientApp's light :mod:`bcfl.chain.view`."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class RoundStatus(IntEnum):
    """Round status, as in the contract."""

    NONE = 0
    OPEN = 1
    FINALIZED = 2


@dataclass(frozen=True)
class RoundRecord:
    """A round as stored on chain (its metrics hash and participants are in ``RoundFinalized``)."""

    round: int
    global_model_hash: bytes
    config_hash: bytes
    aggregated_model_hash: bytes
    status: RoundStatus
    update_count: int
    participant_count: int
    opened_at_block: int
    finalized_at_block: int
    parent_round: int
    lineage: int


@dataclass(frozen=True)
class LineageStart:
    """The start of a lineage, as recorded by a ``LineageStarted`` event."""

    lineage: int
    model_hash: bytes
    started_by: str
    reason: str
    block_number: int
    tx_hash: str
