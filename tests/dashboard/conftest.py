"""Fixtures of the dashboard tests: an honest three-round run on the session's real Anvil (the audit
tests' run) and the dashboard's app over it, its watcher stepped by the tests."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from bcfl.chain.anvil import free_port
from bcfl.chain.consortium import Consortium
from bcfl.models.canonical import model_hash
from dashboard.app import create_app
from dashboard.settings import DashboardSettings
from dashboard.watcher import LedgerWatcher
from tests.audit.runs import Run, honest_run
from tests.chain.helpers import prepare_rounds
from tests.conftest import Actors
from tests.coordinator.test_round_service import GLOBAL

T = TypeVar("T")


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


@contextmanager
def live_server(app: FastAPI, *, timeout_s: float = 60.0) -> Iterator[str]:
    """``app`` served by a real uvicorn on a free loopback port (in a thread); yields its base URL."""
    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", timeout_graceful_shutdown=5
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout_s
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"uvicorn did not start on port {port}")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=timeout_s)


def wait_for(what: str, check: Callable[[], T | None], *, timeout_s: float = 60.0, every_s: float = 0.1) -> T:
    """``check()``'s first truthy answer, polled until ``timeout_s`` (then the test fails)."""
    deadline = time.monotonic() + timeout_s
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout_s}s waiting for {what}")
        time.sleep(every_s)


@dataclass(frozen=True)
class Sse:
    """One server-sent event as a client reads it."""

    event: str
    data: Any
    id: str | None


def sse_messages(response: httpx.Response) -> Iterator[Sse]:
    """The server-sent events of a streaming response, in order (keep-alive comments skipped)."""
    fields: dict[str, str] = {}
    data: list[str] = []
    for line in response.iter_lines():
        if line.startswith(":"):
            continue
        if line == "":
            if data or fields:
                yield Sse(fields.get("event", "message"), json.loads("\n".join(data)), fields.get("id"))
            fields, data = {}, []
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            data.append(value)
        else:
            fields[name] = value


def next_message(messages: Iterator[Sse], kind: str, where: Callable[[Sse], bool] = lambda _: True) -> Sse:
    """The next message of type ``kind`` matching ``where`` (others are skipped)."""
    for message in messages:
        if message.event == kind and where(message):
            return message
    pytest.fail(f"the stream ended before a {kind} message")
