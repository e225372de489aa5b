"""Bringing an index up to the chain: roll back a reorganised tail, then add new blocks window by window.

A reorganisation is found by block hash: the index keeps the hash of every block holding an event and
of each last indexed block; when the last one no longer matches the chain, the highest stored block
that still matches is the fork point, and everything above it is deleted (in one transaction) before
indexing resumes from there. Events are keyed by ``(block_number, log_index)`` and each window is one
transaction that also moves the last indexed block, so an interrupted sync resumes without gaps or
double counting. Two syncs of one index at once (the dashboard's watcher and ``bcfl audit report``,
say) take turns: each window's transaction first takes the index's write lock, then stores only the
blocks the other has not stored meanwhile.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, delete, insert, select, update

from bcfl.chain.client import ChainClient
from bcfl.chain.manifest import DeploymentManifest
from bcfl.index import tables
from bcfl.index.decoding import EventDecoder
from bcfl.index.errors import EventIndexError
from bcfl.index.fetch import BlockHeader, get_headers, get_logs, get_transactions
from bcfl.index.rawlogs import RawLogDecoder
from bcfl.index.records import IndexedEvent
from bcfl.index.registrations import REGISTRATION_EVENTS, RegistrationDecoder

logger = logging.getLogger(__name__)

#: Blocks asked for in one eth_getLogs call (halved while the node refuses).
DEFAULT_WINDOW = 5_000
#: Tries of a window whose logs and block hashes disagree (the chain reorganised while reading).
WINDOW_TRIES = 3
#: Stored blocks whose hashes are asked for at once while looking for a fork point.
FORK_BATCH = 200
_INT64 = 2**63


@dataclass(frozen=True)
class SyncResult:
    """What one sync did: the blocks it indexed, the events it added, and the fork point it rolled
    back to (``None`` if no indexed block was reorganised)."""

    from_block: int
    to_block: int
    added: int
    rolled_back_to: int | None


def sync_index(
    engine: Engine,
    manifest: DeploymentManifest,
    client: ChainClient,
    confirmations: int,
    progress: Callable[[int, int], None] | None,
    window: int,
) -> SyncResult:
    """See :meth:`bcfl.index.store.EventIndex.sync`."""
    if confirmations < 0:
        raise EventIndexError(f"confirmations must be 0 or more, got {confirmations}")
    floor = manifest.deployment_block - 1
    rolled_back_to = _roll_back_reorganised(engine, client, floor)
    with engine.connect() as conn:
        last = int(read_meta(conn).get("last_block", floor))
    target = client.block_number() - confirmations
    first = last + 1
    decoder = RawLogDecoder(EventDecoder.for_manifest(manifest))
    registrations = RegistrationDecoder(manifest.address("RoundLedger"))
    added, start, size = 0, first, max(1, window)
    while start <= target:
        end, rows = _read_window(client, decoder, start, min(start + size - 1, target))
        size = max(1, end - start + 1)  # keep a window the node cut down
        with engine.begin() as conn:
            stored = _lock_index(conn, floor)
            if stored < end:  # else another sync stored the whole window meanwhile
                added += _store_window(conn, client, registrations, end, rows.after(stored))
        if progress is not None:
            progress(end - first + 1, target - first + 1)
        start = end + 1
    return SyncResult(first, start - 1, added, rolled_back_to)


@dataclass(frozen=True)
class _Window:
    events: list[IndexedEvent]
    headers: dict[int, BlockHeader]

    def after(self, block: int) -> _Window:
        """The part of the window above ``block`` (what another sync has not stored yet)."""
        return _Window(
            [e for e in self.events if e.block_number > block],
            {n: h for n, h in self.headers.items() if n > block},
        )


def _lock_index(conn: Connection, floor: int) -> int:
    """Take the index's write lock for this transaction (SQLite's database lock, a row lock in
    PostgreSQL: a concurrent sync waits here until this one commits), then read the last indexed block."""
    m = tables.meta
    conn.execute(update(m).where(m.c.key == "schema_version").values(value=m.c.value))
    return int(read_meta(conn).get("last_block", floor))


def _read_window(client: ChainClient, decoder: RawLogDecoder, start: int, end: int) -> tuple[int, _Window]:
    for _ in range(WINDOW_TRIES):
        logs, end = get_logs(client, decoder.topics, start, end)
        numbers = {int(log["blockNumber"], 16) for log in logs} | {end}
        headers = get_headers(client, numbers)
        present = {n: h for n, h in headers.items() if h is not None}
        hashes = {n: h.hash for n, h in present.items()}
        if end in present and all(
            hashes.get(int(log["blockNumber"], 16)) == str(log["blockHash"]).lower() for log in logs
        ):
            events = [
                event
                for log in logs
                if (event := decoder.decode(log, present[int(log["blockNumber"], 16)].timestamp))
            ]
            return end, _Window(events, present)
        logger.info("blocks %d-%d changed while being read; reading them again", start, end)
    raise EventIndexError(
        f"the chain kept reorganising blocks {start}-{end} while they were read: run the sync again"
    )


def _store_window(
    conn: Connection, client: ChainClient, registrations: RegistrationDecoder, end: int, window: _Window
) -> int:
    if window.events:
        conn.execute(insert(tables.events), [_event_row(e) for e in window.events])
    conn.execute(
        insert(tables.blocks),
        [
            {"number": h.number, "hash": h.hash, "timestamp": h.timestamp}
            for h in sorted(window.headers.values(), key=lambda h: h.number)
        ],
    )
    _store_registrations(conn, client, registrations, window.events)
    write_meta(conn, {"last_block": str(end)})
    return len(window.events)


def _store_registrations(
    conn: Connection, client: ChainClient, decoder: RegistrationDecoder, events: list[IndexedEvent]
) -> None:
    ledger = decoder.ledger_address
    marking = {
        e.tx_hash: e.block_number for e in events if e.address == ledger and e.name in REGISTRATION_EVENTS
    }
    if not marking:
        return
    rounds = {int(e.args["round"]) for e in events if e.tx_hash in marking}
    opened = tables.events
    query = select(opened.c.round, opened.c.args).where(
        opened.c.name == "RoundOpened", opened.c.address == ledger, opened.c.round.in_(rounds)
    )
    global_hash = {int(row.round): json.loads(row.args)["globalModelHash"] for row in conn.execute(query)}
    rows: list[dict[str, Any]] = []
    for tx_hash, tx in get_transactions(client, marking).items():
        rows.extend(decoder.rows(tx, marking[tx_hash], global_hash))
    if rows:
        conn.execute(insert(tables.registrations), rows)


def _roll_back_reorganised(engine: Engine, client: ChainClient, floor: int) -> int | None:
    """Delete what lies above the fork point if an indexed block was reorganised; the fork point."""
    b = tables.blocks
    newest_first = select(b).order_by(b.c.number.desc())
    with engine.connect() as conn:
        last = conn.execute(newest_first.limit(1)).first()
    if last is None or _still_there(client, [(int(last.number), str(last.hash))]) == int(last.number):
        return None  # nothing indexed yet, or the last indexed block is still on the chain
    with engine.connect() as conn:
        stored = [(int(r.number), str(r.hash)) for r in conn.execute(newest_first)]
    fork = floor
    for offset in range(1, len(stored), FORK_BATCH):
        match = _still_there(client, stored[offset : offset + FORK_BATCH])
        if match is not None:
            fork = match
            break
    logger.warning("indexed blocks above %d were reorganised: rolling back to block %d", fork, fork)
    with engine.begin() as conn:
        conn.execute(delete(tables.events).where(tables.events.c.block_number > fork))
        conn.execute(delete(tables.registrations).where(tables.registrations.c.block_number > fork))
        conn.execute(delete(b).where(b.c.number > fork))
        write_meta(conn, {"last_block": str(fork)})
    return fork


def _still_there(client: ChainClient, blocks: list[tuple[int, str]]) -> int | None:
    """The highest of ``blocks`` (number, hash; newest first) the chain still has, or None."""
    chain = get_headers(client, (n for n, _ in blocks))
    return next((n for n, h in blocks if (c := chain[n]) is not None and c.hash == h), None)


def _event_row(event: IndexedEvent) -> dict[str, Any]:
    return {
        "block_number": event.block_number,
        "log_index": event.log_index,
        "block_hash": event.block_hash,
        "timestamp": event.timestamp,
        "tx_hash": event.tx_hash,
        "contract": event.contract,
        "address": event.address,
        "name": event.name,
        "round": _int64(event.args.get("round")),
        "member": _int64(event.args.get("memberId")),
        "args": json.dumps(event.args),
    }


def _int64(value: object) -> int | None:
    return value if isinstance(value, int) and 0 <= value < _INT64 else None


def read_meta(conn: Connection) -> dict[str, str]:
    """The ``meta`` table as a mapping."""
    return {str(r.key): str(r.value) for r in conn.execute(select(tables.meta))}


def write_meta(conn: Connection, values: Mapping[str, str]) -> None:
    """Set ``meta`` keys (insert or replace)."""
    m = tables.meta
    conn.execute(delete(m).where(m.c.key.in_(list(values))))
    conn.execute(insert(m), [{"key": k, "value": v} for k, v in values.items()])
