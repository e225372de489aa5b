"""Fixtures of the dashboard tests: an honest three-round run on the session's real Anvil (the audit
tests' run) and the dashboard's app over it, its watcher stepped by the tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bcfl.chain.consortium import Consortium
from bcfl.models.canonical import model_hash
from dashboard.app import create_app
from dashboard.settings import DashboardSettings
from dashboard.watcher import LedgerWatcher
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


def settings_for(run: Run, tmp_path: Path, **changes: object) -> DashboardSettings:
    manifest = tmp_path / "deployment.json"
    run.consortium.manifest.save(manifest)
    values: dict[str, object] = {
        "BCFL_RPC_URL": run.consortium.client.rpc_url,
        "BCFL_MANIFEST": manifest,
        "BCFL_AUDIT_INDEX": str(tmp_path / "index.sqlite"),
        "store": run.run_dir / "models",
        **changes,
    }
    return DashboardSettings.model_validate(values)


@pytest.fixture
def api(run: Run, tmp_path: Path) -> Iterator[TestClient]:
    """The app over ``run``, its ledger read once (no watcher thread: tests step it)."""
    app = create_app(settings_for(run, tmp_path), watch=False)
    with TestClient(app) as client:
        watcher(client).step()
        yield client


def watcher(client: TestClient) -> LedgerWatcher:
    found: LedgerWatcher = client.app.state.watcher  # type: ignore[attr-defined]
    return found
