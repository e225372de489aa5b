"""A round's wall time: BCFL against plain Flower on the same SuperLink and SuperNodes, into
docs/benchmarks.md (section ``round``).

One consortium of the four heart hospitals (Anvil, SuperLink, gateway, node sync, coordinator, per
hospital a SuperNode and its bcfl-superexec); the consortium approves the plain reference App
(benchmarks/plain_app) on chain, as it would any app, then ``flwr run`` runs it, then the product
App, with the same rounds, epochs, learning rate, batch size, seed and FedAvg. The run's numbers go
to ``--save`` (JSON); ``--before`` is an earlier run's, shown beside them (the first run, with no
such file, becomes it).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import torch
from rich.console import Console

from bcfl.demo.federation import FederationRun, start_federation
from bcfl.demo.heart import CENTRES
from bcfl.demo.topology import node_settings
from bcfl.models.store import ModelStore
from bcfl.paths import REPO_ROOT
from benchmarks.federated import TrainingPlan
from benchmarks.report import replace_section
from benchmarks.round_latency import SERVER_PHASES, RoundResult, round_times
from benchmarks.round_parts import PLAIN_APP, client_parts

RESULTS = Path("benchmarks/results")
COMMAND = "python -m scripts.bench_round"


def _settings(plan: TrainingPlan) -> list[str]:
    return [
        f"local-epochs={plan.local_epochs}",
        f"learning-rate={plan.learning_rate}",
        f"batch-size={plan.batch_size}",
        "seed=0",
    ]


def _flwr_run(
    run: FederationRun, console: Console, label: str, rounds: int, app: Path, config: list[str]
) -> float:
    started = time.perf_counter()
    with console.status(f"flwr run ({label}): {rounds} rounds"):
        code = run.flwr_run(rounds, app, extra_config=config, timeout_s=3000)
    if code != 0:
        raise SystemExit(f"flwr run of the {label} app failed ({code}); see {run.run_dir / 'logs'}")
    return time.perf_counter() - started


def measure(plan: TrainingPlan, console: Console) -> RoundResult:
    """Both apps through one consortium, then the ClientApp's parts on one of its hospitals."""
    run_dir = Path(tempfile.mkdtemp(prefix="bcfl-bench-round-"))
    load_at_start = os.getloadavg()[0]
    hospitals = list(CENTRES)
    with console.status("starting the consortium"):
        run = start_federation(run_dir, hospitals)
    try:
        run.approve_app(PLAIN_APP)  # the hospitals' SuperExecs run approved apps only
        timings = run_dir / "plain-rounds.json"
        flwr_s = {
            "plain": _flwr_run(
                run,
                console,
                "plain Flower",
                plan.rounds,
                PLAIN_APP,
                [*_settings(plan), f'timings-file="{timings}"'],
            ),
            "bcfl": _flwr_run(
                run, console, "BCFL", plan.rounds, REPO_ROOT, [*_settings(plan), 'aggregation="fedavg"']
            ),
        }
        plain: list[dict[str, Any]] = json.loads(timings.read_text())
        journal: list[dict[str, Any]] = json.loads((run_dir / "rounds.json").read_text())
        with console.status("timing the ClientApp's parts"):
            config = node_settings(run.flower.layout, run.demo, hospitals[0]).node_config()
            parts = client_parts(config, ModelStore(run_dir / "models"), journal)
    finally:
        run.stop()
    per_round = [r["hospitals"].values() for r in plain]
    return RoundResult(
        date=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        rounds=plan.rounds,
        hospitals=len(hospitals),
        cores=os.cpu_count() or 1,
        plain_round_s=round_times(plain),
        bcfl_round_s=round_times(journal),
        server_s={
            phase: sum(r["timings_s"].get(phase, 0.0) for r in journal) / len(journal)
            for phase in SERVER_PHASES
        },
        plain_train_s=[max(h.get("train-seconds", 0.0) for h in hs) for hs in per_round],
        plain_evaluate_s=[max(h.get("evaluate-seconds", 0.0) for h in hs) for hs in per_round],
        bcfl_train_s=[max(u["metrics"]["train-seconds"] for u in r["updates"]) for r in journal],
        client_s=parts,
        flwr_run_s=flwr_s,
        load_at_start=load_at_start,
    )


def _met(ok: bool) -> str:
    return "met" if ok else "NOT met"


def _rounds(values: list[float]) -> str:
    return ", ".join(f"{v:.1f}" for v in values)


def _part_rows(before: RoundResult, now: RoundResult) -> list[str]:
    columns = [before.parts(False), before.parts(True), now.parts(False), now.parts(True)]
    rows = []
    for label in columns[0]:
        values = [c[label] for c in columns]
        rows.append(
            f"| {label} | " + " | ".join(f"{v:.3f}" for v in values) + f" | {values[3] - values[2]:+.3f} |"
        )
    rows.append(
        f"| **round (median)** | {before.plain:.2f} | {before.bcfl:.2f} | {now.plain:.2f} | {now.bcfl:.2f} |"
        f" **{now.bcfl - now.plain:+.2f}** |"
    )
    return rows


def render(before: RoundResult, now: RoundResult, before_path: Path) -> str:
    """The markdown section."""
    threshold = max(3 * now.slowest, 5.0)
    lines = [
        "## A round's wall time: BCFL against plain Flower",
        "",
        f"Command: `make bench` (`{COMMAND}`), run {now.date} on a {now.machine}",
        "(other work on the machine makes every number here slower and noisier). One consortium of the",
        "four heart hospitals on one machine (Anvil,",
        "SuperLink with TLS and node authentication, Fleet gateway, node sync, coordinator, per hospital a",
        "SuperNode and its bcfl-superexec). The reference a user would pick instead, plain Flower",
        "(`benchmarks/plain_app`: a ClientApp training the same model on the same node config's data and",
        "Flower's FedAvg ServerApp, no chain, no keys, no checks), approved on chain like any app, runs",
        "first through the same SuperLink and SuperNodes, then the product App (the plain",
        "app's hospitals start training together, so their training overlaps more): both FedAvg,",
        f"{now.rounds} rounds, the same epochs, learning rate, batch size and seed. A round runs from the",
        "strategy's `configure_train` to the end of its evaluation (for BCFL: finalized and paid).",
        "",
        f"| | before ({before.title}) | now ({now.title}) |",
        "|---|---:|---:|",
        f"| plain Flower, seconds per round (median) | {before.plain:.1f} | {now.plain:.1f} |",
        f"| BCFL, seconds per round (median) | {before.bcfl:.1f} | {now.bcfl:.1f} |",
        f"| **BCFL / plain Flower** | **{before.ratio:.2f}x** | **{now.ratio:.2f}x** |",
        f"| plain Flower, each round | {_rounds(before.plain_round_s)} | {_rounds(now.plain_round_s)} |",
        f"| BCFL, each round | {_rounds(before.bcfl_round_s)} | {_rounds(now.bcfl_round_s)} |",
        "",
        f"Goal: BCFL at most 1.2x plain Flower: {_met(now.ratio <= 1.2)} ({now.ratio:.2f}x).",
        "",
        "### Each part of a round, seconds",
        "",
        "ClientApp parts: each timed alone on one hospital of the running consortium, from its own node",
        "config (process starts: median of 5, taken in turns for both apps; the rest median of 3), times",
        "how often a round does it: Flower's SuperExec starts a fresh ClientApp process for each message,",
        "two a round (train, evaluate). The hospitals' processes share the cores, so one hospital's",
        f"ClientApp seconds times hospitals per core ({now.hospitals}/{now.cores}) estimate what they add",
        "to the round. Training and evaluation: as the ClientApps measured them in the deployed rounds.",
        "Coordinator phases: its journal's timings, mean per round. The remainder is the round less",
        "all that: mostly Flower's polls (below), transport and the machine's other load.",
        "Process start and imports are timed as a cold interpreter (`python -c 'import ...'`): what",
        "Flower's own SuperExec pays for every message. Since the warm start (hospital_node/warm),",
        "`bcfl-superexec` forks each ClientApp from a server that imported torch, numpy and Flower once;",
        "both apps ran under it in a run labelled with it, so there that row overstates what a message",
        "costs and the remainder comes out lower (even negative) by about as much.",
        "",
        "| part | before: plain | before: BCFL | now: plain | now: BCFL | now: BCFL - plain |",
        "|---|---:|---:|---:|---:|---:|",
        *_part_rows(before, now),
        "",
        "### Four heart hospitals on one machine",
        "",
        f"The slowest hospital's training and evaluation take {now.slowest:.2f} s a round in BCFL's run",
        f"(median over rounds; before: {before.slowest:.2f} s; evaluation as the plain app timed it, the",
        "product ClientApp does not time it), so the goal is a round within",
        f"max(3 x {now.slowest:.2f} s, 5 s) =",
        f"{threshold:.1f} s: BCFL's median round is {now.bcfl:.1f} s ({_met(now.bcfl <= threshold)});",
        f"plain Flower's, on the same machine, is {now.plain:.1f} s ({_met(now.plain <= threshold)}).",
        "What the round spends beyond training: each of its two messages (train, evaluate) waits for the",
        "SuperNode's next poll of the SuperLink, for its SuperExec's next ask, for Flower's ClientApp",
        "to start, unpack the app's bundle and pull the message's objects from its SuperNode, and its",
        "reply for the SuperNode's and the ServerApp's next looks; four hospitals' processes share two",
        "cores; and without the warm start, the process starts would put about",
        f"{now.plain_starts_on_path():.0f} s more on the round's path. The evaluation itself takes",
        "hundredths of a second: the evaluate message is nearly all such waits.",
        "",
        "What Flower 1.41 itself waits (its source) and what this consortium's processes wait instead",
        "(both apps ran under them; docs/hospital-node.md, Polling):",
        "",
        "| loop | Flower 1.41 | here | how |",
        "|---|---:|---:|---|",
        "| SuperExec asks its SuperNode for a task (`run_superexec.py`) | 1 s | 0.2 s |"
        " `FLWR_SUPEREXEC_TASK_POLL_INTERVAL` (Flower's setting; `hospital_node.settings.SUPEREXEC_POLL`) |",
        "| SuperNode asks the SuperLink for a message when none came (`start_client_internal.py`) | 3 s |"
        " 0.5 s | `bcfl-supernode --message-poll-interval` |",
        "| SuperNode looks for the ClientApp's reply (`start_client_internal.py`) | 0.5 s | 0.1 s |"
        " `bcfl-supernode --reply-poll-interval` |",
        "| first retry of a message's object not there yet (`inflatable_utils.py`) | 1 s | 0.05 s |"
        " `bcfl.flower.object_pulls` (ClientApp, SuperNode, ServerApp) |",
        "| longest wait between retries of that object (`inflatable_utils.py`) | 10 s | 0.2 s |"
        " `bcfl.flower.object_pulls` |",
        "| ServerApp's `send_and_receive` pulls replies (`superlink/grid/http_grid.py`) | 3 s | BCFL's"
        " ServerApp 0.2 s; plain Flower's 3 s | `coordinator/prompt_grid.py` |",
        "| SuperNode heartbeat | 30 s | 30 s | not on a round's path |",
        "",
        "Plain Flower's ServerApp (Flower's FedAvg, unchanged) still waits up to 3 s for each message's",
        "replies: about 3 s a round on average that BCFL's ServerApp does not wait.",
        "",
        f"`flwr run` wall time, all {now.rounds} rounds with process start: plain "
        f"{now.flwr_run_s.get('plain', 0.0):.1f} s, BCFL {now.flwr_run_s.get('bcfl', 0.0):.1f} s."
        f' "before" is `{before_path}`.',
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("docs/benchmarks.md"))
    parser.add_argument("--rounds", type=int, default=TrainingPlan().rounds)
    parser.add_argument("--before", type=Path, default=RESULTS / "round-before.json")
    parser.add_argument("--save", type=Path, default=RESULTS / "round-latest.json")
    parser.add_argument("--label", default="", help="what is different in this run, shown beside its date")
    parser.add_argument(
        "--render-only",
        action="store_true",
        help="write the section from --save's numbers, measuring nothing",
    )
    args = parser.parse_args()
    torch.set_num_threads(1)
    console = Console()
    if args.render_only:
        now = RoundResult.load(args.save)
    else:
        now = measure(TrainingPlan(rounds=args.rounds), console)
        now.label = args.label
        now.save(args.save)
    if not args.before.exists():
        now.save(args.before)
    section = render(RoundResult.load(args.before), now, args.before)
    console.print(section)
    replace_section(args.out, "round", section)
    console.print(f"written to {args.out}; this run's numbers in {args.save}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
