"""The answers of a snapshot that do not depend on the request, serialized once, in the snapshot
thread: the rounds' list, the charts, the checks, each model's places on chain and each round's entry
in a lineage. A request for them copies bytes or slices a list: with a long history (2,000 rounds,
100,000 events) building and serializing them per request took up to seconds."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pydantic import TypeAdapter

from bcfl.audit.history import History
from bcfl.audit.model import AuditReport, CheckResult, ModelLocation, RoundView
from bcfl.audit.views import locations_by_hash
from dashboard.api.schemas import ChecksOut, HospitalInRound, LineageRound, RoundSummary
from dashboard.charts import charts

_ROUNDS = TypeAdapter(list[RoundSummary])
_CHECKS = TypeAdapter(list[CheckResult])


@dataclass(frozen=True)
class Rendered:
    """JSON bodies and lookups of one snapshot (never changed once built)."""

    rounds: bytes
    charts: bytes
    checks: bytes
    #: The ``checks`` list alone, for the provenance answers (which carry it too).
    check_list: bytes
    #: Every registered model hash (lowercase) to its places on chain, in chain order.
    locations: Mapping[str, Sequence[ModelLocation]]
    #: Each round's entry in a model's lineage.
    lineage: Mapping[int, LineageRound]


def round_summary(view: RoundView) -> RoundSummary:
    metrics = view.aggregate_metrics or {}
    return RoundSummary(
        round=view.round,
        status=view.status,
        lineage=view.lineage,
        parent_round=view.parent_round,
        global_model_hash=view.global_model_hash,
        aggregated_model_hash=view.aggregated_model_hash,
        opened_at=view.opened_at,
        updates=len(view.updates),
        excluded=list(view.excluded),
        participants=len(view.participants),
        accuracy=metrics.get("accuracy"),
        auroc=metrics.get("auroc"),
        total_paid=view.total_paid,
    )


def lineage_round(view: RoundView) -> LineageRound:
    """The round as a model's lineage shows it: its models and each update's hospital, signature,
    whether it was aggregated, its score and payout."""
    scores: dict[int, int] = {}
    for score in view.scores:
        scores.setdefault(score.member_id, score.contribution)
    paid: dict[int, str] = {}
    for payout in view.payouts:
        paid.setdefault(payout.member_id, payout.amount)
    aggregated = {p.member_id for p in view.participants}
    return LineageRound(
        round=view.round,
        global_model_hash=view.global_model_hash,
        aggregated_model_hash=view.aggregated_model_hash,
        hospitals=[
            HospitalInRound(
                member_id=u.member_id,
                name=u.member_name,
                signature_valid=u.signature_valid,
                aggregated=u.member_id in aggregated,
                score=scores.get(u.member_id),
                paid=paid.get(u.member_id, "0"),
            )
            for u in view.updates
        ],
    )


def render(report: AuditReport, block: int, threshold_bps: int, history: History) -> Rendered:
    """Serialize ``report``'s (taken at ``block``) request-independent answers."""
    checks = ChecksOut(
        block=block,
        verdict=report.verdict,
        clean=report.clean,
        checks=list(report.checks),
        not_run=list(report.not_run),
    )
    return Rendered(
        rounds=_ROUNDS.dump_json([round_summary(v) for v in report.rounds]),
        charts=charts(report, threshold_bps).model_dump_json().encode(),
        checks=checks.model_dump_json().encode(),
        check_list=_CHECKS.dump_json(list(report.checks)),
        locations=locations_by_hash(history),
        lineage={v.round: lineage_round(v) for v in report.rounds},
    )
