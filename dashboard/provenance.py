"""A model's provenance from a snapshot: what bcfl.audit.provenance tells ``bcfl audit verify-model``,
built from the snapshot's round views (taken once per ledger change) so a request reads no file and
computes no view."""

from __future__ import annotations

from bcfl.audit.model import RoundView
from bcfl.audit.provenance import lineage_rounds
from bcfl.audit.views import locate
from dashboard.api.schemas import HospitalInRound, LineageRound, ProvenanceOut, TokenOut
from dashboard.snapshot import Snapshot


def _lineage_round(view: RoundView) -> LineageRound:
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


def model_provenance(snapshot: Snapshot, digest: str) -> ProvenanceOut:
    """Where the chain registered ``digest`` and its lineage, newest round first, with the checks;
    bcfl.audit.provenance.NotRegisteredError if the chain never registered it."""
    report = snapshot.report
    history = snapshot.context.history
    digest = digest.lower()
    views = [snapshot.rounds[n] for n in lineage_rounds(snapshot.context, digest)]
    lineages = report.lineages
    lineage = (
        views[-1].lineage
        if views
        else next((s.lineage for s in lineages if s.model_hash.lower() == digest), None)
    )
    return ProvenanceOut(
        model_hash=digest,
        locations=list(locate(history, digest)),
        lineage_start=next((s for s in lineages if s.lineage == lineage), None),
        rounds=[_lineage_round(v) for v in views],
        token=TokenOut(symbol=report.token_symbol, decimals=report.token_decimals),
        checks=list(report.checks),
        not_run=list(report.not_run),
    )
