"""The dashboard's JSON API over a real run on a real Anvil."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.audit.runs import Run


def test_the_api_shows_the_runs_members_rounds_and_checks(api: TestClient, run: Run) -> None:
    status = api.get("/api/v1/status").json()
    assert status["chain"]["reachable"] and status["clean"], status
    members = api.get("/api/v1/members").json()
    assert sorted(m["member_id"] for m in members) == sorted(run.members)
    rounds = api.get("/api/v1/rounds").json()
    assert [r["round"] for r in rounds] == [1, 2, 3]
    one = api.get("/api/v1/rounds/2").json()
    assert one["global_model_hash"] == rounds[0]["aggregated_model_hash"]
    checks = api.get("/api/v1/checks").json()
    assert checks["clean"] and not checks["not_run"]
    charts = api.get("/api/v1/charts").json()
    assert charts["rounds"] == [1, 2, 3]
    events = api.get("/api/v1/events", params={"limit": 5}).json()
    assert len(events["events"]) == 5
    tx = events["events"][-1]["tx_hash"]
    same_tx = api.get("/api/v1/events", params={"tx": tx, "limit": 500}).json()["events"]
    assert same_tx and {e["tx_hash"] for e in same_tx} == {tx}
    every = api.get("/api/v1/events", params={"limit": 500}).json()["events"]
    assert [e for e in every if e["tx_hash"] == tx] == same_tx
    prov = api.get(f"/api/v1/models/{rounds[-1]['aggregated_model_hash']}").json()
    assert [r["round"] for r in prov["rounds"]] == [3, 2, 1]
    page = api.get("/")
    assert page.status_code == 200 and "default-src 'self'" in page.headers["content-security-policy"]


def test_a_long_lineage_comes_a_page_at_a_time(api: TestClient) -> None:
    rounds = api.get("/api/v1/rounds").json()
    newest = rounds[-1]["aggregated_model_hash"]
    whole = api.get(f"/api/v1/models/{newest}").json()
    assert whole["lineage_rounds"] == 3 and whole["older_rounds"] == 0 and whole["next_before"] is None
    first = api.get(f"/api/v1/models/{newest}", params={"limit": 1}).json()
    assert [r["round"] for r in first["rounds"]] == [3]
    assert (first["older_rounds"], first["next_before"], first["lineage_rounds"]) == (2, 3, 3)
    # The oldest shown round started from the next page's newest aggregate.
    assert first["older_model_hash"] == rounds[1]["aggregated_model_hash"]
    assert first["rounds"][0]["global_model_hash"] == first["older_model_hash"]
    rest = api.get(f"/api/v1/models/{newest}", params={"before": first["next_before"]}).json()
    assert [r["round"] for r in rest["rounds"]] == [2, 1] and rest["next_before"] is None
    assert first["rounds"] + rest["rounds"] == whole["rounds"]
    assert rest["checks"] == whole["checks"] == api.get("/api/v1/checks").json()["checks"]
