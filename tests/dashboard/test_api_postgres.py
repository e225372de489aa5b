"""The dashboard with its event index on a real PostgreSQL server serves what it serves over SQLite."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from dashboard.app import create_app
from tests.audit.runs import Run
from tests.dashboard.conftest import settings_for, watcher
from tests.index.postgres import postgres_server

PATHS = (
    "/api/v1/members",
    "/api/v1/rounds",
    "/api/v1/rounds/2",
    "/api/v1/charts",
    "/api/v1/events?limit=500",
)


def test_the_api_over_postgresql_serves_what_it_serves_over_sqlite(
    api: TestClient, run: Run, tmp_path: Path
) -> None:
    on_sqlite = {path: api.get(path).json() for path in PATHS}
    with postgres_server() as url:
        app = create_app(settings_for(run, tmp_path / "pg", BCFL_AUDIT_INDEX=url), watch=False)
        with TestClient(app) as client:
            assert watcher(client).index.engine.dialect.name == "postgresql"
            watcher(client).step()
            status = client.get("/api/v1/status").json()
            assert status["chain"]["reachable"] and status["clean"], status
            on_postgres = {path: client.get(path).json() for path in PATHS}
    assert on_postgres == on_sqlite
    assert len(on_sqlite["/api/v1/events?limit=500"]["events"]) > 20
