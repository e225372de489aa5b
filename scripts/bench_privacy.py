"""Accuracy and AUROC against ε on the heart and thyroid consortia, and a membership-inference attack
with and without DP, into docs/benchmarks.md (benchmarks/privacy.py says how)."""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import torch
from rich.console import Console
from rich.progress import Progress

from benchmarks.federated import TrainingPlan
from benchmarks.privacy import (
    DELTA,
    DP_LEARNING_RATES,
    EPSILONS,
    MAX_GRAD_NORM,
    Score,
    consortium,
    dp_fedavg,
    membership_advantage,
    overfit_hospital,
    references,
    score,
)
from benchmarks.report import replace_section

#: The hospital the attack targets in each consortium (the largest), and its own-data training length.
TARGETS = {"heart": "cleveland", "thyroid": "garvan-other"}
OVERFIT_EPOCHS = 100
CONSORTIA = ("heart", "thyroid")


def _label(epsilon: float | None) -> str:
    return "no DP" if epsilon is None else f"ε = {epsilon:g}"


def measure(name: str, seeds: list[int], progress: Progress) -> dict[str, Any]:
    """Every figure of one consortium."""
    centres = consortium(name)
    plan = TrainingPlan()
    target = centres[TARGETS[name]]
    task = progress.add_task(f"{name}: FedAvg at each ε", total=len(EPSILONS) * len(seeds))
    utility: dict[str, Any] = {}
    attacks: dict[str, Any] = {}
    for epsilon in EPSILONS:
        rates = (plan.learning_rate,) if epsilon is None else DP_LEARNING_RATES
        best: tuple[float, list[Score], list[tuple[float, float]]] | None = None
        for lr in rates:
            scores, advantages = [], []
            for seed in seeds:
                model, updates = dp_fedavg(centres, plan, epsilon, lr, seed)
                scores.append(score(model, centres))
                advantages.append(membership_advantage(updates[TARGETS[name]], target, seed))
            if best is None or statistics.fmean(s.auroc for s in scores) > statistics.fmean(
                s.auroc for s in best[1]
            ):
                best = (lr, scores, advantages)
        assert best is not None
        lr, scores, advantages = best
        utility[_label(epsilon)] = {
            "lr": lr,
            "accuracy": [s.accuracy for s in scores],
            "auroc": [s.auroc for s in scores],
        }
        attacks[_label(epsilon)] = {"update": advantages}
        progress.advance(task, len(seeds))
    task = progress.add_task(
        f"{name}: references and the overfit attack", total=len(seeds) * (1 + len(EPSILONS))
    )
    pooled, local = [], []
    for seed in seeds:
        p, lo = references(centres, plan, seed)
        pooled.append(p)
        local.append(lo)
        progress.advance(task)
    for epsilon in EPSILONS:
        lr = 0.01 if epsilon is None else utility[_label(epsilon)]["lr"]
        attacks[_label(epsilon)]["overfit"] = [
            membership_advantage(overfit_hospital(target, OVERFIT_EPOCHS, epsilon, lr, seed), target, seed)
            for seed in seeds
        ]
        progress.advance(task, len(seeds))
    return {
        "hospitals": {k: len(v.train) for k, v in centres.items()},
        "target": TARGETS[name],
        "utility": utility,
        "pooled": {"accuracy": [s.accuracy for s in pooled], "auroc": [s.auroc for s in pooled]},
        "local": {"accuracy": [s.accuracy for s in local], "auroc": [s.auroc for s in local]},
        "attacks": attacks,
    }


def _ms(values: list[float]) -> str:
    mean = statistics.fmean(values)
    return f"{mean:.3f} ± {statistics.stdev(values):.3f}" if len(values) > 1 else f"{mean:.3f}"


def render(results: dict[str, Any], seeds: list[int], load: float, seconds: float) -> str:
    """The markdown section."""
    plan = TrainingPlan()
    today = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    lines = [
        "## Differential privacy: accuracy and AUROC against ε, and a membership-inference attack",
        "",
        f"Command: `make bench` (`python -m scripts.bench_privacy`), run {today} on {os.cpu_count()} cores "
        f"(load average {load:.2f} at its start), {seconds / 60:.1f} min. Each hospital trains with DP-SGD "
        f"(Opacus: per-example clipping to {MAX_GRAD_NORM}, Gaussian noise, Poisson batches of expected size "
        f"{plan.batch_size}), its noise planned by the RDP accountant to spend ε at δ = {DELTA:g} "
        f"over the run's {plan.rounds} rounds x {plan.local_epochs} local epochs (the App's settings; "
        "benchmarks/privacy.py). FedAvg in one process with the ClientApp's training and seeds; scores "
        f"averaged over the hospitals' test sets; mean ± standard deviation over {len(seeds)} seeds. "
        f"DP-SGD's learning rate is the best of {', '.join(map(str, DP_LEARNING_RATES))} per ε by AUROC "
        f"(chosen on the test sets, in DP's favour); without DP the App's {plan.learning_rate}. Pooled "
        f"and local-only: no DP, {plan.rounds * plan.local_epochs} epochs. ε is each hospital's, for "
        "the whole run.",
    ]
    for name, r in results.items():
        sizes = ", ".join(f"{k} {v}" for k, v in r["hospitals"].items())
        lines += [
            "",
            f"### {name.capitalize()} ({len(r['hospitals'])} hospitals; training patients: {sizes})",
            "",
            "| training | ε per hospital | learning rate | accuracy | AUROC |",
            "|---|---:|---:|---:|---:|",
        ]
        for label, u in r["utility"].items():
            eps = "∞ (no DP)" if label == "no DP" else label.removeprefix("ε = ")
            lines.append(f"| federated | {eps} | {u['lr']} | {_ms(u['accuracy'])} | {_ms(u['auroc'])} |")
        for ref, what in (("pooled", "pooled (all data in one place)"), ("local", "local-only (mean)")):
            accuracy, auroc = _ms(r[ref]["accuracy"]), _ms(r[ref]["auroc"])
            lines.append(f"| {what} | ∞ (no DP) | {plan.learning_rate} | {accuracy} | {auroc} |")
    lines += [
        "",
        "### Membership inference (loss-threshold attack)",
        "",
        "Advantage = the best TPR - FPR over thresholds, on the target hospital's training patients "
        "against as many of its held-out ones; *chance* is the same attack with the member labels "
        "shuffled (what a model that leaks nothing scores on so few patients). *Update*: the hospital's "
        "last-round update in the federation above (what the coordinator sees). *Own data, "
        f"{OVERFIT_EPOCHS} epochs*: the hospital's model trained alone for that long, where it memorises "
        "its patients.",
        "",
        "| consortium (target) | ε | update: advantage | chance | own data, "
        f"{OVERFIT_EPOCHS} epochs: advantage | chance |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, r in results.items():
        for label, a in r["attacks"].items():
            update, overfit = a["update"], a["overfit"]
            cells = [_ms([pair[i] for pair in runs]) for runs in (update, overfit) for i in (0, 1)]
            lines.append(f"| {name} ({r['target']}) | {label.removeprefix('ε = ')} | {' | '.join(cells)} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("docs/benchmarks.md"))
    parser.add_argument("--results", type=Path, default=Path("benchmarks/results/privacy.json"))
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--consortia", nargs="+", choices=CONSORTIA, default=list(CONSORTIA))
    args = parser.parse_args()
    torch.set_num_threads(1)
    console = Console()
    seeds = list(range(args.seeds))
    load = os.getloadavg()[0]
    started = time.perf_counter()
    results: dict[str, Any] = {}
    with Progress(console=console) as progress:
        for name in args.consortia:
            results[name] = measure(name, seeds, progress)
    seconds = time.perf_counter() - started
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(
        json.dumps({"seeds": seeds, "load": load, "seconds": seconds, **results}, indent=2)
    )
    section = render(results, seeds, load, seconds)
    console.print(section)
    replace_section(args.out, "privacy", section)
    console.print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
