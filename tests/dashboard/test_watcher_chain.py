"""The chain goes down under a running dashboard, then comes back: the dashboard keeps serving its
last view and says the chain is unreachable (status, readiness, the live feed), and once the chain
answers again it says so and indexes what happened since. Its own real Anvil, stopped with its state
saved and restarted on the same port from that state."""

from __future__ import annotations

import logging
from pathlib import Path

import httpx
import pytest

from bcfl.chain.anvil import AnvilNode
from bcfl.chain.client import ChainClient
from bcfl.chain.consortium import Consortium
from bcfl.chain.deploy import deploy_consortium
from bcfl.models.canonical import model_hash
from dashboard.app import create_app
from tests.audit.runs import honest_run
from tests.chain.helpers import admit, prepare_rounds
from tests.conftest import Actors
from tests.coordinator.test_round_service import GLOBAL
from tests.dashboard.conftest import live_server, next_message, settings_for, sse_messages, wait_for
from tests.dashboard.test_stream import READ_S, stream


def test_while_the_chain_is_down_the_last_view_is_served_and_it_catches_up_when_back(
    tmp_path: Path, actors: Actors, caplog: pytest.LogCaptureFixture
) -> None:
    state = tmp_path / "chain" / "state.json"
    node = AnvilNode(state_path=state, log_path=tmp_path / "anvil.log").start()
    restarted: AnvilNode | None = None
    try:
        client = ChainClient(node.rpc_url)
        manifest = deploy_consortium(client, actors.admin, coordinator=actors.coordinator.address)
        consortium = Consortium.connect(client, manifest)
        prepare_rounds(consortium, actors.admin, start=model_hash(GLOBAL))
        members = [
            admit(consortium, actors.admin, h, f"Hospital {i}") for i, h in enumerate(actors.hospitals[:3])
        ]
        run = honest_run(consortium, actors, members, tmp_path / "run", rounds=2)
        app = create_app(settings_for(run, tmp_path, poll_s=0.2))
        with (
            caplog.at_level(logging.INFO),
            live_server(app) as url,
            httpx.Client(base_url=url, timeout=READ_S) as http,
        ):
            wait_for("the first view of the ledger", lambda: http.get("/readyz").status_code == 200)
            before = {path: http.get(path).json() for path in ("/api/v1/members", "/api/v1/rounds")}
            snapshot_block = http.get("/api/v1/status").json()["snapshot_block"]
            indexed = http.get("/api/v1/events", params={"limit": 500}).json()["events"]

            with stream(http) as response:
                messages = sse_messages(response)
                assert next(messages).data["reachable"] is True
                node.stop()  # saves its state
                down = next_message(messages, "chain", lambda m: m.data["reachable"] is False)
                error = down.data["error"]
                assert error.startswith(f"the chain at {node.rpc_url} did not answer "), error
                assert error.endswith("after 1 tries (ConnectionError)"), error

                status = http.get("/api/v1/status").json()
                assert (
                    status["chain"]["reachable"] is False and status["chain"]["error"] == down.data["error"]
                )
                assert status["snapshot_block"] == snapshot_block
                for path, served in before.items():
                    answer = http.get(path)
                    assert answer.status_code == 200 and answer.json() == served, path
                assert http.get("/readyz").status_code == 200
                assert http.get("/api/v1/rounds/2").status_code == 200
                assert http.get("/api/v1/events", params={"limit": 3}).status_code == 200

                restarted = AnvilNode(
                    port=node.port, state_path=state, log_path=tmp_path / "anvil-2.log"
                ).start()
                up = next_message(messages, "chain", lambda m: m.data["reachable"] is True)
                assert up.data["error"] is None
                late = consortium.registry.request_membership(actors.hospitals[3], "Late Hospital")
                event = next_message(messages, "event", lambda m: m.data["name"] == "MembershipRequested")
                assert event.data["member"] == late
                next_message(messages, "snapshot", lambda m: m.data["block"] >= event.data["block_number"])

            status = http.get("/api/v1/status").json()
            assert status["chain"]["reachable"] is True and status["snapshot_block"] > snapshot_block
            listed = {m["member_id"]: m for m in http.get("/api/v1/members").json()}
            assert listed[late]["name"] == "Late Hospital" and listed[late]["status"] == "pending"
            rounds = http.get("/api/v1/rounds").json()
            assert rounds == before["/api/v1/rounds"]  # the history the restarted chain kept
            # Nothing indexed before the outage was rolled back: the restarted chain is the same chain.
            after = http.get("/api/v1/events", params={"limit": 500, "to_block": indexed[-1]["block_number"]})
            assert after.json()["events"] == indexed
        assert not [r for r in caplog.records if r.exc_info], "an expected outage logged a traceback"
        warnings = [r.getMessage() for r in caplog.records if r.name == "dashboard.watcher"]
        assert (
            any("the chain is unreachable" in w for w in warnings) and "the chain answers again" in warnings
        )
    finally:
        node.stop()
        if restarted is not None:
            restarted.stop()
