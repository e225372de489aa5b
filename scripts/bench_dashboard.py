"""Measure the dashboard on synthetic but real histories (about 10,000 and 100,000 indexed events, on
one fresh Anvil: the larger history continues the smaller one) and write the dashboard section of
docs/benchmarks.md."""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.progress import Progress

from bcfl.chain.anvil import AnvilNode
from bcfl.chain.client import ChainClient
from bcfl.chain.devkeys import dev_account
from bcfl.paths import node_bin
from benchmarks.dashboard import ROUTE_BUDGET_S, DashboardResult, measure_dashboard, summary
from benchmarks.history import HOSPITALS, add_rounds, start_history
from benchmarks.report import replace_section

#: ~43 events per round of 10 hospitals: about 10,000 and 100,000 events.
ROUNDS = (235, 2_330)
CLIENTS, REQUESTS, TRIALS = 8, 200, 5
GOAL_P95_MS, GOAL_STREAM_S = 50, 2


def render(results: list[DashboardResult], anvil_version: str, args: argparse.Namespace) -> str:
    """The markdown section."""
    rounds = " ".join(str(r.rounds) for r in results)
    lines = [
        "## Dashboard: route latency under load, event-to-stream time, snapshot time",
        "",
        f"Command: `make bench` (`python -m scripts.bench_dashboard --rounds {rounds}`), run "
        f"{time.strftime('%Y-%m-%d', time.gmtime())} on {platform.processor() or platform.machine()} "
        f"({os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the end), Python "
        f"{platform.python_version()}, a fresh Anvil ({anvil_version}); the larger history continues "
        "the smaller one.",
        "",
        f"Each history is N rounds x {HOSPITALS} hospitals of benchmarks/history.py (real contracts, the "
        "coordinator's round service, synthetic models in a model store). The dashboard is `bcfl "
        "dashboard` in its own process (one uvicorn worker, the real app over the history's manifest, "
        "SQLite event index and model store, on 127.0.0.1, its watcher polling the chain every 0.5 s). "
        f"The load comes from the benchmark's process: {args.clients} concurrent asyncio+httpx clients "
        f"send {args.requests} GETs to each route in turn (after {args.clients} warm-up ones; fewer "
        f"where they take more than {ROUTE_BUDGET_S:.0f} s); latency is "
        "measured by the client, from sending to the whole body read. A model's provenance answers the "
        f"first page of its lineage (100 rounds). Goal: p95 < {GOAL_P95_MS} ms at "
        "100,000 events.",
        "",
    ]
    for r in results:
        lines += [
            f"### {r.rounds:,} rounds, {r.events:,} events",
            "",
            "| route | requests | p50 | p95 | p99 | max |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        lines += [
            f"| `{x.path}` | {x.requests} | {x.p50_ms:.1f} ms | **{x.p95_ms:.1f} ms** | {x.p99_ms:.1f} ms "
            f"| {x.max_ms:.0f} ms |"
            for x in r.routes
        ]
        median, worst = summary(r.event_to_stream_s)
        first, *later = r.snapshots_s
        again = statistics.median(later) if later else float("nan")
        lines += [
            "",
            f"Event to stream ({len(r.event_to_stream_s)} membership requests, each sent 0.3 s after the "
            "previous one's event arrived, so while the dashboard builds the snapshot that event "
            f"started): median **{median:.2f} s**, max {worst:.2f} s "
            f"(goal < {GOAL_STREAM_S} s). "
            f"Snapshot (audit context, every view, the checks), as the dashboard logged it: "
            f"{first:.2f} s from scratch at start, median {again:.2f} s for the later ones "
            f"({len(later)}; they reuse the checks of rounds already paid: chain state, signatures, "
            "recomputed models).",
            "",
        ]
    if results[-1].rounds < ROUNDS[-1]:
        lines += [
            f"Not measured here: the {ROUNDS[-1]:,}-round history (about 100,000 events), which the "
            "goal names; this run stopped at the largest history its time allowed. "
            "`python -m scripts.bench_dashboard` (its default rounds) measures it.",
            "",
        ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("docs/benchmarks.md"))
    parser.add_argument("--rounds", type=int, nargs="+", default=list(ROUNDS))
    parser.add_argument("--clients", type=int, default=CLIENTS)
    parser.add_argument("--requests", type=int, default=REQUESTS)
    parser.add_argument("--trials", type=int, default=TRIALS)
    args = parser.parse_args()
    if sorted(args.rounds) != args.rounds or min(args.rounds) < 1:
        print("error: give --rounds in increasing order, each at least 1", file=sys.stderr)
        return 1
    console = Console()
    anvil_version = subprocess.run(
        [str(node_bin("anvil")), "--version"], capture_output=True, text=True, check=True
    ).stdout.splitlines()[0]
    results = []
    admin, coordinator = dev_account(0), dev_account(1)
    with AnvilNode() as node, tempfile.TemporaryDirectory() as scratch:
        client = ChainClient(node.rpc_url)
        history = start_history(client, admin, coordinator, Path(scratch) / "run")
        for rounds in args.rounds:
            with Progress(console=console, transient=True) as progress:
                task = progress.add_task(f"generating {rounds} rounds", total=rounds - history.rounds)
                add_rounds(
                    history,
                    coordinator,
                    rounds - history.rounds,
                    lambda n, t=task: progress.advance(t, n),  # type: ignore[misc]
                )
            console.print(f"{rounds} rounds generated ({history.seconds['rounds']:.0f} s so far); measuring")
            result = measure_dashboard(
                history, admin, Path(scratch), args.clients, args.requests, args.trials
            )
            median, worst = summary(result.event_to_stream_s)
            console.print(
                f"{result.events:,} events: worst p95 {result.worst_p95_ms:.1f} ms; event to stream median "
                f"{median:.2f} s, max {worst:.2f} s; snapshots {result.snapshots_s}"
            )
            for route in result.routes:
                console.print(
                    f"  {route.path}: p50 {route.p50_ms:.1f} p95 {route.p95_ms:.1f} p99 {route.p99_ms:.1f} ms"
                )
            results.append(result)
    replace_section(args.out, "dashboard", render(results, anvil_version, args))
    console.print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
