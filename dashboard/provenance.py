"""A model's provenance from a snapshot: what bcfl.audit.provenance tells ``bcfl audit verify-model``,
a page of its lineage at a time (newest round first), built from what the snapshot rendered once
(dashboard.rendered) so that a request reads no file and builds no view."""

from __future__ import annotations

from bcfl.audit.provenance import lineage_of
from dashboard.api.schemas import ProvenanceOut, TokenOut
from dashboard.snapshot import Snapshot

#: Lineage rounds per answer by default, and at most (a lineage can be thousands of rounds long).
DEFAULT_ROUNDS = 100
MAX_ROUNDS = 1_000


def model_provenance(snapshot: Snapshot, digest: str, limit: int, before: int | None) -> bytes:
    """The JSON of ProvenanceOut for ``digest``: where the chain registered it, and the ``limit``
    newest rounds of its lineage older than round ``before`` (all if None), with the checks;
    bcfl.audit.provenance.NotRegisteredError if the chain never registered it."""
    report, rendered = snapshot.report, snapshot.rendered
    history = snapshot.context.history
    digest = digest.lower()
    locations = rendered.locations.get(digest, ())
    rounds = lineage_of(history, digest, locations)
    lineage = (
        history.rounds[rounds[-1]].lineage
        if rounds
        else next((s.lineage for s in report.lineages if s.model_hash.lower() == digest), None)
    )
    newer = [n for n in rounds if before is None or n < before]
    shown, older = newer[:limit], newer[limit:]
    older_model = history.rounds[older[0]].aggregated_hash if older else None
    body = ProvenanceOut(
        model_hash=digest,
        locations=list(locations),
        lineage_start=next((s for s in report.lineages if s.lineage == lineage), None),
        lineage_rounds=len(rounds),
        rounds=[rendered.lineage[n] for n in shown],
        older_rounds=len(older),
        next_before=shown[-1] if older else None,
        older_model_hash=older_model,
        token=TokenOut(symbol=report.token_symbol, decimals=report.token_decimals),
        checks=[],
        not_run=list(report.not_run),
    ).model_dump_json(exclude={"checks"})
    # The checks, serialized once per snapshot, spliced in (they are the same for every model).
    return body.encode()[:-1] + b',"checks":' + rendered.check_list + b"}"
