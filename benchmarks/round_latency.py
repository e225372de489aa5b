"""A round's wall time, BCFL against plain Flower on the same SuperNodes: what one benchmark run
measured (:class:`RoundResult`, saved as JSON so that a later run can show it as "before") and each
part of both rounds derived from it.

Both ServerApps note when each round starts (the strategy's ``configure_train``) and ends (after the
evaluation replies are aggregated; for BCFL, after the round is finalized and paid on chain): BCFL's
in its journal (``rounds.json``: ``opened_at``, ``closed_at``), the plain app in its timings file.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

#: The coordinator's own phases in its journal (``timings_s``), with their labels.
SERVER_PHASES = {
    "chain": "coordinator: chain writes (open, register the batch, finalize, pay)",
    "assess": "coordinator: scoring the updates, recording the scores on chain",
    "verify": "coordinator: update signature, hash and membership checks",
    "aggregate": "coordinator: aggregation",
}
PRODUCT_START = "process start and imports, product ClientApp"
PLAIN_START = "process start and imports, plain ClientApp"
#: A hospital's ClientApp work in a round, each part timed alone: (label, how many times a round
#: (two processes: train, evaluate), the client_parts key of the product app, of the plain app or None).
CLIENT_PARTS: tuple[tuple[str, int, tuple[str, ...], str | None], ...] = (
    ("ClientApp process start and imports", 2, (PRODUCT_START,), PLAIN_START),
    ("data load", 2, ("data load (prepared file)", "data load"), "data load"),
    # Before the signing agent: each process unlocked the keystore; now it asks the agent who it is.
    (
        "key: keystore unlock (before) or signing agent's identity",
        2,
        ("signing agent's identity (socket)", "keystore unlock (scrypt)"),
        None,
    ),
    ("chain connect and membership read", 2, ("chain connect and membership read",), None),
    ("global model check: round and parent read from chain", 1, ("global model check (chain reads)",), None),
    ("hashing the received model", 1, ("model hashing (received model)",), None),
    ("evaluation of the global model before training", 1, ("evaluation before training",), None),
    ("update hash, EIP-712 signature, proof kept", 1, ("update hash, signature and proof",), None),
    ("evaluation hash and EIP-712 signature", 1, ("evaluation hash and signature",), None),
)


def round_times(rounds: Sequence[Mapping[str, Any]]) -> list[float]:
    """Each completed round's wall time (``closed_at - opened_at``)."""
    return [float(r["closed_at"]) - float(r["opened_at"]) for r in rounds if "closed_at" in r]


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else 0.0


@dataclass
class RoundResult:
    """What one benchmark run measured."""

    date: str
    rounds: int
    hospitals: int
    cores: int
    #: Each round's wall time, seconds.
    plain_round_s: list[float]
    bcfl_round_s: list[float]
    #: The coordinator's phases (SERVER_PHASES), seconds per round, mean over rounds.
    server_s: dict[str, float]
    #: Each round's slowest hospital, as the ClientApps measured it in the deployed runs.
    plain_train_s: list[float]
    plain_evaluate_s: list[float]
    bcfl_train_s: list[float]
    #: benchmarks.round_parts.client_parts on one hospital.
    client_s: dict[str, float]
    flwr_run_s: dict[str, float] = field(default_factory=dict)
    #: What was different in this run (``--label``), shown beside its date.
    label: str = ""
    #: The machine's 1-minute load average when the run began (None: not recorded then).
    load_at_start: float | None = None

    @property
    def machine(self) -> str:
        """The machine the run had: its cores, and how busy it was when the run began."""
        if self.load_at_start is None:
            return f"{self.cores}-core CPU (its load not recorded)"
        return f"{self.cores}-core CPU with a load average of {self.load_at_start:.2f} when the run began"

    @property
    def title(self) -> str:
        """The run's date, and its label if any."""
        return f"{self.date}, {self.label}" if self.label else self.date

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(self), indent=2) + "\n")

    @classmethod
    def load(cls, path: Path) -> RoundResult:
        return cls(**json.loads(path.read_text()))

    @property
    def plain(self) -> float:
        """Median round of plain Flower."""
        return median(self.plain_round_s)

    @property
    def bcfl(self) -> float:
        """Median round of BCFL."""
        return median(self.bcfl_round_s)

    @property
    def ratio(self) -> float:
        return self.bcfl / self.plain

    @property
    def slowest(self) -> float:
        """The slowest hospital's training (the product ClientApp's own measure) plus its evaluation (the
        plain ClientApp's: the product's does not time it; the same function), median over rounds."""
        return median([t + e for t, e in zip(self.bcfl_train_s, self.plain_evaluate_s, strict=True)])

    @property
    def factor(self) -> float:
        """Hospitals per core (at least 1): every hospital's ClientApp processes share the cores, so a
        hospital's ClientApp seconds times this estimates what they add to the round."""
        return max(1.0, self.hospitals / self.cores)

    def plain_starts_on_path(self) -> float:
        """The plain ClientApp's two process starts a round, on the round's path (x hospitals per core)."""
        return 2 * self.client_s[PLAIN_START] * self.factor

    def client(self, product: bool) -> dict[str, float]:
        """One hospital's ClientApp seconds per round, part by part (CLIENT_PARTS), one app."""
        parts = {}
        for label, times, product_keys, plain_key in CLIENT_PARTS:
            keys = product_keys if product else (plain_key,) if plain_key else ()
            seconds = next((self.client_s[key] for key in keys if key in self.client_s), 0.0)
            parts[f"one hospital: {label} (x{times})"] = times * seconds
        return parts

    def parts(self, product: bool) -> dict[str, float]:
        """Every part of one app's median round, seconds; the remainder is what the measured parts leave:
        Flower's polls, transport, contention and noise."""
        client = self.client(product)
        parts = {
            **client,
            "ClientApp work on the round's path (one hospital's x hospitals per core)": sum(client.values())
            * self.factor,
            "local training, slowest hospital (deployed)": median(
                self.bcfl_train_s if product else self.plain_train_s
            ),
            "local evaluation, slowest hospital (deployed, plain app's)": median(self.plain_evaluate_s),
            **{label: self.server_s[k] if product else 0.0 for k, label in SERVER_PHASES.items()},
        }
        on_path = sum(v for k, v in parts.items() if k not in client)
        parts["remainder: Flower's polls, transport, contention, noise"] = (
            self.bcfl if product else self.plain
        ) - on_path
        return parts
