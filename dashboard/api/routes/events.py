"""Every contract event, decoded, filtered and paged by cursor (newest page first by default)."""

from __future__ import annotations

from functools import partial
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from dashboard.api.deps import WatcherDep
from dashboard.api.errors import UNAVAILABLE, problem
from dashboard.api.schemas import EventPage
from dashboard.events import CURSOR_PATTERN, cursor_of, event_out, parse_cursor

router = APIRouter(prefix="/events", tags=["events"], responses=UNAVAILABLE)

BIG = 2**63 - 1
Cursor = Annotated[
    str | None,
    Query(pattern=CURSOR_PATTERN, description="A cursor from a previous page (`<block>-<log index>`)."),
]


@router.get("", responses={400: problem("A bad cursor, contract or block range")}, response_model=EventPage)
async def list_events(
    watcher: WatcherDep,
    contract: Annotated[
        str | None,
        Query(max_length=64, description="A manifest contract name, or `outside` for other addresses."),
    ] = None,
    name: Annotated[str | None, Query(max_length=64, description="An event name.")] = None,
    round: Annotated[int | None, Query(ge=0, le=BIG)] = None,
    member: Annotated[int | None, Query(ge=0, le=BIG)] = None,
    from_block: Annotated[int | None, Query(ge=0, le=BIG)] = None,
    to_block: Annotated[int | None, Query(ge=0, le=BIG)] = None,
    tx: Annotated[
        str | None, Query(pattern=r"^0x[0-9a-fA-F]{64}$", description="Only this transaction's events.")
    ] = None,
    after: Cursor = None,
    before: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Response:
    """Events matching every filter in chain order: the ``limit`` after ``after``, the ``limit``
    before ``before``, or (neither) the newest ``limit``."""
    manifest = watcher.manifest
    if contract is not None and contract != "outside" and contract not in manifest.contracts:
        known = ", ".join([*manifest.contracts, "outside"])
        raise HTTPException(400, f"no contract {contract!r} in the manifest: give one of {known}")
    if after is not None and before is not None:
        raise HTTPException(400, "give after or before, not both")
    if from_block is not None and to_block is not None and from_block > to_block:
        raise HTTPException(400, f"from_block {from_block} is after to_block {to_block}: swap them")
    try:
        after_at = parse_cursor(after) if after is not None else None
        before_at = parse_cursor(before) if before is not None else None
    except ValueError as exc:
        raise HTTPException(400, str(exc)) from None
    if after_at is None and before_at is None:
        before_at = (BIG, 0)
    query = partial(
        watcher.index.events,
        contract="" if contract == "outside" else contract,
        name=name,
        round=round,
        member=member,
        from_block=from_block,
        to_block=to_block,
        tx_hash=tx,
        after=after_at,
        before=before_at,
        limit=limit,
    )
    # An embedded SQLite index answers in about a millisecond: asked on the event loop, which is
    # faster under concurrent requests than a hop through the thread pool (whose threads queue for
    # the GIL). A database server may take longer: asked from the thread pool.
    found = query() if watcher.index.engine.dialect.name == "sqlite" else await run_in_threadpool(query)
    page = EventPage(
        events=[event_out(e) for e in found],
        next=cursor_of(found[-1]) if found else after,
        previous=cursor_of(found[0]) if found else None,
    )
    # Serialized here, once: FastAPI would validate the page again against its response model.
    return Response(page.model_dump_json(), media_type="application/json")
