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
#: The same measurement before issue 10's integrity rules (commit d8aded0, run 2026-11-23): gas per
#: update and per round (open + register + score + finalize + pay) by batch size, for comparison.
BEFORE_COMMIT = "d8aded0"
BEFORE_PER_UPDATE = {1: 70_370, 10: 18_693, 100: 13_540}
BEFORE_PER_ROUND = {
    1: 118_681 + 70_370 + 130_925 + 62_847 + 134_761,
    10: 118_681 + 186_929 + 149_200 + 294_719 + 401_491,
    100: 118_681 + 1_353_953 + 332_243 + 2_630_418 + 3_256_826,
}


def render(report: GasReport, anvil_version: str) -> str:
    """The markdown section."""
    single, big = report.per_update[BATCH_SIZES[0]], report.per_update[BATCH_SIZES[-1]]
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
        f"Before: the same measurement at commit {BEFORE_COMMIT}, without the integrity rules (lineage, "
        "approved app, exclusion and minting limits enforced on chain, skipped entries). A round is its "
        "openRound, registerUpdates, recordScores, finalizeRound and payRound.",
        "",
        "| batch size | gas per update | before | vs single | gas per round | before |",
        "|---:|---:|---:|---:|---:|---:|",
        *(
            f"| {size} | {gas:,.0f} | {BEFORE_PER_UPDATE[size]:,} | {gas / single:.2f} "
            f"| {report.per_round[size]:,} | {BEFORE_PER_ROUND[size]:,} |"
            for size, gas in report.per_update.items()
        ),
        "",
        f"Limit: at most {PER_UPDATE_LIMIT:,} gas per update in a batch of {BATCH_SIZES[-1]} "
        f"(measured {big:,.0f}: {'met' if big <= PER_UPDATE_LIMIT else 'NOT met'}; forge checks it too); "
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
        rounds = progress.add_task("measuring rounds", total=len(BATCH_SIZES))
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
