"""The page's charts as data: per round, the aggregate and per-hospital metrics (signed evaluations),
reputation with the exclusion threshold, contribution scores, exclusions, and payouts by hospital."""

from __future__ import annotations

from bcfl.audit.model import AuditReport, RoundView
from dashboard.api.schemas import ChartsOut, Series


def _label(member_id: int, names: dict[int, str]) -> str:
    name = names.get(member_id, "")
    return f"#{member_id} {name}" if name else f"#{member_id}"


def _per_member(
    rounds: list[RoundView], names: dict[int, str], value: dict[tuple[int, int], float]
) -> list[Series]:
    members = sorted({m for _, m in value})
    return [
        Series(label=_label(m, names), member_id=m, values=[value.get((r.round, m)) for r in rounds])
        for m in members
    ]


def charts(report: AuditReport, threshold_bps: int) -> ChartsOut:
    """Every chart's series over ``report``'s rounds; ``threshold_bps`` is the exclusion threshold."""
    rounds = list(report.rounds)
    names = {m.member_id: m.name for m in report.members}
    keys = sorted(
        {k for r in rounds for k in (r.aggregate_metrics or {})}
        | {k for r in rounds for e in r.evaluations for k in e.metrics}
    )
    metrics: dict[str, list[Series]] = {}
    for key in keys:
        overall = Series(
            label="all hospitals",
            member_id=None,
            values=[(r.aggregate_metrics or {}).get(key) for r in rounds],
        )
        signed = {
            (r.round, e.member_id): e.metrics[key] for r in rounds for e in r.evaluations if key in e.metrics
        }
        metrics[key] = [overall, *_per_member(rounds, names, signed)]
    reputation = {(r.round, s.member_id): float(s.reputation_after) for r in rounds for s in r.scores}
    scores = {(r.round, s.member_id): float(s.contribution) for r in rounds for s in r.scores}
    scale = 10**report.token_decimals
    paid: dict[tuple[int, int], float] = {}
    for r in rounds:
        for p in r.payouts:
            paid[(r.round, p.member_id)] = paid.get((r.round, p.member_id), 0.0) + int(p.amount) / scale
    excluded: dict[int, list[int]] = {}
    for r in rounds:
        for member_id in r.excluded:
            excluded.setdefault(member_id, []).append(r.round)
    return ChartsOut(
        rounds=[r.round for r in rounds],
        metrics=metrics,
        reputation=_per_member(rounds, names, reputation),
        threshold_bps=threshold_bps,
        scores=_per_member(rounds, names, scores),
        excluded=excluded,
        payouts=_per_member(rounds, names, paid),
        token_symbol=report.token_symbol,
    )
