"""Measure the audit's commands on a synthetic but real history (100 rounds x 10 hospitals on a fresh
Anvil): ``bcfl audit report`` from an empty and an up-to-date event index and through the naive rescan,
``verify-model`` of the last round's aggregate, and ``recompute``; write the audit section of
docs/benchmarks.md."""

from __future__ import annotations

import argparse
import os
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
from benchmarks.auditing import REPEATS, AuditResult, ReportRun, measure_audit
from benchmarks.history import HOSPITALS, add_rounds, start_history
from benchmarks.report import replace_section

ROUNDS = 100
GOAL_REPORT_S = 10.0
GOAL_VERIFY_S = 1.0


def _met(seconds: float, goal: float) -> str:
    return "met" if seconds < goal else "**not met**"


def _row(what: str, run: ReportRun) -> str:
    return (
        f"| {what} | {run.sync_s:.2f} s | {run.load_s:.2f} s | {run.build_s:.2f} s | {run.write_s:.2f} s "
        f"| **{run.total_s:.2f} s** |"
    )


def _part(name: str, seconds: float, bold: bool) -> str:
    mark = "**" if bold else ""
    return f"| {name} | {mark}{seconds * 1000:,.0f} ms{mark} |"


def render(result: AuditResult, generate_s: float, anvil_version: str, load: tuple[float, float]) -> str:
    """The markdown section."""
    r = result
    slowest = max(r.parts, key=lambda part: part[1])[0]
    lines = [
        "## Audit: report, verify-model and recompute",
        "",
        "Command: `make bench` (`python -m scripts.bench_audit`), run "
        f"{time.strftime('%Y-%m-%d', time.gmtime())} on {platform.processor() or platform.machine()} "
        f"({os.cpu_count()} cores), Python {platform.python_version()}, a fresh Anvil ({anvil_version}) "
        "over HTTP JSON-RPC on localhost, the event index in an embedded SQLite file; the machine's "
        f"1-minute load average was {load[0]:.1f} before the measurements and {load[1]:.1f} after (other "
        "work on the machine slows every number here alike).",
        "",
        f"The history: {r.rounds} rounds x {r.hospitals} hospitals ({r.events:,} events), synthetic but "
        "real (benchmarks/history.py, as in the event index section), generated in "
        f"{generate_s:.0f} s. Each number is the fastest of {REPEATS} runs, all in this one run (the three "
        "report sources, and verify-model with and without the load, side by side in each repetition); "
        "every timing goes through the functions the command runs (benchmarks/auditing.py), with the "
        "model store.",
        "",
        "### `bcfl audit report --store --out DIR`",
        "",
        "Phases: *sync* connects (the manifest checked against the chain) and brings the index up to the "
        "chain's head; *load* reads every event and registration signature and builds the history; "
        "*build* is `build_report` (every check and the views); *write* renders and writes report.html, "
        "report.json and provenance.json. The naive rescan reads events by `eth_getLogs` and each "
        "registration transaction over JSON-RPC (`ScanSource`). All three runs give the same report "
        f"(checked), verdict: {r.verdict}; report.html is {r.html_bytes / 1e6:.1f} MB.",
        "",
        "| source | sync | load | build | write | total |",
        "|---|---:|---:|---:|---:|---:|",
        _row("index, empty", r.from_empty),
        _row("index, up to date", r.up_to_date),
        _row("naive rescan", r.rescan),
        "",
        f"The naive rescan takes **{r.rescan_ratio:.1f}x** the up-to-date index's time. Goal: under "
        f"{GOAL_REPORT_S:.0f} s from an up-to-date index: {_met(r.up_to_date.total_s, GOAL_REPORT_S)}.",
        "",
        f"The report's parts, each timed alone on a freshly loaded history, fastest of {REPEATS} "
        f"(slowest: **{slowest}**):",
        "",
        "| part | time |",
        "|---|---:|",
        *(_part(name, seconds, bold=name == slowest) for name, seconds in r.parts),
        "",
        f"Signature recovery ({r.signatures:,} registered updates, in the signatures check): "
        f"{r.signatures_s:.2f} s with libsecp256k1 (coincurve, the backend eth-keys picks when installed), "
        f"{r.signatures_pure_python_s:.2f} s (one run) with eth-keys' pure-Python backend, which it fell "
        f"back to before coincurve was a dependency ({r.signatures_pure_python_s / r.signatures_s:.0f}x).",
        "",
        "### `bcfl audit verify-model HASH --store` and `bcfl audit recompute --store`",
        "",
        f"verify-model of the last round's aggregated model, lineage depth {r.lineage_depth} (the model's "
        "lineage with every round's hospitals, scores and payouts, then the checks over that lineage): "
        f"**{r.verify_s * 1000:,.0f} ms** on a loaded history, **{r.verify_with_load_s * 1000:,.0f} ms** "
        f"with connecting, syncing the up-to-date index and loading; its checks "
        f"{'all passed' if r.verify_ok else '**FAILED**'}. Goal: under "
        f"{GOAL_VERIFY_S:.0f} s: {_met(r.verify_s, GOAL_VERIFY_S)} on a loaded history, "
        f"{_met(r.verify_with_load_s, GOAL_VERIFY_S)} with the load.",
        "",
        f"recompute (scores, weights and aggregate of every round from the store, compared bit for bit "
        f"with the chain): {r.recomputed_rounds} rounds in {r.recompute_s:.2f} s, "
        f"**{r.rounds_per_s:,.0f} rounds/s**, {'all equal' if r.recompute_ok else '**MISMATCHES**'}.",
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("docs/benchmarks.md"))
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    args = parser.parse_args()
    console = Console()
    anvil_version = subprocess.run(
        [str(node_bin("anvil")), "--version"], capture_output=True, text=True, check=True
    ).stdout.splitlines()[0]
    with (
        AnvilNode() as node,
        tempfile.TemporaryDirectory() as scratch,
        Progress(console=console, transient=True) as progress,
    ):
        client = ChainClient(node.rpc_url)
        started = time.perf_counter()
        task = progress.add_task(f"generating {args.rounds} rounds", total=args.rounds)
        history = start_history(client, dev_account(0), dev_account(1), Path(scratch) / "run", HOSPITALS)
        add_rounds(history, dev_account(1), args.rounds, lambda n: progress.advance(task, n))
        generate_s = time.perf_counter() - started
        progress.update(task, description="measuring", total=None)
        load_before = os.getloadavg()[0]
        result = measure_audit(
            client,
            history,
            Path(scratch) / "audit",
            progress=lambda step: progress.update(task, description=step),
        )
        load = (load_before, os.getloadavg()[0])
    console.print(
        f"{result.rounds} rounds generated in {generate_s:.0f} s; report {result.from_empty.total_s:.2f} s "
        f"from an empty index, {result.up_to_date.total_s:.2f} s up to date, {result.rescan.total_s:.2f} s "
        f"by rescan ({result.rescan_ratio:.1f}x); verify-model {result.verify_s * 1000:.0f} ms "
        f"({result.verify_with_load_s * 1000:.0f} ms with load); recompute {result.rounds_per_s:.0f} rounds/s"
    )
    replace_section(args.out, "audit", render(result, generate_s, anvil_version, load))
    console.print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
