"""The live feed through the real stack: the app served by uvicorn with its watcher thread running
over a real run on a real Anvil, read by an HTTP streaming client. A contract event on the chain
arrives as an ``event`` message whose id is its cursor; a client that reconnects with the last id it
saw gets the events it missed, in order."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from bcfl.chain.consortium import Consortium
from dashboard.app import create_app
from tests.audit.runs import Run
from tests.conftest import Actors
from tests.dashboard.conftest import Sse, live_server, next_message, settings_for, sse_messages, wait_for

#: Seconds a streaming read may wait (keep-alive pings come every 15 s; events within a second).
READ_S = 60.0


@contextmanager
def stream(client: httpx.Client, last_event_id: str | None = None) -> Iterator[httpx.Response]:
    headers = {"accept": "text/event-stream"}
    if last_event_id is not None:
        headers["last-event-id"] = last_event_id
    with client.stream("GET", "/api/v1/stream", headers=headers) as response:
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        yield response


def position(cursor: str | None) -> tuple[int, int]:
    assert cursor is not None
    block, log_index = cursor.split("-")
    return int(block), int(log_index)


def assert_matches_chain(consortium: Consortium, message: Sse) -> None:
    """The message's cursor is the block number and log index of its log on the chain."""
    data = message.data
    receipt = consortium.client.w3.eth.get_transaction_receipt(data["tx_hash"])
    assert receipt["blockNumber"] == data["block_number"]
    log = next(lg for lg in receipt["logs"] if lg["logIndex"] == data["log_index"])
    assert log["address"] == data["address"] == consortium.registry.address
    assert message.id == data["cursor"] == f"{receipt['blockNumber']}-{log['logIndex']}"


def test_a_contract_event_reaches_an_open_stream_and_a_reconnect_replays_what_was_missed(
    run: Run, actors: Actors, tmp_path: Path
) -> None:
    consortium = run.consortium
    app = create_app(settings_for(run, tmp_path, poll_s=0.2))
    with live_server(app) as url, httpx.Client(base_url=url, timeout=READ_S) as client:
        wait_for("the first view of the ledger", lambda: client.get("/readyz").status_code == 200)

        with stream(client) as response:
            messages = sse_messages(response)
            hello = next(messages)
            assert hello.event == "chain" and hello.data == {"reachable": True, "error": None}
            member_id = consortium.registry.request_membership(actors.hospitals[3], "St Luke's")
            seen = next_message(messages, "event", lambda m: m.data["name"] == "MembershipRequested")
            assert seen.data["args"]["name"] == "St Luke's" and seen.data["member"] == member_id
            assert_matches_chain(consortium, seen)
            assert next_message(messages, "snapshot").data["block"] >= seen.data["block_number"]

        # While no stream is open: the admin approves the request, the hospital names its node key.
        consortium.registry.approve(actors.admin, member_id)
        consortium.registry.update_node_key(actors.hospitals[3], b"\x07" * 32)
        head = consortium.client.block_number()
        wait_for("the approval indexed", lambda: client.get("/api/v1/status").json()["indexed_block"] >= head)
        missed = client.get("/api/v1/events", params={"after": seen.id}).json()["events"]
        assert [e["name"] for e in missed] == ["MemberActivated", "NodeKeyUpdated"], missed

        with stream(client, last_event_id=seen.id) as response:
            messages = sse_messages(response)
            assert next(messages).event == "chain"
            replayed = [next(messages) for _ in missed]
            assert [(m.event, m.id) for m in replayed] == [("event", e["cursor"]) for e in missed]
            assert [m.data for m in replayed] == missed
            # Then live again: the next event is new, not a replay.
            consortium.registry.suspend(actors.admin, member_id, "audit pending")
            live = next_message(messages, "event")
            assert live.data["name"] == "MemberSuspended" and live.data["args"]["reason"] == "audit pending"
            assert position(live.id) > position(replayed[-1].id)

        # An id this API never sent resumes nothing, and the stream still works.
        with stream(client, last_event_id="not-a-cursor") as response:
            messages = sse_messages(response)
            assert next(messages).event == "chain"
            consortium.registry.reinstate(actors.admin, member_id)
            first = next_message(messages, "event")
            assert first.data["name"] == "MemberReinstated", first
