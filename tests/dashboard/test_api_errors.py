"""Bad requests to the dashboard's API, over a real run on a real Anvil: each gets a 4xx whose
``detail`` says in one line what was wrong, never a 5xx, a traceback or a list of errors."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bcfl.models.canonical import model_hash, to_bytes
from dashboard.app import create_app
from dashboard.limits import ENVELOPE_BYTES, MAX_UPLOAD_BYTES
from tests.audit.runs import Run
from tests.coordinator.test_round_service import GLOBAL
from tests.dashboard.conftest import settings_for

ZERO_HASH = "0x" + "00" * 32
CURSOR = "^[0-9]{1,18}-[0-9]{1,9}$"

BAD_REQUESTS: list[tuple[str, int, str]] = [
    ("/api/v1/rounds/99", 404, "no round 99 on the chain yet (rounds: 1 to 3)"),
    ("/api/v1/rounds/abc", 422, "path parameter round_number: Input should be a valid integer"),
    ("/api/v1/rounds/-1", 422, "path parameter round_number: Input should be greater than or equal to 0"),
    ("/api/v1/rounds/99999999999999999999", 422, "path parameter round_number: Input should be less than"),
    ("/api/v1/members/77", 404, "no member 77 in this consortium (members: "),
    ("/api/v1/members/x", 422, "path parameter member_id: Input should be a valid integer"),
    ("/api/v1/events?after=garbage", 422, f"query parameter after: String should match pattern '{CURSOR}'"),
    ("/api/v1/events?before=1-", 422, "query parameter before: String should match pattern"),
    ("/api/v1/events?after=9999999999999999999-0", 422, "query parameter after: String should match"),
    ("/api/v1/events?after=%D9%A1-%D9%A2", 422, "query parameter after: String should match"),  # Arabic-Indic
    ("/api/v1/events?after=%C2%B2-1", 422, "query parameter after: String should match"),  # a superscript 2
    ("/api/v1/events?after=1-0&before=9-0", 400, "give after or before, not both"),
    ("/api/v1/events?from_block=9&to_block=2", 400, "from_block 9 is after to_block 2: swap them"),
    (
        "/api/v1/events?contract=Nope",
        400,
        "no contract 'Nope' in the manifest: give one of ConsortiumRegistry",
    ),
    ("/api/v1/events?limit=0", 422, "query parameter limit: Input should be greater than or equal to 1"),
    ("/api/v1/events?limit=501", 422, "query parameter limit: Input should be less than or equal to 500"),
    ("/api/v1/events?round=-3", 422, "query parameter round: Input should be greater than or equal to 0"),
    ("/api/v1/models/0x1234", 422, "path parameter model_hash: String should match pattern"),
    (f"/api/v1/models/{ZERO_HASH}", 404, f"model {ZERO_HASH} was never registered on this chain"),
    ("/api/v1/no-such-route", 404, "no API route /api/v1/no-such-route: see /api/v1/openapi.json"),
]


def assert_one_line(response_json: object, expected: str) -> None:
    assert isinstance(response_json, dict) and set(response_json) == {"detail"}, response_json
    detail = response_json["detail"]
    assert isinstance(detail, str) and "\n" not in detail and "Traceback" not in detail, detail
    assert expected in detail, detail


def test_a_bad_parameter_gets_a_4xx_with_a_one_line_reason(
    api: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    wrong = []
    with caplog.at_level(logging.INFO):
        for path, status, expected in BAD_REQUESTS:
            response = api.get(path)
            body = response.json()
            detail = body.get("detail") if isinstance(body, dict) else None
            if response.status_code != status or not isinstance(detail, str) or expected not in detail:
                wrong.append(f"{path}: {response.status_code} {body!r}")
            else:
                assert_one_line(body, expected)
    assert not wrong, "\n".join(wrong)
    assert not [r for r in caplog.records if r.exc_info], "an expected failure logged a traceback"


def test_a_method_the_route_does_not_take_gets_405(api: TestClient) -> None:
    response = api.post("/api/v1/status")
    assert response.status_code == 405
    assert_one_line(response.json(), "Method Not Allowed")
    assert response.headers["allow"] == "GET"


def test_an_upload_that_is_no_model_is_refused(api: TestClient) -> None:
    text = api.post("/api/v1/models/verify", files={"file": ("notes.txt", b"not a model", "text/plain")})
    assert text.status_code == 400
    assert_one_line(text.json(), "the file is not a model file")
    empty = api.post("/api/v1/models/verify", files={"file": ("empty.bcfl", b"")})
    assert empty.status_code == 400
    assert_one_line(empty.json(), "the file is not a model file")
    missing = api.post("/api/v1/models/verify", data={"other": "x"})
    assert missing.status_code == 422
    assert_one_line(missing.json(), "body parameter file: Field required")
    not_a_file = api.post("/api/v1/models/verify", data={"file": "0xabc"})
    assert not_a_file.status_code == 422
    assert_one_line(not_a_file.json(), "body parameter file:")
    # A real model file that the chain never registered: hashed, and not found.
    other = {"w": GLOBAL["w"] + 1, "b": GLOBAL["b"]}
    unregistered = api.post("/api/v1/models/verify", files={"file": ("other.bcfl", to_bytes(other))})
    assert unregistered.status_code == 404
    assert_one_line(
        unregistered.json(), f"model 0x{model_hash(other).hex()} was never registered on this chain"
    )


def test_an_oversize_or_unsized_upload_is_refused_before_it_is_read(api: TestClient) -> None:
    big = b"\0" * (MAX_UPLOAD_BYTES + ENVELOPE_BYTES + 1)
    oversize = api.post("/api/v1/models/verify", files={"file": ("huge.bcfl", big)})
    assert oversize.status_code == 413
    assert_one_line(oversize.json(), "the upload is over 64 MiB")
    assert "default-src 'self'" in oversize.headers["content-security-policy"]

    def chunks() -> Iterator[bytes]:
        yield b"--x\r\n"

    chunked = api.post(
        "/api/v1/models/verify",
        content=chunks(),
        headers={"content-type": "multipart/form-data; boundary=x"},
    )
    assert chunked.status_code == 411
    assert_one_line(chunked.json(), "send the file with a Content-Length header")


def test_before_the_first_view_of_the_ledger_the_api_says_why(run: Run, tmp_path: Path) -> None:
    app = create_app(settings_for(run, tmp_path), watch=False)
    with TestClient(app) as client:  # the watcher never stepped: no snapshot yet
        for path in ("/api/v1/members", "/api/v1/rounds/1", "/api/v1/charts", "/api/v1/report.html"):
            response = client.get(path)
            assert response.status_code == 503, path
            assert_one_line(
                response.json(), "no view of the ledger yet: not asked yet; retry in a few seconds"
            )
        ready = client.get("/readyz")
        assert ready.status_code == 503 and ready.json() == {"status": "starting", "error": "not asked yet"}
        assert client.get("/healthz").json() == {"status": "ok"}
        status = client.get("/api/v1/status").json()
        assert status["snapshot_block"] is None and status["chain"]["error"] == "not asked yet"
