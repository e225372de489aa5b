"""The soak run into docs/reliability.md (section ``soak``): ``--rounds`` rounds (200) of the heart
consortium while a SuperNode or the coordinator's ServerApp is SIGKILLed every few rounds
(benchmarks/soak.py); then the chain's account and the audit's verdict. About an hour on two cores.
The numbers also go to benchmarks/results/soak.json."""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from bcfl.demo.federation import FederationRun, start_federation
from bcfl.demo.heart import CENTRES
from bcfl.demo.processes import BIN
from benchmarks.report import replace_section
from benchmarks.soak import DOWN_S, KILL_EVERY, ROUND_TIMEOUT_S, Kill, SoakResult, soak

COMMAND = "python -m scripts.soak"
DOC = Path("docs/reliability.md")
RESULTS = Path("benchmarks/results/soak.json")


def audit(run: FederationRun) -> dict[str, Any]:
    """``bcfl audit report --format json`` of the run, as an auditor runs it."""
    result = subprocess.run(
        [str(BIN / "bcfl"), "audit", "report", "--format", "json", "--manifest", str(run.manifest_path),
         "--store", str(run.run_dir / "models"), "--index", str(run.run_dir / "audit-index.sqlite"),
         "--rpc-url", run.node.rpc_url],
        capture_output=True, text=True, timeout=1800, env=run.env,
    )  # fmt: skip
    if result.returncode not in (0, 2):  # 2: a check failed, which the report says
        raise SystemExit(f"bcfl audit report failed: {result.stderr.strip()[-500:]}")
    report: dict[str, Any] = json.loads(result.stdout)
    return report


def _times(kills: list[Kill], kind: str) -> str:
    values = [k.recovery_s for k in kills if k.kind == kind]
    if not values:
        return "none"
    return f"{len(values)} kills; median {statistics.median(values):.1f} s, longest {max(values):.1f} s"


def _spans(rounds: list[int]) -> str:
    """``[3, 4, 5, 9]`` as "4 rounds: 3-5, 9"."""
    if not rounds:
        return "none"
    spans: list[list[int]] = []
    for number in sorted(rounds):
        if spans and number == spans[-1][1] + 1:
            spans[-1][1] = number
        else:
            spans.append([number, number])
    text = ", ".join(f"{a}-{b}" if a != b else str(a) for a, b in spans)
    return f"{len(rounds)} round{'s' if len(rounds) != 1 else ''}: {text}"


def render(result: SoakResult, report: dict[str, Any], date: str, load: float) -> str:
    """The markdown section."""
    twice = {kind: pairs for kind, pairs in result.twice.items() if pairs}
    lines = [
        f"Command: `{COMMAND} --rounds {result.rounds}`, run {date} on a {os.cpu_count()}-core machine "
        f"(load average {load:.2f} at its start). {result.hospitals} heart hospitals; every "
        f"{KILL_EVERY[0]}-{KILL_EVERY[1]} rounds, at a random moment of a round, the coordinator's "
        "ServerApp (its `flwr run` restarted for the rounds left) or a random hospital's SuperNode "
        f"(started again after 0-{DOWN_S:.0f} s) is SIGKILLed; `round-timeout = {ROUND_TIMEOUT_S}`.",
        "",
        "| what | result |",
        "|---|---|",
        f"| rounds finalized | {result.rounds} in {result.seconds / 60:.1f} min |",
        f"| coordinator kills, kill to that round finalized | {_times(result.kills, 'coordinator')} |",
        f"| SuperNode kills, kill to that round finalized | {_times(result.kills, 'supernode')} |",
        f"| rounds or (round, member) recorded twice | {twice or 'none'} |",
        f"| rounds the mint limit left unpaid at the end, then paid as windows passed | "
        f"{result.deferred} rounds, in {result.windows} window{'s' if result.windows != 1 else ''} |",
        f"| rounds finalized but not paid, after that | {_spans(result.unpaid)} |",
        f"| rounds left open | {result.left_open or 'none'} |",
        f"| hospital-rounds missed (a hospital's update not in a round) | {result.missed} |",
        f"| audit verdict (`bcfl audit report`) | {report['verdict']} |",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--keep", action="store_true", help="keep the run directory")
    parser.add_argument("--out", type=Path, default=DOC, help=f"the page to write (default {DOC})")
    parser.add_argument("--results", type=Path, default=RESULTS, help=f"the JSON to write ({RESULTS})")
    args = parser.parse_args()
    console = Console()
    load = os.getloadavg()[0]
    date = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    run_dir = Path(tempfile.mkdtemp(prefix="bcfl-soak-"))
    with console.status("starting the consortium"):
        run = start_federation(run_dir, list(CENTRES))
    try:
        with Progress(
            TextColumn("soak"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.description}"),
            TimeElapsedColumn(), console=console,
        ) as progress:  # fmt: skip
            task = progress.add_task("", total=args.rounds)

            def on_round(done: int, kills: list[Kill]) -> None:
                progress.update(task, completed=done, description=f"{len(kills)} kills recovered")

            result = soak(run, args.rounds, args.seed, on_round)
        with console.status("auditing the run"):
            report = audit(run)
    finally:
        run.stop()
    section = render(result, report, date, load)
    replace_section(args.out, "soak", section)
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(json.dumps(dataclasses.asdict(result), indent=2) + "\n")
    console.print(section)
    console.print(f"run directory: {run_dir}" if args.keep else "")
    if not args.keep:
        shutil.rmtree(run_dir, ignore_errors=True)
    if not report["clean"] or any(result.twice.values()) or result.unpaid or result.left_open:
        raise SystemExit(f"the soak found a problem: see {args.out}")


if __name__ == "__main__":
    main()
