"""Fixtures of the audit tests: a consortium whose lineage starts from the round service tests'
model, and an honest three-round run on it."""

from __future__ import annotations

from pathlib import Path

import pytest

from bcfl.chain.consortium import Consortium
from bcfl.models.canonical import model_hash
from tests.audit.runs import Run, honest_run
from tests.chain.helpers import prepare_rounds
from tests.conftest import Actors
from tests.coordinator.test_round_service import GLOBAL


@pytest.fixture
def consortium(deployed: Consortium, actors: Actors) -> Consortium:
    prepare_rounds(deployed, actors.admin, start=model_hash(GLOBAL))
    return deployed


@pytest.fixture
def run(consortium: Consortium, actors: Actors, members: list[int], tmp_path: Path) -> Run:
    return honest_run(consortium, actors, members, tmp_path / "run")
