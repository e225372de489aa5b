"""Measure what a hospital's ClientApp process costs to start (a fresh process per Flower message): the
import of the app, one train message's process with the prepared dataset's cache cold and warm, and
four hospitals training at once with each torch-threads value; write the client-start section of
docs/benchmarks.md. ``--baseline DIR`` also measures an older checkout's code (e.g. a ``git worktree``
of the commit before), for a before/after comparison."""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console

from bcfl.chain.anvil import AnvilNode
from bcfl.chain.client import ChainClient
from benchmarks.client_start import (
    CONCURRENT,
    CONCURRENT_REPEATS,
    REPEATS,
    ClientStartResult,
    load_average,
    measure_client_start,
)
from benchmarks.report import replace_section

_PHASES = (
    ("flower_s", "Flower's own start (`flwr.supernode.cli`, flwr-clientapp's entry point)"),
    ("app_import_s", "import of `hospital_node.client_app`"),
    (
        "load_node_s",
        "`load_node`: node config, dataset, signing agent (before: keystore), chain checks and membership",
    ),
    ("message_s", "the message: global model checked on chain, local training, signed update"),
    ("total_s", "**the whole process**"),
)


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f} ms"


def render(r: ClientStartResult, load: tuple[float, float], baseline: str | None) -> str:
    """The markdown section."""
    columns = ["cache cold", "cache warm"] + ([f"before ({baseline})"] if r.baseline else [])
    runs = [r.cold, r.warm] + ([r.baseline] if r.baseline else [])
    best_threads = min(r.concurrent, key=lambda t: r.concurrent[t][0])
    lines = [
        "## Client start: a ClientApp process per message",
        "",
        "Command: `make bench` (`python -m scripts.bench_client_start`), run "
        f"{time.strftime('%Y-%m-%d', time.gmtime())} on {platform.processor() or platform.machine()} "
        f"({os.cpu_count()} cores), Python {platform.python_version()}, a fresh Anvil on localhost; the "
        f"machine's 1-minute load average was {load[0]:.1f} before and {load[1]:.1f} after (other work "
        "slows every number alike). Flower 1.41 starts a fresh `flwr-clientapp` process for every "
        "message (train and evaluate), so each hospital pays these twice a round. Each number is the "
        f"least of {REPEATS} fresh processes, in **CPU seconds** (user + system, every thread): on a "
        "shared machine the wall clock mostly measures the other work; CPU time is what each hospital's "
        "process costs (benchmarks/client_start.py, benchmarks/client_process.py).",
        "",
        "Import of `hospital_node.client_app` in a fresh interpreter: "
        f"**{_ms(r.import_s - r.interpreter_s)}** CPU "
        f"(the interpreter alone: {_ms(r.interpreter_s)})"
        + (
            f"; before: {_ms(r.baseline_import_s - r.interpreter_s)}."
            if r.baseline_import_s is not None
            else "."
        ),
        " In a child forked from the warm-start server (hospital_node/warm: `bcfl-superexec` starts "
        "ClientApps that way, torch, numpy and Flower already imported, the app's own modules loaded "
        f"afresh from its bundle), the same import costs **{_ms(r.warm_import_s)}** CPU, and the "
        "interpreter and Flower's own start (below) are not paid again.",
        "",
        "One train message's process on a member's node (Cleveland's heart-disease data, a keystore, "
        "the chain checks of a real deployment), CPU time phase by phase, and the whole process's wall time:",
        "",
        "| phase | " + " | ".join(columns) + " |",
        "|---|" + "---:|" * len(columns),
        *(
            f"| {label} | " + " | ".join(_ms(run[key.replace("_s", "_cpu_s")]) for run in runs) + " |"
            for key, label in _PHASES
        ),
        "| wall time of the whole process | " + " | ".join(_ms(run["total_s"]) for run in runs) + " |",
        "",
        f"Modules the process no longer loads: web3, pandas, Pillow (loaded now: "
        f"{', '.join(r.modules) or 'none of them'}"
        + (f"; before: {', '.join(r.baseline_modules)}" if r.baseline else "")
        + "; requests is Flower's own). The keystore's decryption alone (scrypt) costs "
        f"{_ms(r.keystore_s)} CPU: paid once by the hospital's signing agent now, and by every "
        "message's process before.",
        "",
        f"{CONCURRENT} hospitals' train messages at once (as a round on one machine), by `torch-threads` "
        f"(fastest wall of {CONCURRENT_REPEATS} rounds):",
        "",
        "| torch-threads | wall, all processes | training wall, mean per process | CPU, all processes |",
        "|---:|---:|---:|---:|",
        *(
            f"| {threads} | {_ms(wall)} | {_ms(train)} | {_ms(cpu)} |"
            for threads, (wall, train, cpu) in sorted(r.concurrent.items())
        ),
        "",
        f"Fastest wall here: {best_threads} thread(s) each; the node config's default `torch-threads` is 1 "
        "(more threads per process only add CPU when the hospitals share few cores).",
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("docs/benchmarks.md"))
    parser.add_argument("--baseline", type=Path, default=None, help="an older checkout to compare with")
    args = parser.parse_args()
    console = Console()
    with AnvilNode() as node, tempfile.TemporaryDirectory() as scratch:
        load_before = load_average()
        with console.status("measuring ClientApp processes"):
            result = measure_client_start(ChainClient(node.rpc_url), Path(scratch), args.baseline)
        load = (load_before, load_average())
    console.print(
        f"import {result.import_s - result.interpreter_s:.2f} s CPU; "
        f"train message {result.cold['total_cpu_s']:.2f} s CPU cold, {result.warm['total_cpu_s']:.2f} s warm"
        + (f", {result.baseline['total_cpu_s']:.2f} s before" if result.baseline else "")
    )
    baseline = args.baseline.name if args.baseline else None
    replace_section(args.out, "client-start", render(result, load, baseline))
    console.print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
