"""A model's provenance, by hash or by the model file itself (hashed here, never stored)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, HTTPException, Path, Query, UploadFile
from fastapi.responses import Response

from bcfl.audit.context import AuditError
from bcfl.audit.provenance import NotRegisteredError, file_hash
from dashboard.api.deps import SnapshotDep
from dashboard.api.errors import UNAVAILABLE, Responses, problem
from dashboard.api.schemas import ProvenanceOut
from dashboard.limits import MAX_UPLOAD_BYTES
from dashboard.provenance import DEFAULT_ROUNDS, MAX_ROUNDS, model_provenance
from dashboard.snapshot import Snapshot

router = APIRouter(prefix="/models", tags=["models"], responses=UNAVAILABLE)

NOT_FOUND: Responses = {404: problem("The chain never registered the model")}
Limit = Annotated[int, Query(ge=1, le=MAX_ROUNDS, description="Lineage rounds in this answer, newest first.")]
Before = Annotated[
    int | None,
    Query(ge=1, le=2**63 - 1, description="Only lineage rounds older than this one (`next_before`)."),
]


def _provenance(snapshot: Snapshot, digest: str, limit: int, before: int | None) -> Response:
    try:
        body = model_provenance(snapshot, digest, limit, before)
    except NotRegisteredError as exc:
        raise HTTPException(404, str(exc)) from None
    return Response(body, media_type="application/json")


@router.get("/{model_hash}", responses=NOT_FOUND, response_model=ProvenanceOut)
async def get_model_provenance(
    model_hash: Annotated[str, Path(pattern=r"^0x[0-9a-fA-F]{64}$", description="The model's 0x hash.")],
    snapshot: SnapshotDep,
    limit: Limit = DEFAULT_ROUNDS,
    before: Before = None,
) -> Response:
    """Where the chain registered the model and its lineage back to the lineage's start (newest
    round first: hospitals, signatures, scores, payouts; ``limit`` rounds a page, older pages by
    ``before``), with the audit's checks."""
    return _provenance(snapshot, model_hash, limit, before)


@router.post(
    "/verify",
    responses={
        **NOT_FOUND,
        400: problem("Not a model file"),
        411: problem("The upload does not say its length"),
        413: problem(f"The upload is over {MAX_UPLOAD_BYTES // 2**20} MiB"),
    },
    response_model=ProvenanceOut,
)
async def verify_model_file(
    file: Annotated[UploadFile, File(description="A .bcfl model file.")],
    snapshot: SnapshotDep,
    limit: Limit = DEFAULT_ROUNDS,
) -> Response:
    """Hash a model file (kept in memory only) and return its provenance."""
    blob = await file.read(MAX_UPLOAD_BYTES + 1)
    if len(blob) > MAX_UPLOAD_BYTES:
        raise HTTPException(
            413, f"the file is over {MAX_UPLOAD_BYTES // 2**20} MiB: no model here is that large"
        )
    try:
        digest = file_hash(blob, "the file")
    except AuditError as exc:
        raise HTTPException(400, str(exc)) from None
    return _provenance(snapshot, digest, limit, None)
