"""The live feed (server-sent events): each contract event as it is indexed (``event``, its cursor as
the id, so a reconnecting browser resumes after the last one it saw), a new view of the ledger
(``snapshot``), the chain going down or coming back (``chain``), a reorganisation (``reorg``), and
``lagged`` when the stream fell behind and the page should reload."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Header
from sse_starlette import EventSourceResponse, ServerSentEvent

from dashboard.api.deps import WatcherDep
from dashboard.events import event_out, parse_cursor
from dashboard.feed import Message

router = APIRouter(tags=["stream"])

#: Seconds between keep-alive comments, so proxies keep an idle stream open.
PING_S = 15
#: Events replayed at most to a browser that reconnects with a Last-Event-ID.
REPLAY = 500


def _sse(message: Message) -> ServerSentEvent:
    return ServerSentEvent(data=message.data, event=message.kind, id=message.id)


@router.get("/stream", response_class=EventSourceResponse)
async def stream(
    watcher: WatcherDep, last_event_id: Annotated[str | None, Header(max_length=40)] = None
) -> EventSourceResponse:
    """Server-sent events: ``event``, ``snapshot``, ``chain``, ``reorg`` and ``lagged``."""
    subscription = watcher.feed.subscribe()
    replay: list[Message] = []
    if last_event_id:
        try:
            after = parse_cursor(last_event_id)
        except ValueError:
            after = None
        if after is not None:
            missed = watcher.index.events(after=after, limit=REPLAY + 1)
            if len(missed) > REPLAY:
                replay = [Message("lagged", {"reason": "too many events missed: reload"})]
            else:
                replay = [
                    Message("event", event_out(e).model_dump(mode="json"), event_out(e).cursor)
                    for e in missed
                ]
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
