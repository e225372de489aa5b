"""The hospital's privacy budget: before it trains a round, the node plans the round's DP-SGD, works
out the ε it will sign as spent, and refuses to train past the consortium's budget on chain.

The node keeps its accountant's history per ledger and lineage beside its update proofs
(``<proofs>/<ledger>/privacy-lineage-<n>.json``), written before it trains: an update, once sent, has
spent its privacy whether or not it is registered. The ε it signs is what brings the chain's total for
the lineage up to the accountant's (never less than this round's own increment), rounded up to the
ledger's unit, so the chain's total is never below what the hospital's accountant spent.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flwr.app import ConfigRecord

from bcfl.atomic import replace_atomically
from bcfl.chain.privacy import NOT_PRIVATE, delta_units, epsilon_units, epsilon_value
from bcfl.learning.privacy import DpConfig, PrivateStep, epsilon_of, plan_step
from bcfl.models.records import RecordFormatError, get_float, get_int
from hospital_node.errors import HospitalNodeError
from hospital_node.node import HospitalNode

logger = logging.getLogger(__name__)

HISTORY_SCHEMA = "bcfl/privacy-history/v1"
#: The train config's differential-privacy settings (all or none; ``dp-epsilon`` 0: off).
DP_KEYS = ("dp-epsilon", "dp-delta", "dp-max-grad-norm", "dp-rounds")


class PrivacyBudgetError(HospitalNodeError):
    """The hospital refuses to train: the round would spend past the consortium's privacy budget, or
    the run's privacy settings do not fit it."""


@dataclass(frozen=True)
class RoundPrivacy:
    """How a round is trained and what its update declares: DP-SGD's ``step`` (None: no differential
    privacy) and the ε and δ to sign, in the ledger's units."""

    step: PrivateStep | None
    max_grad_norm: float
    epsilon_spent: int
    delta_spent: int


NOT_PRIVATE_ROUND = RoundPrivacy(None, 0.0, NOT_PRIVATE, 0)


def dp_config(config: ConfigRecord) -> DpConfig | None:
    """The run's differential privacy from a train config (None when off); HospitalNodeError for
    settings that are incomplete or out of range."""
    present = [key for key in DP_KEYS if key in config]
    if not present:
        return None
    try:
        if len(present) != len(DP_KEYS):
            raise RecordFormatError(f"the train config has {present}: give all of {list(DP_KEYS)} or none")
        epsilon = get_float(config, "dp-epsilon")
        if epsilon == 0:
            return None
        return DpConfig(
            epsilon,
            get_float(config, "dp-delta"),
            get_float(config, "dp-max-grad-norm"),
            get_int(config, "dp-rounds"),
        )
    except (RecordFormatError, ValueError) as exc:
        raise PrivacyBudgetError(f"the run's differential-privacy settings are wrong: {exc}") from None


def history_path(node: HospitalNode, lineage: int) -> Path:
    """Where the node keeps its accountant's history for ``lineage`` of its deployment."""
    ledger = node.consortium.ledger.address.lower()
    return node.proofs / ledger / f"privacy-lineage-{lineage}.json"


def load_history(path: Path) -> list[tuple[int, PrivateStep]]:
    """The (round, step) entries kept at ``path`` (none if there is no file); PrivacyBudgetError for
    one that cannot be read, never an empty history in its place (that would undercount the privacy
    spent)."""
    try:
        document = json.loads(path.read_text())
    except FileNotFoundError:
        return []
    except (OSError, ValueError) as exc:
        raise PrivacyBudgetError(
            f"cannot read the privacy history {path}: {exc}; restore it from a backup (training without it "
            "would undercount the privacy this hospital spent)"
        ) from None
    try:
        if document["document"] != HISTORY_SCHEMA:
            raise ValueError(f"document {document['document']!r}, expected {HISTORY_SCHEMA!r}")
        return [
            (
                int(s["round"]),
                PrivateStep(float(s["noise-multiplier"]), float(s["sample-rate"]), int(s["steps"])),
            )
            for s in document["steps"]
        ]
    except (KeyError, TypeError, ValueError) as exc:
        raise PrivacyBudgetError(
            f"the privacy history {path} is malformed ({exc}); restore it from a backup"
        ) from None


def save_history(path: Path, lineage: int, history: list[tuple[int, PrivateStep]]) -> None:
    """Write the history (atomically: a crash leaves the old or the new file whole)."""
    document: dict[str, Any] = {
        "document": HISTORY_SCHEMA,
        "lineage": lineage,
        "steps": [
            {
                "round": r,
                "noise-multiplier": s.noise_multiplier,
                "sample-rate": s.sample_rate,
                "steps": s.steps,
            }
            for r, s in history
        ],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    replace_atomically(path, (json.dumps(document, indent=2) + "\n").encode())


def plan_round(
    node: HospitalNode, config: ConfigRecord, chain_round: int, *, batch_size: int, epochs: int
) -> RoundPrivacy:
    """The round's privacy, or PrivacyBudgetError when the hospital must not train it. Records the
    round's step in the node's history before returning (the privacy is spent once the update is sent)."""
    ledger = node.consortium.ledger
    budget = ledger.privacy_budget()
    dp = dp_config(config)
    if dp is None:
        if budget.bounded:
            raise PrivacyBudgetError(
                f"round {chain_round}: the consortium's privacy budget ({budget.describe()}) needs "
                "differential privacy, and the run trains without it: run with dp-epsilon above 0"
            )
        return NOT_PRIVATE_ROUND
    delta = delta_units(dp.delta)
    if delta > budget.delta:
        raise PrivacyBudgetError(
            f"round {chain_round}: the run's dp-delta {dp.delta:g} is above the consortium's budget "
            f"({budget.describe()}): run with a smaller dp-delta"
        )
    lineage = ledger.get_round(chain_round).lineage
    path = history_path(node, lineage)
    history = load_history(path)
    steps = [s for _, s in history]
    step = plan_step(dp, len(node.data.train), batch_size, epochs)
    before = epsilon_units(epsilon_of(steps, dp.delta))
    after = epsilon_units(epsilon_of([*steps, step], dp.delta))
    on_chain = ledger.epsilon_spent(lineage, node.member_id)
    spend = max(after - before, after - on_chain, 0)
    total = min(on_chain + spend, NOT_PRIVATE)
    if total > budget.epsilon:
        raise PrivacyBudgetError(
            f"round {chain_round}: training would take this hospital's ε in lineage {lineage} to "
            f"{epsilon_value(total):g} ({epsilon_value(on_chain):g} on chain), past the consortium's budget "
            f"({budget.describe()}): the hospital trains no more rounds of this lineage"
        )
    save_history(path, lineage, [*history, (chain_round, step)])
    logger.info(
        "round %d: DP-SGD with noise multiplier %.3f; ε %.4f this round, %.4f of %s in lineage %d",
        chain_round,
        step.noise_multiplier,
        epsilon_value(spend),
        epsilon_value(total),
        budget.describe(),
        lineage,
    )
    return RoundPrivacy(step, dp.max_grad_norm, spend, delta)
