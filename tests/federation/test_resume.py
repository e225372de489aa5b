"""A coordinator that stopped mid-round resumes that round from the chain and its model store."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bcfl.chain.consortium import Consortium
from bcfl.models.canonical import model_hash
from bcfl.models.store import ModelStore
from coordinator.errors import CoordinatorError
from coordinator.rounds.opening import open_or_resume_round, resume_point
from tests.chain.helpers import TEST_APP, prepare_rounds
from tests.conftest import Actors

MODEL = {"w": np.arange(3, dtype=np.float32)}


@pytest.fixture
def consortium(deployed: Consortium, actors: Actors) -> Consortium:
    """A consortium whose lineage starts from ``MODEL``, with the test app approved."""
    prepare_rounds(deployed, actors.admin, start=model_hash(MODEL))
    return deployed


def test_an_open_round_is_resumed_not_reopened(
    consortium: Consortium, actors: Actors, tmp_path: Path
) -> None:
    store = ModelStore(tmp_path / "models")
    assert resume_point(consortium, store) is None  # nothing on chain yet
    global_hash = store.put(MODEL)
    first = open_or_resume_round(consortium.ledger, actors.coordinator, global_hash, b"\x01" * 32, TEST_APP)
    # ... the coordinator stops here; a new one starts from the chain and the store:
    resumed = resume_point(consortium, store)
    assert resumed is not None and np.array_equal(resumed["w"], MODEL["w"])
    again = open_or_resume_round(consortium.ledger, actors.coordinator, global_hash, b"\x01" * 32, TEST_APP)
    assert again == first and consortium.ledger.round_count() == first  # no second round opened


def test_a_round_open_with_another_model_is_a_clear_error(
    consortium: Consortium, actors: Actors, tmp_path: Path
) -> None:
    store = ModelStore(tmp_path / "models")
    open_or_resume_round(consortium.ledger, actors.coordinator, store.put(MODEL), b"\x01" * 32, TEST_APP)
    other = ModelStore(tmp_path / "elsewhere")  # a coordinator without that model
    assert resume_point(consortium, other) is None
    with pytest.raises(CoordinatorError, match="is open on chain"):
        open_or_resume_round(
            consortium.ledger, actors.coordinator, other.put({"w": np.zeros(3)}), b"\x02" * 32, TEST_APP
        )
