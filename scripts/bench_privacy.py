"""Accuracy and AUROC against ε on the heart, thyroid and imaging consortia, and a membership-inference attack
with and without DP, into docs/benchmarks.md (benchmarks/privacy.py says how)."""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from rich.console import Console
from rich.progress import Progress

from bcfl.demo.consortia import DEMO_DP_EPSILON
from bcfl.demo.settings import load_demo_settings
from bcfl.learning.data.dataset import LocalDataset
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
    plan_of,
    references,
    score,
)
from benchmarks.report import replace_section

#: The hospital the attack targets in each consortium (the largest), and its own-data training length.
TARGETS = {"heart": "cleveland", "thyroid": "garvan-other", "ihc": "riverside"}
OVERFIT_EPOCHS = 100
CONSORTIA = ("heart", "thyroid", "ihc")
#: How each consortium is named in the report.
TITLES = {"heart": "Heart", "thyroid": "Thyroid", "ihc": "Imaging (IHC patches, CNN)"}


def _label(epsilon: float | None) -> str:
    return "no DP" if epsilon is None else f"ε = {epsilon:g}"


#: The ε each demo consortium could run with, measured at the demo's own length (``BCFL_ROUNDS``).
DEMO_EPSILONS: tuple[float | None, ...] = (DEMO_DP_EPSILON, 2 * DEMO_DP_EPSILON, None)

Best = tuple[float, list[Score], list[tuple[float, float]]]


def best_rate(
    centres: dict[str, LocalDataset],
    plan: TrainingPlan,
    epsilon: float | None,
    seeds: list[int],
    target: str | None,
    *,
    tuned: bool = True,
) -> Best:
    """FedAvg at ``epsilon`` over ``seeds`` with DP-SGD's best learning rate (by mean AUROC; with
    ``tuned`` False, the plan's own, as a deployment trains): the rate, the global models' scores, and
    the attack on ``target``'s last updates (none without a target)."""
    rates = DP_LEARNING_RATES if tuned and epsilon is not None else (plan.learning_rate,)
    best: Best | None = None
    for lr in rates:
        scores, advantages = [], []
        for seed in seeds:
            model, updates = dp_fedavg(centres, plan, epsilon, lr, seed)
            scores.append(score(model, centres))
            if target is not None:
                advantages.append(membership_advantage(updates[target], centres[target], seed))
        if best is None or statistics.fmean(s.auroc for s in scores) > statistics.fmean(
            s.auroc for s in best[1]
        ):
            best = (lr, scores, advantages)
    assert best is not None
    return best


def _utility(lr: float, scores: list[Score]) -> dict[str, Any]:
    return {"lr": lr, "accuracy": [s.accuracy for s in scores], "auroc": [s.auroc for s in scores]}


def majority_accuracy(centres: dict[str, LocalDataset]) -> float:
    """The accuracy of always answering the commonest training label, averaged over the test sets (what a
    model that learned nothing scores)."""
    labels = np.concatenate([c.train.labels for c in centres.values()])
    values, counts = np.unique(labels, return_counts=True)
    commonest = values[np.argmax(counts)]
    return statistics.fmean(float(np.mean(c.test.labels == commonest)) for c in centres.values())


def measure(name: str, seeds: list[int], demo_rounds: int, progress: Progress) -> dict[str, Any]:
    """Every figure of one consortium."""
    centres = consortium(name)
    plan = plan_of(name)
    target = centres[TARGETS[name]]
    task = progress.add_task(f"{name}: FedAvg at each ε", total=len(EPSILONS) * len(seeds))
    utility: dict[str, Any] = {}
    attacks: dict[str, Any] = {}
    for epsilon in EPSILONS:
        lr, scores, advantages = best_rate(centres, plan, epsilon, seeds, TARGETS[name])
        utility[_label(epsilon)] = _utility(lr, scores)
        attacks[_label(epsilon)] = {"update": advantages}
        progress.advance(task, len(seeds))
    task = progress.add_task(
        f"{name}: the demo's {demo_rounds} rounds", total=len(DEMO_EPSILONS) * len(seeds)
    )
    demo: dict[str, Any] = {}
    for epsilon in DEMO_EPSILONS:
        demo_plan = replace(plan_of(name, private=epsilon is not None), rounds=demo_rounds)
        lr, scores, _ = best_rate(centres, demo_plan, epsilon, seeds, None, tuned=False)
        demo[_label(epsilon)] = _utility(lr, scores)
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
        "rounds": plan.rounds,
        "local_epochs": plan.local_epochs,
        "utility": utility,
        "demo_rounds": demo_rounds,
        "demo": demo,
        "majority": majority_accuracy(centres),
        "pooled": {"accuracy": [s.accuracy for s in pooled], "auroc": [s.auroc for s in pooled]},
        "local": {"accuracy": [s.accuracy for s in local], "auroc": [s.auroc for s in local]},
        "attacks": attacks,
    }


def _ms(values: list[float]) -> str:
    mean = statistics.fmean(values)
    return f"{mean:.3f} ± {statistics.stdev(values):.3f}" if len(values) > 1 else f"{mean:.3f}"


def _utility_rows(utility: dict[str, Any], first: str = "") -> list[str]:
    """A table row per ε: ``first`` cells, then ε, the learning rate, accuracy and AUROC."""
    rows = []
    for label, u in utility.items():
        eps = "∞ (no DP)" if label == "no DP" else label.removeprefix("ε = ")
        rows.append(f"{first}| {eps} | {u['lr']} | {_ms(u['accuracy'])} | {_ms(u['auroc'])} |")
    return rows


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
        "over the run's rounds and local epochs (the App's settings with the demo consortium's own, "
        "each consortium's below; benchmarks/privacy.py). FedAvg in one process with the ClientApp's "
        "training and seeds; scores "
        f"averaged over the hospitals' test sets; mean ± standard deviation over {len(seeds)} seeds. "
        f"DP-SGD's learning rate is the best of {', '.join(map(str, DP_LEARNING_RATES))} per ε by AUROC "
        f"(chosen on the test sets, in DP's favour); without DP the App's {plan.learning_rate}. Pooled "
        "and local-only: no DP, as many epochs as the federation's rounds x local epochs. ε is each "
        "hospital's, for the whole run.",
    ]
    for name, r in results.items():
        sizes = ", ".join(f"{k} {v}" for k, v in r["hospitals"].items())
        lines += [
            "",
            f"### {TITLES[name]} ({len(r['hospitals'])} hospitals; training examples: {sizes}; "
            f"{r['rounds']} rounds x {r['local_epochs']} local epochs)",
            "",
            "| training | ε per hospital | learning rate | accuracy | AUROC |",
            "|---|---:|---:|---:|---:|",
        ]
        lines += _utility_rows(r["utility"], "| federated ")
        for ref, what in (("pooled", "pooled (all data in one place)"), ("local", "local-only (mean)")):
            accuracy, auroc = _ms(r[ref]["accuracy"]), _ms(r[ref]["auroc"])
            lines.append(f"| {what} | ∞ (no DP) | {plan.learning_rate} | {accuracy} | {auroc} |")
        lines.append(f"| always the commonest class | | | {r['majority']:.3f} | 0.500 |")
        lines += [
            "",
            f"As the demo trains ({r['demo_rounds']} rounds, `BCFL_ROUNDS`, with the consortium's run "
            "settings, untuned: under DP the learning rate of its private runs where it has one, "
            f"`dp_learning_rate` in bcfl/demo/consortia.py; the tabular demos train at "
            f"ε = {DEMO_DP_EPSILON:g}):",
            "",
            "| ε per hospital | learning rate | accuracy | AUROC |",
            "|---:|---:|---:|---:|",
        ]
        lines += _utility_rows(r["demo"])
    lines += [
        "",
        "### Membership inference (loss-threshold attack)",
        "",
        "Advantage = the best TPR - FPR over thresholds, on the target hospital's training patients "
        "(patches for imaging) "
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
    demo_rounds = load_demo_settings().rounds
    started = time.perf_counter()
    results: dict[str, Any] = {}
    with Progress(console=console) as progress:
        for name in args.consortia:
            results[name] = measure(name, seeds, demo_rounds, progress)
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
