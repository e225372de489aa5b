"""Each member's differential privacy on the ledger: the ε its signed updates declared, per lineage,
against the consortium's budget; and the check that the ledger's totals are those sums and never passed
the budget in force when each update was registered."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from bcfl.audit.context import AuditContext
from bcfl.audit.history import History, position
from bcfl.audit.model import CheckResult, PrivacyBudgetView, PrivacySpendView
from bcfl.chain.privacy import NOT_PRIVATE, PrivacyBudget, delta_value, epsilon_value


def epsilon_number(units: int) -> float | None:
    """ε as a number, None for "not private" (no bound)."""
    return None if units >= NOT_PRIVATE else epsilon_value(units)


def epsilon_text(epsilon: float | None) -> str:
    """An ε for people: "∞ (no DP)" for an update trained without differential privacy."""
    return "∞ (no DP)" if epsilon is None else f"{epsilon:.4g}"


def left_text(epsilon: float | None) -> str:
    """The ε a budget leaves, for people: "no bound" without a budget."""
    return "no bound" if epsilon is None else f"{epsilon:.4g}"


def budget_view(budget: PrivacyBudget) -> PrivacyBudgetView:
    return PrivacyBudgetView(
        epsilon=epsilon_number(budget.epsilon),
        delta=None if budget.delta >= NOT_PRIVATE else delta_value(budget.delta),
        text=budget.describe(),
    )


def current_budget(history: History) -> PrivacyBudgetView:
    """The budget in force after the last event the audit read."""
    last = history.events[-1] if history.events else None
    at = (last.block_number, last.log_index + 1) if last is not None else (0, 0)
    return budget_view(history.privacy_budget_at(at))


def member_privacy(history: History, member_id: int) -> tuple[PrivacySpendView, ...]:
    """The member's ε per lineage: its updates, the sum they declared, and what the budget leaves."""
    spent: dict[int, int] = defaultdict(int)
    updates: dict[int, int] = defaultdict(int)
    for _, chain_round in sorted(history.rounds.items()):
        for event in chain_round.updates:
            if int(event.args["memberId"]) == member_id:
                spent[chain_round.lineage] = min(NOT_PRIVATE, spent[chain_round.lineage] + _spent(event.args))
                updates[chain_round.lineage] += 1
    budget = current_budget(history)
    views = []
    for lineage in sorted(spent):
        total = epsilon_number(spent[lineage])
        left = None
        if budget.epsilon is not None:
            left = 0.0 if total is None else max(0.0, round(budget.epsilon - total, 6))
        views.append(
            PrivacySpendView(
                lineage=lineage, updates=updates[lineage], epsilon_spent=total, epsilon_left=left
            )
        )
    return tuple(views)


def _spent(args: Mapping[str, Any]) -> int:
    return int(str(args.get("epsilonSpent", NOT_PRIVATE)))


def privacy_budget(context: AuditContext) -> CheckResult:
    """Replays each member's ε per lineage from its registered updates, in chain order."""
    history = context.history
    totals: dict[tuple[int, int], int] = defaultdict(int)
    problems = []
    for number, chain_round in sorted(history.rounds.items()):
        for event in chain_round.updates:
            member = int(event.args["memberId"])
            key = (chain_round.lineage, member)
            totals[key] = min(NOT_PRIVATE, totals[key] + _spent(event.args))
            where = f"round {number} member {member}"
            recorded = int(str(event.args.get("epsilonTotal", NOT_PRIVATE)))
            if recorded != totals[key]:
                problems.append(
                    f"{where}: the ledger's ε total {recorded} is not the sum of its updates, {totals[key]}"
                )
            budget = history.privacy_budget_at(position(event))
            if totals[key] > budget.epsilon or int(str(event.args.get("deltaSpent", 0))) > budget.delta:
                problems.append(
                    f"{where}: registered past the privacy budget then in force ({budget.describe()})"
                )
    return CheckResult(
        name="privacy-budget",
        ok=not problems,
        problems=tuple(problems),
        proves="each member's ε per lineage, summed from the ε its signed updates declared, is the "
        "ledger's total, and no update was registered past the privacy budget in force at its block",
    )
