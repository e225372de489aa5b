"""Attacks against the consortium's defences: accuracy, exclusion and payouts.

Writes the robustness section of docs/benchmarks.md. Every scenario deploys a consortium on one real
Anvil and runs each round through the coordinator's own round service (benchmarks/robustness.py):
signed updates, verification, registration, scores and reputation on chain, the aggregation rule,
finalization and payment. Flower transport is left out; tests/federation/test_attacks.py runs the
same defences deployed.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from rich.console import Console
from rich.progress import Progress

from bcfl.chain.anvil import AnvilNode
from bcfl.chain.client import ChainClient
from bcfl.learning.data.dataset import LocalDataset
from benchmarks.attacks import ATTACKS
from benchmarks.federated import TrainingPlan
from benchmarks.report import replace_section
from benchmarks.robustness import Defence, Outcome, simulate
from benchmarks.sites import heart_sites, thyroid_sites

ACCURACY_GOAL, EXCLUSION_GOAL, SHARE_GOAL = 2.0, 3, 0.05
#: (label, aggregation, reputation exclusion on).
DEFENCES = [
    ("plain FedAvg", "fedavg", False),
    ("reputation", "reputation", True),
    ("FedAvg + excl.", "fedavg", True),
    ("Krum", "krum", True),
    ("Multi-Krum", "multikrum", True),
    ("trimmed mean", "trimmed-mean", True),
    ("median", "median", True),
    ("Bulyan", "bulyan", True),
]
ATTACKERS = {
    ("heart", 4): ["hungary"],
    ("heart", 8): ["hungary-1", "va-long-beach-1"],
    ("thyroid", 4): ["garvan-svhc"],
    ("thyroid", 8): ["garvan-svi-1", "garvan-svhc"],
}


@dataclass(frozen=True)
class Cell:
    """One attack against one defence: accuracy against plain FedAvg's clean run and against FedAvg
    over the honest hospitals alone (the attackers' data lost), exclusion and payout share."""

    accuracy_drop: float
    excluded_after: int | None
    share: float
    honest_only_drop: float

    def met(self, *, against_honest_only: bool = False) -> bool:
        drop = self.honest_only_drop if against_honest_only else self.accuracy_drop
        return (
            drop <= ACCURACY_GOAL
            and self.excluded_after is not None
            and self.excluded_after <= EXCLUSION_GOAL
            and self.share < SHARE_GOAL
        )

    def render(self) -> str:
        excluded = f"r{self.excluded_after}" if self.excluded_after is not None else "never"
        mark = "" if self.met() else " ✗"
        return f"{-self.accuracy_drop:+.1f} · {excluded} · {self.share:.1%}{mark}"


def _cell(clean: Outcome, honest_only: Outcome, attacked: Outcome, attackers: list[str], attack: str) -> Cell:
    start = 2 if attack == "replay" else 1  # a replay needs an earlier update to replay
    exclusions = [attacked.excluded_after(a) for a in attackers]
    after = None if None in exclusions else max(e for e in exclusions if e is not None) - start
    return Cell(
        accuracy_drop=(clean.accuracy[-1] - attacked.accuracy[-1]) * 100,
        excluded_after=after,
        share=sum(attacked.share(a) for a in attackers),
        honest_only_drop=(honest_only.accuracy[-1] - attacked.accuracy[-1]) * 100,
    )


def _honest_excluded(clean: Outcome) -> int:
    """Hospitals (all honest in a clean run) left out of at least one round's aggregate."""
    names = {n for included in clean.aggregated for n in included} | set(clean.paid)
    return sum(any(n not in included for included in clean.aggregated) for n in names)


def run_consortium(
    chain: ChainClient,
    name: str,
    count: int,
    sites: dict[str, LocalDataset],
    plan: TrainingPlan,
    seeds: list[int],
    progress: Progress,
) -> tuple[str, dict[str, tuple[int, float, int]]]:
    """The section of one consortium (cells of the first seed) and, per defence, goals met,
    accuracy change summed over all seeds, and goals met against the honest-only run."""
    attackers = ATTACKERS[(name, count)]
    usable = [d for d in DEFENCES if d[1] != "bulyan" or count >= 7]
    task = progress.add_task(
        f"{name}, {len(attackers)} of {count}", total=len(seeds) * len(usable) * (1 + len(ATTACKS))
    )
    cells: dict[tuple[str, str, int], Cell] = {}
    clean_runs: dict[tuple[str, int], Outcome] = {}
    honest_sites = {n: d for n, d in sites.items() if n not in attackers}
    honest_only: dict[int, Outcome] = {}
    for seed in seeds:
        # What a defence reaches at best if it drops the attackers from the start: their data lost.
        honest_only[seed] = simulate(
            chain, honest_sites, {}, Defence(aggregation="fedavg", use_reputation=False), plan, seed
        )
        for label, aggregation, exclusion in usable:
            defence = Defence(aggregation=aggregation, num_malicious=len(attackers), use_reputation=exclusion)
            clean_runs[(label, seed)] = simulate(chain, sites, {}, defence, plan, seed)
            progress.advance(task)
            # Every defence is measured against the same reference: plain FedAvg with no attacker.
            reference = clean_runs[(DEFENCES[0][0], seed)]
            for attack in ATTACKS:
                attacked = simulate(chain, sites, dict.fromkeys(attackers, attack), defence, plan, seed)
                cells[(label, attack, seed)] = _cell(
                    reference, honest_only[seed], attacked, attackers, attack
                )
                progress.advance(task)
    first = seeds[0]
    labels = [d[0] for d in usable]
    lines = [
        f"### {name}: {len(attackers)} of {count} hospitals adversarial ({', '.join(attackers)})",
        "",
        "| attack | " + " | ".join(labels) + " |",
        "|---|" + "---:|" * len(labels),
        "| clean accuracy | "
        + " | ".join(f"{clean_runs[(k, first)].accuracy[-1]:.3f}" for k in labels)
        + " |",
    ]
    for attack in ATTACKS:
        lines.append(f"| {attack} | " + " | ".join(cells[(k, attack, first)].render() for k in labels) + " |")
    met = {k: sum(cells[(k, a, s)].met() for a in ATTACKS for s in seeds) for k in labels}
    drop = {k: sum(cells[(k, a, s)].accuracy_drop for a in ATTACKS for s in seeds) for k in labels}
    met_honest_only = {
        k: sum(cells[(k, a, s)].met(against_honest_only=True) for a in ATTACKS for s in seeds) for k in labels
    }
    false_exclusions = {k: sum(_honest_excluded(clean_runs[(k, s)]) for s in seeds) for k in labels}
    lines += [
        f"| **goals met (of {6 * len(seeds)}, {len(seeds)} seeds)** | "
        + " | ".join(f"**{met[k]}**" for k in labels)
        + " |",
        "| goals met, accuracy against the honest-only run | "
        + " | ".join(str(met_honest_only[k]) for k in labels)
        + " |",
        f"| honest hospitals excluded in clean runs ({len(seeds)} seeds) | "
        + " | ".join(str(false_exclusions[k]) for k in labels)
        + " |",
    ]
    clean_mean = statistics.fmean(clean_runs[(DEFENCES[0][0], s)].accuracy[-1] for s in seeds)
    honest_mean = statistics.fmean(honest_only[s].accuracy[-1] for s in seeds)
    lines += [
        "",
        f"Without the attackers at all (plain FedAvg over the {len(honest_sites)} honest hospitals, the"
        f" attackers' data lost): accuracy {honest_mean:.3f} against the clean run's {clean_mean:.3f}"
        f" (means over the seeds), {(honest_mean - clean_mean) * 100:+.1f} points. A defence that"
        " excludes the attackers early lands near this, whatever it does.",
    ]
    shares = clean_runs[("trimmed mean", first)]
    honest = {s: len(d.train) for s, d in sites.items()}
    total = sum(honest.values())
    lines += [
        "",
        "Clean run with the default (trimmed mean), payout share against data share:",
        "",
        "| hospital | " + " | ".join(honest) + " |",
        "|---|" + "---:|" * len(honest),
        "| train examples | " + " | ".join(f"{n / total:.1%}" for n in honest.values()) + " |",
        "| payout share | " + " | ".join(f"{shares.share(s):.1%}" for s in honest) + " |",
    ]
    return "\n".join(lines), {k: (met[k], drop[k], met_honest_only[k]) for k in labels}


def _scenarios(defence: str, cells: int) -> int:
    return cells // 2 if defence == "Bulyan" else cells


def render(
    plan: TrainingPlan,
    sections: list[str],
    totals: dict[str, tuple[int, float, int]],
    cells: int,
    seeds: list[int],
    seconds: float,
) -> str:
    today = time.strftime("%Y-%m-%d", time.gmtime())
    # Most goals met; ties go to the smaller mean accuracy loss.
    best = max(totals, key=lambda k: (totals[k][0], -totals[k][1]))
    lines = [
        "## Robustness: poisoning hospitals and free riders",
        "",
        f"Command: `python -m scripts.bench_robustness --seeds {len(seeds)}` (`make bench` runs 3 seeds), "
        f"run {today}, 2-core CPU, seeds {', '.join(map(str, seeds))},",
        f"{seconds / 60:.0f} minutes. Every round runs through the coordinator's own round service on a",
        "real Anvil, a fresh consortium per scenario (reputation initial 5,000, smoothing 5,000,",
        "exclusion below 3,000): hospitals sign their updates with their keys, the coordinator verifies,",
        "registers, scores, aggregates, finalizes and pays on chain, as deployed; only Flower transport",
        "and federated evaluation are left out (tests/federation/test_attacks.py runs the same defences",
        f"deployed). {plan.rounds} rounds x {plan.local_epochs} local epochs, at least 2 valid updates a",
        "round. Accuracy: mean over the honest hospitals' test sets.",
        "",
        f"Each cell (seed {seeds[0]}): accuracy change against plain FedAvg's clean run (points) ·",
        "rounds the attacker was aggregated before being excluded for good (`never` if not) · the",
        "attackers' share of all tokens paid (for free-ride, the free rider's). ✗ marks a cell",
        "missing a goal:",
        f"accuracy within {ACCURACY_GOAL:.0f} points, excluded within {EXCLUSION_GOAL} rounds, share under",
        f'{SHARE_GOAL:.0%}. "plain FedAvg" has no exclusion; every other column excludes by reputation.',
        "Bulyan needs at least 4f + 3 updates, so it runs with 8 hospitals only, told f = 1 (the most",
        "it can stand with 7 or 8 updates) when 2 attack.",
        "Below the goals row: the goals met when accuracy is measured against plain FedAvg over the",
        "honest hospitals alone (what excluding the attackers from the start gives), and how many",
        "honest hospitals were left out of at least one round in the defence's clean runs, summed over",
        "the seeds (false exclusions).",
        "",
        *sections,
        "",
        f"Over all {cells} attack scenarios x {len(seeds)} seeds (Bulyan: the {cells // 2} with 8",
        "hospitals), per defence: goals met, and mean accuracy change against plain FedAvg's clean",
        "run:",
        "",
        "| defence | goals met | mean accuracy change (points) | goals met, accuracy against the"
        " honest-only run |",
        "|---|---:|---:|---:|",
        *(
            f"| {k} | {v[0]} of {_scenarios(k, cells) * len(seeds)} |"
            f" {-v[1] / (_scenarios(k, cells) * len(seeds)):+.2f} | {v[2]} |"
            for k, v in totals.items()
        ),
        "",
        f"Most goals met, ties broken by the smaller accuracy loss: **{best}**.",
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("docs/benchmarks.md"))
    parser.add_argument("--rounds", type=int, default=TrainingPlan().rounds)
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(1)
    logging.getLogger("flwr").setLevel(logging.WARNING)  # Flower logs every aggregation at INFO
    console = Console()
    plan = TrainingPlan(rounds=args.rounds)
    seeds = list(range(args.seeds))
    sections: list[str] = []
    totals: dict[str, list[tuple[int, float, int]]] = {}
    started = time.perf_counter()
    with AnvilNode() as node, Progress(console=console) as progress:
        chain = ChainClient(node.rpc_url)
        for name, make in (("heart", heart_sites), ("thyroid", thyroid_sites)):
            for count in (4, 8):
                section, met = run_consortium(chain, name, count, make(count), plan, seeds, progress)
                sections += [section, ""]
                for label, value in met.items():
                    totals.setdefault(label, []).append(value)
    summed = {
        k: (sum(t[0] for t in v), sum(t[1] for t in v), sum(t[2] for t in v)) for k, v in totals.items()
    }
    cells = 4 * len(ATTACKS)
    text = render(plan, sections, summed, cells, seeds, time.perf_counter() - started)
    console.print(text)
    replace_section(args.out, "robustness", text)
    console.print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
