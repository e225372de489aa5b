"""Indexing throughput on a generated history: a full sync from empty, the naive full rescan beside it,
and the incremental sync of the history's last round."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from eth_account.signers.local import LocalAccount

from bcfl.chain.client import ChainClient
from bcfl.index.scan import scan_events
from bcfl.index.store import EventIndex
from benchmarks.history import History, add_rounds, start_history

#: Timed repetitions of the full sync and of the rescan; the best is reported.
REPEATS = 3


@dataclass(frozen=True)
class IndexingResult:
    """One history's numbers."""

    rounds: int
    hospitals: int
    blocks: int
    events: int
    generate_s: float
    full_sync_s: float
    rescan_s: float
    incremental_events: int
    incremental_s: float

    @property
    def sync_events_per_s(self) -> float:
        return self.events / self.full_sync_s

    @property
    def rescan_events_per_s(self) -> float:
        return self.events / self.rescan_s


def measure_indexing(
    client: ChainClient,
    admin: LocalAccount,
    coordinator: LocalAccount,
    run_dir: Path,
    rounds: int,
    progress: Callable[[int], None] = lambda _n: None,
) -> tuple[IndexingResult, History]:
    """Generate ``rounds`` rounds (the last one after an index caught up with the others), then time
    the incremental sync of that round, a full sync from empty into a fresh SQLite file and the naive
    full rescan (best of :data:`REPEATS`)."""
    started = time.perf_counter()
    history = start_history(client, admin, coordinator, run_dir)
    progress(0)
    add_rounds(history, coordinator, rounds - 1, progress)
    manifest = history.consortium.manifest
    with EventIndex.open(str(run_dir / "incremental.sqlite"), manifest) as index:
        index.sync(client)
        add_rounds(history, coordinator, 1, progress)
        generate_s = time.perf_counter() - started
        before = index.count()
        started = time.perf_counter()
        index.sync(client)
        incremental_s = time.perf_counter() - started
        incremental = index.count() - before
    full, rescan, events = [], [], 0
    for _ in range(REPEATS):
        with (
            tempfile.TemporaryDirectory() as scratch,
            EventIndex.open(f"{scratch}/index.sqlite", manifest) as index,
        ):
            started = time.perf_counter()
            events = index.sync(client).added
            full.append(time.perf_counter() - started)
        started = time.perf_counter()
        scanned = scan_events(client, manifest)
        rescan.append(time.perf_counter() - started)
        assert len(scanned) == events, f"the rescan found {len(scanned)} events, the index {events}"
    result = IndexingResult(
        rounds=rounds,
        hospitals=len(history.hospitals),
        blocks=client.block_number() - manifest.deployment_block + 1,
        events=events,
        generate_s=generate_s,
        full_sync_s=min(full),
        rescan_s=min(rescan),
        incremental_events=incremental,
        incremental_s=incremental_s,
    )
    return result, history
