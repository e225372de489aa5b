"""The audit as one report: the run's (or a range of rounds') lineages, rounds, members and every
check, ending with a verdict. Checks that need the model store are not run without one and are
listed as such (``AuditReport.not_run``), never reported as passed."""

from __future__ import annotations

import time
from collections.abc import Collection

from bcfl.audit import checks
from bcfl.audit.context import AuditContext, AuditError
from bcfl.audit.model import AuditReport, CheckResult
from bcfl.audit.privacy import current_budget
from bcfl.audit.store_checks import recompute, store_files
from bcfl.audit.views import lineage_views, member_view, round_view

#: The checks that need the model store, in report order.
STORE_CHECKS = ("store-files", "recompute", "evaluations")


def run_checks(
    context: AuditContext, rounds: Collection[int] | None = None
) -> tuple[tuple[CheckResult, ...], tuple[str, ...]]:
    """Every check that can run (``recompute`` only over ``rounds`` when given), and the checks not
    run, each with why."""
    results = [check(context) for check in checks.CHAIN_CHECKS]
    if context.store is None:
        return tuple(results), tuple(f"{name}: no model store given" for name in STORE_CHECKS)
    results += [store_files(context), recompute(context, rounds), checks.evaluations(context)]
    return tuple(results), ()


def build_report(
    context: AuditContext, from_round: int | None = None, to_round: int | None = None
) -> AuditReport:
    """The chain-of-custody report of rounds ``from_round`` to ``to_round`` (default: every round).
    The views cover the range; the checks cover the whole history, on which the range depends."""
    history = context.history
    numbers = sorted(history.rounds)
    first = from_round if from_round is not None else (numbers[0] if numbers else 0)
    last = to_round if to_round is not None else (numbers[-1] if numbers else 0)
    if first > last:
        raise AuditError(f"the range {first} to {last} is empty: give --from at most --to")
    in_range = [n for n in numbers if first <= n <= last]
    results, not_run = run_checks(context, in_range)
    symbol, decimals = context.source.token()
    return AuditReport(
        generated_at=int(time.time()),
        chain_id=context.source.chain_id,
        registry=context.source.registry_address,
        from_round=first,
        to_round=last,
        indexed_to_block=history.events[-1].block_number if history.events else 0,
        token_symbol=symbol,
        token_decimals=decimals,
        lineages=lineage_views(history),
        privacy_budget=current_budget(history),
        rounds=tuple(round_view(context, n) for n in in_range),
        members=tuple(member_view(context, m) for m in sorted(history.membership)),
        checks=results,
        not_run=not_run,
    )
