"""What an audit finds, as typed, JSON-ready records: rounds, members, lineages, checks and the
report that holds them. Hashes are ``0x`` hex; token amounts are decimal strings of base units
(they exceed JSON's safe integers); names and reasons come from the chain and are untrusted text,
escaped wherever they are shown."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

#: ``AuditReport.schema_id`` of this layout.
REPORT_SCHEMA = "bcfl-audit-report/1"


class Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CheckResult(Record):
    """One named check: passed or not, each problem in one line, and what passing proves."""

    name: str
    ok: bool
    problems: tuple[str, ...] = ()
    proves: str


class UpdateView(Record):
    """A registered update, its signature as taken from the registering transaction's input."""

    member_id: int
    member_name: str
    signer: str
    update_hash: str
    num_examples: int
    signature: str
    signature_valid: bool
    block_number: int
    tx_hash: str
    #: The ε the update declared (None: trained without differential privacy) and its δ.
    epsilon: float | None = None
    delta: float = 0.0


class SkippedView(Record):
    """An entry the ledger left out of a registration batch (``UpdateSkipped``)."""

    index: int
    signer: str
    update_hash: str
    reason: str
    tx_hash: str


class ScoreView(Record):
    """A member's contribution score in a round and its reputation around it (bps)."""

    member_id: int
    contribution: int
    reputation_before: int
    reputation_after: int
    excluded_before: bool


class WeightView(Record):
    member_id: int
    weight: int


class EvaluationView(Record):
    """A hospital's signed evaluation of the round's aggregated model."""

    member_id: int
    signer: str
    metrics: dict[str, float]
    signature_valid: bool


class PayoutView(Record):
    member_id: int
    account: str
    amount: str


class RoundView(Record):
    """Everything the chain (and the store, when given) says about one round."""

    round: int
    status: Literal["open", "finalized", "paid"]
    lineage: int
    parent_round: int
    global_model_hash: str
    config_hash: str
    app_hash: str
    config: dict[str, Any] | None
    opened_block: int
    opened_at: int
    updates: tuple[UpdateView, ...]
    skipped: tuple[SkippedView, ...]
    scores: tuple[ScoreView, ...]
    excluded: tuple[int, ...]
    participants: tuple[WeightView, ...]
    aggregated_model_hash: str | None
    metrics_hash: str | None
    finalized_block: int | None
    evaluations: tuple[EvaluationView, ...]
    aggregate_metrics: dict[str, float] | None
    budget: str | None
    total_paid: str | None
    payouts: tuple[PayoutView, ...]


class PrivacyBudgetView(Record):
    """The consortium's privacy budget per member and lineage (None: no bound)."""

    epsilon: float | None
    delta: float | None
    text: str


class PrivacySpendView(Record):
    """A member's differential privacy in one lineage: its updates, the ε they declared in all (None:
    one was trained without differential privacy) and what the budget leaves (None: no bound)."""

    lineage: int
    updates: int
    epsilon_spent: float | None
    epsilon_left: float | None


class MemberEventView(Record):
    """One step of a membership's history: request, approval, activation, rotation, suspension..."""

    block_number: int
    timestamp: int
    event: str
    detail: str
    tx_hash: str


class MemberView(Record):
    member_id: int
    name: str
    status: str
    signer: str
    history: tuple[MemberEventView, ...]
    updates: tuple[tuple[int, str, int], ...]
    """(round, update hash, examples) of every registered update."""
    reputation: tuple[tuple[int, int], ...]
    """(round, reputation after the round) in round order."""
    payouts: tuple[tuple[int, str], ...]
    """(round, amount) of every payout."""
    paid_total: str
    balance: str
    privacy: tuple[PrivacySpendView, ...] = ()
    """The ε its updates spent, per lineage."""


class LineageView(Record):
    lineage: int
    model_hash: str
    started_by: str
    reason: str
    block_number: int


class ModelLocation(Record):
    """Where the chain registered a model: as a round's update, global model or aggregate, or as a
    lineage start."""

    model_hash: str
    role: Literal["update", "global", "aggregated", "lineage-start"]
    round: int | None
    member_id: int | None
    block_number: int


class AuditReport(Record):
    """The chain-of-custody report of a range of rounds, ending with a verdict and the checks."""

    schema_id: str = REPORT_SCHEMA
    generated_at: int
    chain_id: int
    registry: str
    from_round: int
    to_round: int
    indexed_to_block: int
    token_symbol: str
    token_decimals: int
    lineages: tuple[LineageView, ...]
    privacy_budget: PrivacyBudgetView | None = None
    rounds: tuple[RoundView, ...]
    members: tuple[MemberView, ...]
    checks: tuple[CheckResult, ...]
    not_run: tuple[str, ...] = ()
    """Checks left out, each with why ("store-files: no model store given")."""

    @property
    def clean(self) -> bool:
        return all(check.ok for check in self.checks)

    @property
    def verdict(self) -> str:
        failed = [c.name for c in self.checks if not c.ok]
        left_out = f"; not run: {'; '.join(self.not_run)}" if self.not_run else ""
        if not failed:
            return f"clean: all {len(self.checks)} checks passed{left_out}"
        return f"FAILED: {len(failed)} of {len(self.checks)} checks failed ({', '.join(failed)}){left_out}"
