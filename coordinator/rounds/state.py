"""The typed state of one round as it moves through the steps: each step returns a new record."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from coordinator.aggregation import AggregationConfig
from coordinator.rounds.assessment import Assessment
from coordinator.scoring import DEFAULT_RULE, ScoringRule
from coordinator.verification import Rejection, VerifiedUpdate

Arrays = Mapping[str, np.ndarray]


@dataclass(frozen=True)
class RoundSettings:
    """How the coordinator runs every round (the run config's ``min-valid-updates``,
    ``aggregation`` and ``num-malicious``) and the app it runs (the FAB's sha256, approved on chain)."""

    min_valid_updates: int
    aggregation: str
    num_malicious: int
    app_hash: bytes

    def aggregation_config(self) -> AggregationConfig:
        """The rule and its parameters, as the round's config document records them."""
        return AggregationConfig(self.aggregation, self.num_malicious)


@dataclass(frozen=True)
class OpenedRound:
    """A round open on chain for ``global_hash`` (newly opened, or resumed after a restart), with
    the config document whose hash it was opened with."""

    chain_round: int
    server_round: int
    global_hash: bytes
    global_arrays: Arrays
    config_hash: bytes
    #: The aggregation rule the round's config document names (the one the round aggregates by).
    aggregation: AggregationConfig
    #: The scoring rule the round's config document names (the one the round is scored by).
    scoring: ScoringRule = DEFAULT_RULE


@dataclass(frozen=True)
class Registration:
    """The round's updates: those registered on chain (and stored), and those left out."""

    updates: tuple[VerifiedUpdate, ...]
    rejected: tuple[Rejection, ...]
    #: Why the round cannot aggregate (fewer valid updates than required), or empty.
    failed: str = ""


@dataclass(frozen=True)
class Aggregate:
    """The round's new global model, and who entered it."""

    participants: tuple[VerifiedUpdate, ...]
    arrays: Arrays
    model_hash: bytes
    #: The examples-weighted mean of the participants' training metrics (None without any).
    train_metrics: Mapping[str, Any] | None
    #: Each participant's weight in the model, as the rule used it (finalized on chain; may be 0).
    weights: Mapping[int, int]


@dataclass(frozen=True)
class RoundState:
    """Where one round stands: each step fills in its part."""

    opened: OpenedRound
    registration: Registration | None = None
    assessment: Assessment | None = None
    aggregate: Aggregate | None = None
    finalized: bool = False
    paid: bool = False

    @property
    def chain_round(self) -> int:
        return self.opened.chain_round
