"""A model's provenance: where the chain registered it and its lineage back to the lineage's start,
per round the hospitals whose signed updates went in, their scores and payouts. What ``bcfl audit
verify-model`` prints and the dashboard's provenance box shows."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from bcfl.audit.context import AuditContext, AuditError
from bcfl.audit.history import History
from bcfl.audit.model import CheckResult, ModelLocation
from bcfl.audit.report import run_checks
from bcfl.audit.views import lineage_back, lineage_views, locate, round_view
from bcfl.models.canonical import CanonicalFormatError, from_bytes, model_hash

HASH = re.compile(r"^0x[0-9a-fA-F]{64}$")


class NotRegisteredError(LookupError):
    """The chain never registered the model."""


def file_hash(blob: bytes, name: str) -> str:
    """The 0x hash of a model file's canonical arrays; AuditError, in one line, if it is none."""
    try:
        return "0x" + model_hash(from_bytes(blob)).hex()
    except CanonicalFormatError as exc:
        raise AuditError(
            f"{name} is not a model file ({exc}): give a .bcfl model from the run's store"
        ) from None


def lineage_rounds(context: AuditContext, digest: str) -> list[int]:
    """The rounds that made the model ``digest``, newest first (NotRegisteredError if none did)."""
    return lineage_of(context.history, digest, locate(context.history, digest))


def lineage_of(history: History, digest: str, locations: Sequence[ModelLocation]) -> list[int]:
    """:func:`lineage_rounds` from ``digest``'s places on chain, already located."""
    if not locations:
        raise NotRegisteredError(
            f"model {digest} was never registered on this chain: its provenance is unknown"
        )
    last = max(
        (loc for loc in locations if loc.round is not None), key=lambda loc: loc.round or 0, default=None
    )
    if last is None:
        return []
    if last.role == "global":
        return lineage_back(history, history.rounds[last.round or 0].parent)
    return lineage_back(history, last.round or 0)


def provenance(
    context: AuditContext, digest: str, checks: Sequence[CheckResult], not_run: Sequence[str]
) -> dict[str, Any]:
    """Where ``digest`` was registered and its lineage (newest round first), with ``checks``."""
    history = context.history
    digest = digest.lower()
    rounds = lineage_rounds(context, digest)
    views = [round_view(context, n) for n in rounds]
    lineage_number = (
        views[-1].lineage
        if views
        else next((s.lineage for s in lineage_views(history) if s.model_hash.lower() == digest), None)
    )
    start = next((s for s in lineage_views(history) if s.lineage == lineage_number), None)
    symbol, decimals = context.source.token()
    return {
        "model_hash": digest,
        "locations": [loc.model_dump(mode="json") for loc in locate(history, digest)],
        "lineage_start": start.model_dump(mode="json") if start else None,
        "rounds": [
            {
                "round": v.round,
                "global_model_hash": v.global_model_hash,
                "aggregated_model_hash": v.aggregated_model_hash,
                "hospitals": [
                    {
                        "member_id": u.member_id,
                        "name": u.member_name,
                        "signature_valid": u.signature_valid,
                        "aggregated": any(p.member_id == u.member_id for p in v.participants),
                        "score": next((s.contribution for s in v.scores if s.member_id == u.member_id), None),
                        "paid": next((p.amount for p in v.payouts if p.member_id == u.member_id), "0"),
                    }
                    for u in v.updates
                ],
            }
            for v in views
        ],
        "token": {"symbol": symbol, "decimals": decimals},
        "checks": [c.model_dump(mode="json") for c in checks],
        "not_run": list(not_run),
    }


def verify_model(context: AuditContext, digest: str) -> dict[str, Any]:
    """What ``bcfl audit verify-model`` shows: the provenance, with every check run over the
    model's lineage (``recompute`` only over its rounds)."""
    checks, not_run = run_checks(context, lineage_rounds(context, digest))
    return provenance(context, digest, checks, not_run)
