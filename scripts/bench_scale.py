"""Run 10, 100 and 1,000 virtual hospitals in Flower's Simulation Engine on a fresh Anvil each, and write
the scale section of docs/benchmarks.md and its chart (docs/benchmarks-scale.svg)."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console

from bcfl.chain.anvil import AnvilNode
from bcfl.chain.client import ChainClient
from bcfl.chain.devkeys import dev_account
from benchmarks.report import replace_section
from benchmarks.scale import ScaleResult, run_scale
from benchmarks.scale_apps import AGGREGATION, TRAIN_CONFIG
from benchmarks.svg_chart import chart, figure

HOSPITALS = (10, 100, 1_000)
#: One hospital per referral source of the thyroid table at least.
MIN_HOSPITALS = 5
#: Anvil's block gas limit for the benchmark: a thousand members' recordScores and payRound are each
#: above Anvil's default 30,000,000 (the section reports the largest transaction).
BLOCK_GAS_LIMIT = 100_000_000
ANVIL_DEFAULT_GAS_LIMIT = 30_000_000


def _s(value: float) -> str:
    return f"{value:.2f}"


def coordinator_s(result: ScaleResult) -> float:
    """The coordinator's own seconds in the round: verify, register and score."""
    return sum(result.phases_s[phase] for phase in ("verify", "register", "assess"))


def render(results: list[ScaleResult], plot: Path, out: Path) -> str:
    """The markdown section."""
    cores = os.cpu_count()
    largest = results[-1]
    fewest, most = largest.train_examples
    per_update = [r.gas_per_update for r in results]
    above = sorted(name for name, gas in largest.gas.items() if gas > ANVIL_DEFAULT_GAS_LIMIT)
    lines = [
        "## Scale: 10 to 1,000 hospitals in the Simulation Engine, every update signed and on chain",
        "",
        "Command: `make bench` (`python -m scripts.bench_scale`), run "
        f"{time.strftime('%Y-%m-%d', time.gmtime())} on {cores} cores, one round per size, each size on a "
        f"fresh Anvil (block gas limit {BLOCK_GAS_LIMIT:,}). The hospitals are the real Garvan thyroid "
        "referrals (`benchmarks/sites.py`'s `thyroid_shards`): each of the five referral sources dealt out "
        f"to shards in proportion to its size, so at {largest.hospitals:,} a hospital holds {fewest}-{most} "
        "training patients. Each "
        "virtual hospital has its own key and is an approved member; it checks the global model against "
        "the ledger, trains "
        f"{TRAIN_CONFIG['local-epochs']} local epoch and signs its update (EIP-712); the coordinator "
        "verifies every reply, registers all of them in one `registerUpdates` transaction, scores them "
        f"on chain (`recordScores`), aggregates ({AGGREGATION}), finalizes and pays the round. What "
        "differs from a deployment is in `benchmarks/scale_apps.py`'s docstring (keys and shards "
        "handed to the virtual hospitals instead of keystores and data folders; a stand-in app hash, as "
        "a simulation has no FAB; no federated evaluation).",
        "",
        "Set-up (before the round): deploy, fund every hospital key, and admit each hospital "
        "(`requestMembership` with its own key, `approveMembership` by the admin: two transactions each, "
        "sent one after the other).",
        "",
        "| hospitals | deploy s | fund s | admit s |",
        "|---:|---:|---:|---:|",
        *(
            f"| {r.hospitals:,} | {_s(r.setup_s['deploy'])} | {_s(r.setup_s['fund'])} "
            f"| {_s(r.setup_s['admit'])} |"
            for r in results
        ),
        "",
        "Round wall time, split. *Hospitals* is the coordinator's wait from sending the model to holding "
        "every reply: the Simulation Engine's messaging and the ClientApps run on Ray actors, one per "
        "core; *train* and *sign* are the hospitals' own seconds, summed over them (spread over the "
        "actors, so they overlap). *Verify*: every reply's model hash, signature and membership; "
        "*register*: the batch on chain; *score*: scores computed and recorded on chain; *finalize* "
        "and *pay*: their transactions. *Load average*: the machine's one-minute load when the round "
        f"ended; above {cores} the cores were shared with other work and every phase ran slower.",
        "",
        "| hospitals | round s | hospitals s | (train s) | (sign s) | verify s | register s | score s "
        "| aggregate s | finalize s | pay s | load average |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        *(
            f"| {r.hospitals:,} | {_s(r.phases_s['round'])} | {_s(r.phases_s['clients'])} "
            f"| {_s(r.hospital_train_s)} | {_s(r.hospital_sign_s)} | {_s(r.phases_s['verify'])} "
            f"| {_s(r.phases_s['register'])} | {_s(r.phases_s['assess'])} | {_s(r.phases_s['aggregate'])} "
            f"| {_s(r.phases_s['finalize'])} | {_s(r.phases_s['pay'])} | {r.load_average:.1f} |"
            for r in results
        ),
        "",
        "Gas of the coordinator's transactions in the round (the round's whole cost on chain):",
        "",
        "| hospitals | gas per update | openRound | registerUpdates | recordScores | finalizeRound "
        "| payRound | gas per round | largest transaction | on chain / valid signatures |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        *(
            f"| {r.hospitals:,} | {r.gas_per_update:,.0f} | {r.gas.get('openRound', 0):,} "
            f"| {r.gas.get('registerUpdates', 0):,} | {r.gas.get('recordScores', 0):,} "
            f"| {r.gas.get('finalizeRound', 0):,} | {r.gas.get('payRound', 0):,} | {r.gas_per_round:,.0f} "
            f"| {r.max_tx_gas:,} | {r.registered:,} / {r.valid_signatures:,} |"
            for r in results
        ),
        "",
        f"![Round time and gas by number of hospitals]({os.path.relpath(plot, out.parent)})",
        "",
        f"Gas per update stays between {min(per_update):,.0f} and {max(per_update):,.0f}: registration "
        "is linear in the batch, and so are scoring, finalizing and paying, which are per member, so a "
        "round's gas grows linearly with the hospitals. The hospitals' side dominates the wall time: "
        f"at {largest.hospitals:,} a hospital's turn costs the Simulation Engine about "
        f"{largest.phases_s['clients'] / largest.hospitals * 1000:.0f} ms of wall time, and the "
        "coordinator's verification, registration and scoring take "
        f"{coordinator_s(largest):.1f} s together ({coordinator_s(largest) / largest.hospitals * 1000:.0f}"
        " ms per update). "
        + (
            f"At {largest.hospitals:,} hospitals, {', '.join(above)} "
            f"{'is a transaction' if len(above) == 1 else 'are transactions'} above Anvil's default "
            f"{ANVIL_DEFAULT_GAS_LIMIT:,}-gas block: a chain with such a limit would need "
            f"{'it' if len(above) == 1 else 'them'} sent in chunks, which the contracts do not offer "
            "today (the benchmark raises Anvil's block gas limit instead)."
            if above
            else f"Every transaction fits Anvil's default {ANVIL_DEFAULT_GAS_LIMIT:,}-gas block."
        ),
    ]
    return "\n".join(lines)


def plot_svg(results: list[ScaleResult]) -> str:
    """Round time and gas against the number of hospitals, log-log."""
    n = [float(r.hospitals) for r in results]
    times = chart(
        "Round wall time",
        "hospitals",
        "seconds",
        {
            "round": list(zip(n, (r.phases_s["round"] for r in results), strict=True)),
            "hospitals (simulated)": list(zip(n, (r.phases_s["clients"] for r in results), strict=True)),
            "verify": list(zip(n, (r.phases_s["verify"] for r in results), strict=True)),
            "register on chain": list(zip(n, (r.phases_s["register"] for r in results), strict=True)),
            "score on chain": list(zip(n, (r.phases_s["assess"] for r in results), strict=True)),
            "finalize + pay": list(
                zip(n, (r.phases_s["finalize"] + r.phases_s["pay"] for r in results), strict=True)
            ),
        },
    )
    gas = chart(
        "Gas per round",
        "hospitals",
        "gas",
        {
            "whole round": list(zip(n, (r.gas_per_round for r in results), strict=True)),
            "registerUpdates": list(
                zip(n, (float(r.gas.get("registerUpdates", 0)) for r in results), strict=True)
            ),
            "recordScores": list(zip(n, (float(r.gas.get("recordScores", 0)) for r in results), strict=True)),
            "payRound": list(zip(n, (float(r.gas.get("payRound", 0)) for r in results), strict=True)),
            "per update": list(zip(n, (r.gas_per_update for r in results), strict=True)),
        },
        x_offset=460,
    )
    return figure([times, gas])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("docs/benchmarks.md"))
    parser.add_argument("--plot", type=Path, default=Path("docs/benchmarks-scale.svg"))
    parser.add_argument("--hospitals", type=int, nargs="+", default=list(HOSPITALS))
    args = parser.parse_args()
    if min(args.hospitals) < MIN_HOSPITALS:
        parser.error(
            f"--hospitals {min(args.hospitals)}: give at least {MIN_HOSPITALS}, one per referral source"
        )
    logging.getLogger("flwr").setLevel(logging.WARNING)
    console = Console()
    results = []
    for hospitals in args.hospitals:
        # The run's keys, shards, proofs and models go into a folder removed afterwards.
        with AnvilNode(gas_limit=BLOCK_GAS_LIMIT) as node, tempfile.TemporaryDirectory() as work:
            result = run_scale(
                ChainClient(node.rpc_url),
                hospitals,
                admin=dev_account(0),
                coordinator=dev_account(1),
                funder=dev_account(2),
                work=Path(work),
                progress=console.print,
            )
        console.print(
            f"{hospitals} hospitals: round {result.phases_s['round']:.1f}s, "
            f"{result.gas_per_update:,.0f} gas per update, {result.gas_per_round:,.0f} gas per round, "
            f"{result.registered} on chain ({result.valid_signatures} valid signatures)"
        )
        results.append(result)
    args.plot.parent.mkdir(parents=True, exist_ok=True)
    args.plot.write_text(plot_svg(results))
    replace_section(args.out, "scale", render(results, args.plot, args.out))
    console.print(f"written to {args.out} and {args.plot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
