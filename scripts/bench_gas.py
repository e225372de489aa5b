"""Measure the contracts' gas on a fresh Anvil and write the gas section of docs/benchmarks.md."""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from bcfl.build.compile import SETTINGS
from bcfl.build.solc import SOLC_VERSION
from bcfl.chain.anvil import AnvilNode
from bcfl.chain.client import ChainClient
from bcfl.chain.devkeys import dev_account
from bcfl.paths import node_bin
from benchmarks.gas import BATCH_SIZES, GasReport, measure_gas
from benchmarks.report import replace_section

PER_UPDATE_LIMIT = 15_000
PER_UPDATE_GOAL = 12_000
RATIO_GOAL = 0.25
#: The same measurement before updates carried ε and δ and the ledger kept each member's ε (commit
#: 423f438, run 2026-12-03): gas per update and per round (open + register + score + finalize + pay).
BEFORE_COMMIT = "423f438"
BEFORE_PER_UPDATE = {1: 66_074, 10: 16_845, 100: 11_925}
BEFORE_PER_ROUND = {1: 558_725, 10: 1_152_215, 100: 7_810_894}


def render(report: GasReport, anvil_version: str) -> str:
    """The markdown section."""
    big_size = BATCH_SIZES[-1]
    single, big = report.per_update[BATCH_SIZES[0]], report.per_update[big_size]
    ratio = big / single
    lines = [
        "## Gas: deployment, operations, update registration by batch size",
        "",
        "Command: `make bench` (`python -m scripts.bench_gas`), run "
        f"{time.strftime('%Y-%m-%d', time.gmtime())} "
        f"on a fresh Anvil ({anvil_version}), solc {SOLC_VERSION}, optimizer "
        f"{SETTINGS['optimizer']['runs']:,} runs, EVM {SETTINGS['evmVersion']}. Gas is "
        "deterministic for the same code and inputs, so one run suffices.",
        "",
        "### Deployment",
        "",
        "| contract | gas |",
        "|---|---:|",
        *(f"| {name} | {gas:,} |" for name, gas in report.deployment.items()),
        f"| **total** | **{sum(report.deployment.values()):,}** |",
        "",
        "### Operations (whole transaction, 21,000 base included)",
        "",
        "| operation | gas |",
        "|---|---:|",
        *(f"| {name} | {gas:,} |" for name, gas in report.operations.items()),
        "",
        "### Gas per registered, signature-checked update, and per round",
        "",
        f"Before: the same measurement at commit {BEFORE_COMMIT}, before each update carried the ε and δ "
        "its hospital spent and the ledger kept each member's cumulative ε per lineage (here every update "
        "declares ε = 0.25 at δ = 1e-5 under a budget it never reaches). Batch sizes 1, 10 and 100 run "
        "one after the other, so most of their updates are their member's first in the lineage (its ε "
        "stored for the first time); *later round* is a second batch of 100 from the same members. A "
        "round is its openRound, registerUpdates, recordScores, finalizeRound and payRound.",
        "",
        "| batch size | gas per update | before | vs single | gas per round | before |",
        "|---:|---:|---:|---:|---:|---:|",
        *(
            f"| {size} | {gas:,.0f} | {BEFORE_PER_UPDATE[size]:,} | {gas / single:.2f} "
            f"| {report.per_round[size]:,} | {BEFORE_PER_ROUND[size]:,} |"
            for size, gas in report.per_update.items()
        ),
        f"| {big_size}, later round | {report.later_round:,.0f} | {BEFORE_PER_UPDATE[big_size]:,} "
        f"| {report.later_round / single:.2f} | | |",
        "",
        f"Limit: at most {PER_UPDATE_LIMIT:,} gas per update in a batch of {BATCH_SIZES[-1]} "
        f"(measured {big:,.0f}, later round {report.later_round:,.0f}: "
        f"{'met' if max(big, report.later_round) <= PER_UPDATE_LIMIT else 'NOT met'}; forge checks its own "
        "ceilings, 22,000 for a lineage's first round and 17,000 for a later one); "
        f"goal {PER_UPDATE_GOAL:,} ({'met' if big <= PER_UPDATE_GOAL else 'NOT met'}); at most "
        f"{RATIO_GOAL:.0%} of the single-update cost (measured {ratio:.1%}: "
        f"{'met' if ratio <= RATIO_GOAL else 'NOT met'}).",
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("docs/benchmarks.md"))
    args = parser.parse_args()
    console = Console()
    anvil_version = subprocess.run(
        [str(node_bin("anvil")), "--version"], capture_output=True, text=True, check=True
    ).stdout.splitlines()[0]
    with AnvilNode() as node, Progress(console=console) as progress:
        admit = progress.add_task("admitting hospitals", total=max(BATCH_SIZES))
        rounds = progress.add_task("measuring rounds", total=len(BATCH_SIZES) + 1)
        tasks = {"admitting hospitals": admit, "measuring rounds": rounds}
        report = measure_gas(
            ChainClient(node.rpc_url),
            dev_account(0),
            dev_account(1),
            progress=lambda what, n: progress.advance(tasks[what], n),
        )
    table = Table("batch size", "gas per update", title="update registration")
    for size, gas in report.per_update.items():
        table.add_row(str(size), f"{gas:,.0f}")
    console.print(table)
    replace_section(args.out, "gas", render(report, anvil_version))
    console.print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
