"""What every answer carries: the security headers (a strict CSP on the page and the API, the audit
report's own sandboxed one on the report, which is only ever an attachment), and the Prometheus
request counters at ``/metrics``."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from dashboard.security import CSP, HEADERS, REPORT_CSP

PAGES = (
    "/",
    "/index.html",
    "/api/v1/status",
    "/api/v1/members",
    "/api/v1/openapi.json",
    "/healthz",
    "/readyz",
)


def test_every_answer_carries_the_security_headers(api: TestClient) -> None:
    for path in (*PAGES, "/api/v1/rounds/99", "/no-such-file.js", "/api/v1/nope"):
        response = api.get(path)
        assert response.status_code < 500, path
        assert response.headers["content-security-policy"] == CSP, path
        for name, value in HEADERS.items():
            assert response.headers[name] == value, (path, name)
    assert "script-src 'self'" in CSP and "unsafe-inline" not in CSP and "frame-ancestors 'none'" in CSP


def test_the_report_is_an_attachment_with_its_own_sandboxed_policy(api: TestClient) -> None:
    html = api.get("/api/v1/report.html")
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    assert html.headers["content-disposition"] == 'attachment; filename="report.html"'
    assert html.headers["content-security-policy"] == REPORT_CSP
    assert "sandbox" in REPORT_CSP and "default-src 'none'" in REPORT_CSP
    assert html.headers["x-content-type-options"] == "nosniff"
    assert "<script" in html.text  # it inlines its charts: the reason it has its own policy
    report = api.get("/api/v1/report.json")
    assert report.headers["content-disposition"] == 'attachment; filename="report.json"'
    assert report.headers["content-security-policy"] == CSP
    assert [r["round"] for r in report.json()["rounds"]] == [1, 2, 3]


def _count(metrics: str, handler: str, status: str) -> float:
    pattern = (
        rf'^http_requests_total\{{[^}}]*handler="{re.escape(handler)}"[^}}]*status="{status}"[^}}]*\}} (\S+)$'
    )
    found = [float(m) for m in re.findall(pattern, metrics, flags=re.MULTILINE)]
    return sum(found)


def test_metrics_count_the_requests_by_route_and_status(api: TestClient) -> None:
    before = api.get("/metrics").text
    for _ in range(3):
        assert api.get("/api/v1/members").status_code == 200
    for _ in range(2):
        assert api.get("/api/v1/rounds/99").status_code == 404
    metrics = api.get("/metrics")
    assert metrics.status_code == 200 and metrics.headers["content-type"].startswith("text/plain")
    text = metrics.text
    assert "# TYPE http_requests_total counter" in text
    assert _count(text, "/api/v1/members", "2xx") - _count(before, "/api/v1/members", "2xx") == 3
    assert (
        _count(text, "/api/v1/rounds/{round_number}", "4xx")
        - _count(before, "/api/v1/rounds/{round_number}", "4xx")
        == 2
    )
    assert "http_request_duration_seconds" in text
