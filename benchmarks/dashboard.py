"""The dashboard under load, on a generated history: its main routes' latency (p50/p95/p99) with N
concurrent clients against one uvicorn worker (``bcfl dashboard``, a separate process, over the
history's manifest, index and store on 127.0.0.1), the time from a contract event to its ``event``
message on an open ``/api/v1/stream``, and the time a snapshot takes to build."""

from __future__ import annotations

import asyncio
import json
import math
import re
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak

from bcfl.chain.anvil import free_port
from bcfl.index.store import EventIndex
from benchmarks.history import History

HOST = "127.0.0.1"
#: Seconds the dashboard may take to start and read the ledger (a full sync of a large index).
READY_S = 600.0
#: Seconds an event may take to reach the stream before a trial counts as failed.
EVENT_WAIT_S = 60.0
#: Seconds of load per route at most (a slow route gets fewer requests).
ROUTE_BUDGET_S = 20.0
#: Seconds between an event's arrival and the next trial's transaction.
GAP_S = 0.3
#: The dashboard's poll interval in the benchmark.
READY_POLL_S = 0.5
SNAPSHOT_LOG = re.compile(r"snapshot at block \d+ in ([0-9.]+)s")


@dataclass(frozen=True)
class RouteLatency:
    """One route's client-side latencies, in milliseconds."""

    name: str
    path: str
    requests: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float


@dataclass(frozen=True)
class DashboardResult:
    """One history's numbers."""

    rounds: int
    events: int
    clients: int
    routes: list[RouteLatency]
    #: The dashboard's snapshots, as it logged them (the first one from scratch).
    snapshots_s: list[float]
    event_to_stream_s: list[float]

    @property
    def worst_p95_ms(self) -> float:
        return max(r.p95_ms for r in self.routes)


def percentile(values: list[float], q: float) -> float:
    """The ``q``-th percentile (0-100) of ``values``, by nearest rank."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(q / 100 * len(ordered))))
    return ordered[rank - 1]


def sync_index(history: History, index_url: str) -> int:
    """Bring the index at ``index_url`` up to the chain (before the dashboard opens it); its events."""
    consortium = history.consortium
    with EventIndex.open(index_url, consortium.manifest) as index:
        index.sync(consortium.client)
        return index.count()


@contextmanager
def serve(history: History, index_url: str, log: Path, poll_s: float = READY_POLL_S) -> Iterator[str]:
    """``bcfl dashboard`` (one uvicorn worker, its watcher polling every ``poll_s``) over the history,
    in its own process; yields its base URL once it is ready."""
    port = free_port()
    command = [
        sys.executable, "-c", "from bcfl.cli.main import app; app()", "-v", "dashboard",
        "--manifest", str(history.manifest_path), "--rpc-url", history.consortium.client.rpc_url,
        "--index", index_url, "--store", str(history.run_dir / "models"),
        "--host", HOST, "--port", str(port), "--poll-s", str(poll_s),
    ]  # fmt: skip
    with log.open("w") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://{HOST}:{port}"
    try:
        deadline = time.monotonic() + READY_S
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the dashboard exited with {process.returncode}: see {log}")
            try:
                if httpx.get(f"{base}/readyz", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the dashboard was not ready within {READY_S:.0f} s: see {log}")
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def server_snapshots(log: Path) -> list[float]:
    """The snapshot build times the dashboard logged, in seconds."""
    return [float(m.group(1)) for m in SNAPSHOT_LOG.finditer(log.read_text())]


def main_routes(history: History) -> dict[str, str]:
    """The routes to load, by name: a middle round, a member's events, the lineage head's model."""
    middle = max(1, history.rounds // 2)
    head = "0x" + history.consortium.ledger.lineage_head().model_hash.hex().removeprefix("0x")
    member = history.member_ids[len(history.member_ids) // 2]
    return {
        "status": "/api/v1/status",
        "members": "/api/v1/members",
        "rounds": "/api/v1/rounds",
        "round": f"/api/v1/rounds/{middle}",
        "charts": "/api/v1/charts",
        "events (newest)": "/api/v1/events",
        "events (filtered)": f"/api/v1/events?member={member}&name=UpdateRegistered",
        "model (head)": f"/api/v1/models/{head}",
        "checks": "/api/v1/checks",
    }


async def _load_route(
    client: httpx.AsyncClient, path: str, clients: int, requests: int, budget_s: float
) -> list[float]:
    latencies: list[float] = []
    remaining = iter(range(requests))
    deadline = time.perf_counter() + budget_s

    async def worker() -> None:
        for _ in remaining:
            if time.perf_counter() > deadline:
                return
            started = time.perf_counter()
            response = await client.get(path)
            latencies.append(1000 * (time.perf_counter() - started))
            if response.status_code != 200:
                raise RuntimeError(f"{path}: HTTP {response.status_code}: {response.text[:200]}")

    await asyncio.gather(*(worker() for _ in range(clients)))
    return latencies


async def load_routes(
    base: str, routes: dict[str, str], clients: int, requests: int, budget_s: float = ROUTE_BUDGET_S
) -> list[RouteLatency]:
    """``requests`` GETs of each route by ``clients`` concurrent clients (after a few warm-up ones),
    fewer where they take more than ``budget_s`` seconds."""
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    results = []
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as client:
        for name, path in routes.items():
            await _load_route(client, path, clients, clients, budget_s)  # warm-up
            latencies = await _load_route(client, path, clients, requests, budget_s)
            results.append(
                RouteLatency(
                    name,
                    path,
                    len(latencies),
                    percentile(latencies, 50),
                    percentile(latencies, 95),
                    percentile(latencies, 99),
                    max(latencies),
                )
            )
    return results


def newcomer(trial: int) -> LocalAccount:
    """The key of the benchmark's ``trial``-th applicant, derived from a public label: BENCHMARK ONLY."""
    account: LocalAccount = Account.from_key(keccak(text=f"bcfl dashboard benchmark applicant {trial}"))
    return account


@asynccontextmanager
async def _stream(base: str) -> AsyncIterator[asyncio.Queue[tuple[float, dict[str, object]]]]:
    """An open ``/api/v1/stream``: a queue of (arrival time, data) of its ``event`` messages."""
    queue: asyncio.Queue[tuple[float, dict[str, object]]] = asyncio.Queue()
    opened = asyncio.Event()

    async def read() -> None:
        async with (
            httpx.AsyncClient(base_url=base, timeout=None) as client,
            client.stream("GET", "/api/v1/stream") as response,
        ):
            kind = ""
            async for line in response.aiter_lines():
                opened.set()
                if line.startswith("event:"):
                    kind = line.removeprefix("event:").strip()
                elif line.startswith("data:") and kind == "event":
                    queue.put_nowait((time.perf_counter(), json.loads(line.removeprefix("data:"))))

    reader = asyncio.create_task(read())
    try:
        await asyncio.wait_for(opened.wait(), 30)
        yield queue
    finally:
        reader.cancel()


async def event_to_stream(history: History, funder: LocalAccount, base: str, trials: int) -> list[float]:
    """Seconds from sending a membership request to its ``MembershipRequested`` on an open stream,
    ``trials`` times: a new applicant each time, :data:`GAP_S` after the previous event arrived (so
    while the dashboard builds the snapshot that event started, as during a round's burst of events)."""
    registry = history.consortium.registry
    applicants = [newcomer(history.rounds * 1_000 + trial) for trial in range(trials)]
    for applicant in applicants:
        history.consortium.client.transfer(funder, applicant.address, 10**16)
    await asyncio.sleep(2 * READY_POLL_S)  # the funding blocks synced (they hold no event)
    seconds = []
    async with _stream(base) as queue:
        for trial, applicant in enumerate(applicants):
            await asyncio.sleep(GAP_S)
            while not queue.empty():
                queue.get_nowait()
            sent = time.perf_counter()
            await asyncio.to_thread(registry.request_membership, applicant, f"Benchmark applicant {trial}")
            while True:
                arrived, data = await asyncio.wait_for(queue.get(), EVENT_WAIT_S)
                if data.get("name") == "MembershipRequested":
                    seconds.append(arrived - sent)
                    break
    return seconds


def measure_dashboard(
    history: History,
    funder: LocalAccount,
    work_dir: Path,
    clients: int = 8,
    requests: int = 200,
    trials: int = 5,
) -> DashboardResult:
    """Serve ``history`` and measure the routes and the stream (the dashboard logs its snapshots' times:
    the first one is built from scratch, the later ones reuse the recomputed rounds)."""
    index_url = str(work_dir / f"index-{history.rounds}.sqlite")
    events = sync_index(history, index_url)
    log = work_dir / f"dashboard-{history.rounds}.log"
    with serve(history, index_url, log) as base:
        routes = asyncio.run(load_routes(base, main_routes(history), clients, requests))
        latencies = asyncio.run(event_to_stream(history, funder, base, trials))
    return DashboardResult(history.rounds, events, clients, routes, server_snapshots(log), latencies)


def summary(values: list[float]) -> tuple[float, float]:
    """(median, max)."""
    return statistics.median(values), max(values)
