"""Measure the audit's event index on synthetic but real histories (100 and 1,000 rounds x 10 hospitals
on a fresh Anvil each) and write the indexing section of docs/benchmarks.md."""

from __future__ import annotations

import argparse
import platform
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
from benchmarks.history import HOSPITALS
from benchmarks.indexing import REPEATS, IndexingResult, measure_indexing
from benchmarks.report import replace_section

ROUNDS = (100, 1_000)
GOAL_EVENTS_PER_S = 5_000


def render(results: list[IndexingResult], anvil_version: str) -> str:
    """The markdown section."""
    lines = [
        "## Audit: event index throughput",
        "",
        "Command: `make bench` (`python -m scripts.bench_index`), run "
        f"{time.strftime('%Y-%m-%d', time.gmtime())} on {platform.processor() or platform.machine()}, "
        f"Python {platform.python_version()}, a fresh Anvil ({anvil_version}) per history, over HTTP "
        "JSON-RPC on localhost, into an embedded SQLite file.",
        "",
        f"Each history is synthetic but real (benchmarks/history.py): N rounds x {HOSPITALS} hospitals on "
        "the real contracts, driven by the coordinator's own round service (open, register the ten signed "
        "updates in one batch, score and update reputation, aggregate, finalize, pay), every model in a "
        "model store under its on-chain hash. The models are synthetic (the heart schema's fresh model "
        "moved by deterministic pseudo-random steps); nothing is trained.",
        "",
        f"Full sync: `EventIndex.sync` from empty (best of {REPEATS}): `eth_getLogs` over windows of 5,000 "
        "blocks with every consortium topic in one filter, block headers and registration transactions "
        "in JSON-RPC batches, raw logs decoded with eth_abi. Naive rescan: `bcfl.index.scan.scan_events`, "
        "the same `eth_getLogs` windows through web3's formatters and event decoding, one "
        "`eth_getBlockByNumber` per block with events. Incremental: the sync of the last round after an "
        f"index had caught up with the others. Goal: at least {GOAL_EVENTS_PER_S:,} events/s.",
        "",
        "| rounds x hospitals | blocks | events | generate | full sync | events/s | naive rescan "
        "| events/s | last round: events, sync |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    lines.extend(
        f"| {r.rounds:,} x {r.hospitals} | {r.blocks:,} | {r.events:,} | {r.generate_s:,.0f} s "
        f"| {r.full_sync_s:.2f} s | **{r.sync_events_per_s:,.0f}** | {r.rescan_s:.2f} s "
        f"| {r.rescan_events_per_s:,.0f} | {r.incremental_events}, {1000 * r.incremental_s:.0f} ms |"
        for r in results
    )
    lines += [
        "",
        "Generating a history takes about as long per round at its end as at its start: the "
        "coordinator's replay check keeps the updates registered so far and reads only the blocks "
        "added since its last round (coordinator/rounds/replay.py), no longer every update each round.",
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("docs/benchmarks.md"))
    parser.add_argument("--rounds", type=int, nargs="+", default=list(ROUNDS))
    args = parser.parse_args()
    console = Console()
    anvil_version = subprocess.run(
        [str(node_bin("anvil")), "--version"], capture_output=True, text=True, check=True
    ).stdout.splitlines()[0]
    results = []
    for rounds in args.rounds:
        with (
            AnvilNode() as node,
            tempfile.TemporaryDirectory() as run_dir,
            Progress(console=console, transient=True) as progress,
        ):
            task = progress.add_task(f"generating {rounds} rounds", total=rounds)
            result, _ = measure_indexing(
                ChainClient(node.rpc_url),
                dev_account(0),
                dev_account(1),
                Path(run_dir),
                rounds,
                lambda n, t=task: progress.advance(t, n),  # type: ignore[misc]
            )
        console.print(
            f"{rounds} rounds: {result.events:,} events, generated in {result.generate_s:.0f} s; full sync "
            f"{result.full_sync_s:.2f} s ({result.sync_events_per_s:,.0f} events/s), naive rescan "
            f"{result.rescan_s:.2f} s ({result.rescan_events_per_s:,.0f} events/s), last round "
            f"{result.incremental_events} events in {1000 * result.incremental_s:.0f} ms"
        )
        results.append(result)
    replace_section(args.out, "index", render(results, anvil_version))
    console.print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
