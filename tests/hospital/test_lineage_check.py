"""A hospital trains only on a global model on the consortium's approved lineage: the aggregate of the
round's parent, or the model of an approved lineage start. On a real Anvil the contract already holds
every round to that; the failure paths are shown with a ledger that tells otherwise (a fake)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from bcfl.chain.consortium import Consortium
from bcfl.chain.ledger import Ledger, LineageStart, RoundRecord, RoundStatus
from bcfl.models.canonical import model_hash
from hospital_node.verify import GlobalModelRejectedError, check_global_model
from tests.chain.helpers import TEST_APP, h, prepare_rounds
from tests.conftest import Actors

FIRST = {"w": np.arange(4, dtype=np.float32)}
SECOND = {"w": np.arange(4, dtype=np.float32) + 1}


def test_rounds_at_a_lineage_start_and_after_it_pass(deployed: Consortium, actors: Actors) -> None:
    ledger = deployed.ledger
    prepare_rounds(deployed, actors.admin, start=model_hash(FIRST))
    first = ledger.open_round(actors.coordinator, model_hash(FIRST), h("config"), TEST_APP)
    assert check_global_model(ledger, first, FIRST) == model_hash(FIRST)  # a lineage start
    ledger.finalize_round(actors.coordinator, first, model_hash(SECOND), h("metrics"), [], [])
    second = ledger.open_round(actors.coordinator, model_hash(SECOND), h("config"), TEST_APP)
    assert ledger.get_round(second).parent_round == first
    assert check_global_model(ledger, second, SECOND) == model_hash(SECOND)  # its parent's aggregate
    with pytest.raises(GlobalModelRejectedError, match="hashes to"):
        check_global_model(ledger, second, FIRST)


class _OffLineageLedger(Ledger):
    """A ledger whose records contradict the lineage (what a broken or substituted contract could say)."""

    def __init__(self, rounds: dict[int, RoundRecord], starts: list[LineageStart]) -> None:
        self._rounds, self._starts = rounds, starts

    def get_round(self, round_number: int) -> RoundRecord:
        return self._rounds[round_number]

    def lineage_starts(self, lineage: int | None = None) -> list[LineageStart]:
        return [s for s in self._starts if lineage is None or s.lineage == lineage]


def _record(
    number: int, global_hash: bytes, *, parent: int, lineage: int, status: RoundStatus
) -> RoundRecord:
    return RoundRecord(
        number, global_hash, h("config"), h(f"aggregate {number}"), status, 0, 0, 1, 0, parent, lineage
    )


def test_a_model_off_the_lineage_is_refused() -> None:
    received = model_hash(SECOND)
    parent = _record(1, model_hash(FIRST), parent=0, lineage=1, status=RoundStatus.FINALIZED)
    child = _record(2, received, parent=1, lineage=1, status=RoundStatus.OPEN)  # parent's aggregate differs
    start = LineageStart(1, model_hash(FIRST), "0x" + "00" * 20, "fresh", 1, "0x")
    with pytest.raises(GlobalModelRejectedError, match="not the aggregate of its parent, round 1"):
        check_global_model(_OffLineageLedger({1: parent, 2: child}, [start]), 2, SECOND)
    orphan = _record(3, received, parent=0, lineage=1, status=RoundStatus.OPEN)  # no start names this model
    with pytest.raises(GlobalModelRejectedError, match="starts no approved lineage"):
        check_global_model(_OffLineageLedger({3: orphan}, [start]), 3, SECOND)
    named = dataclasses.replace(start, model_hash=received)
    assert check_global_model(_OffLineageLedger({3: orphan}, [named]), 3, SECOND) == received
