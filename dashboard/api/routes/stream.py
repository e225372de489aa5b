"""The live feed (server-sent events): each contract event as it is indexed (``event``, its cursor as
the id, so a reconnecting browser resumes after the last one it saw), a new view of the ledger
(``snapshot``), the chain going down or coming back (``chain``), members' Flower nodes going online
or offline (``nodes``), a reorganisation (``reorg``), and ``lagged`` when the stream fell behind and
the page should reload."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Header
from sse_starlette import EventSourceResponse, JSONServerSentEvent, ServerSentEvent
from starlette.concurrency import run_in_threadpool

from dashboard.api.deps import WatcherDep
from dashboard.api.errors import UNAVAILABLE
from dashboard.events import event_out, parse_cursor
from dashboard.feed import Message
from dashboard.watcher import LedgerWatcher

router = APIRouter(tags=["stream"], responses=UNAVAILABLE)

#: Seconds between keep-alive comments, so proxies keep an idle stream open.
PING_S = 15
#: Events replayed at most to a browser that reconnects with a Last-Event-ID.
REPLAY = 500


def _sse(message: Message) -> ServerSentEvent:
    return JSONServerSentEvent(data=message.data, event=message.kind, id=message.id)


def _replay(watcher: LedgerWatcher, last_event_id: str | None) -> list[Message]:
    """The events after ``last_event_id`` (a cursor this stream sent), or ``lagged`` if too many."""
    if not last_event_id:
        return []
    try:
        after = parse_cursor(last_event_id)
    except ValueError:
        return []  # not an id this API sent: nothing to resume from
    missed = watcher.index.events(after=after, limit=REPLAY + 1)
    if len(missed) > REPLAY:
        return [Message("lagged", {"reason": "too many events missed: reload"})]
    return [Message("event", out.model_dump(mode="json"), out.cursor) for out in map(event_out, missed)]


@router.get(
    "/stream",
    response_class=EventSourceResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "Server-sent events"}},
)
async def stream(
    watcher: WatcherDep,
    last_event_id: Annotated[
        str | None, Header(max_length=40, description="The id of the last event received (a cursor).")
    ] = None,
) -> EventSourceResponse:
    """Server-sent events: ``event`` (a contract event; its id is its cursor), ``snapshot`` (a new
    view of the ledger: reload what is shown), ``chain`` (the chain unreachable or back; also sent
    first), ``nodes`` (members' Flower nodes online or offline changed), ``reorg`` and ``lagged``
    (this stream fell behind: reload)."""
    subscription = watcher.feed.subscribe()
    try:
        replay = await run_in_threadpool(_replay, watcher, last_event_id)
    except BaseException:
        watcher.feed.unsubscribe(subscription)
        raise
    hello = Message("chain", {"reachable": watcher.chain.reachable, "error": watcher.chain.error})

    async def messages() -> AsyncIterator[ServerSentEvent]:
        seen = {m.id for m in replay if m.id}
        try:
            yield _sse(hello)
            for message in replay:
                yield _sse(message)
            while True:
                message = await subscription.queue.get()
                if message.id is not None and message.id in seen:
                    continue
                yield _sse(message)
                if message.kind == "lagged":
                    return
        finally:
            watcher.feed.unsubscribe(subscription)

    return EventSourceResponse(messages(), ping=PING_S)
