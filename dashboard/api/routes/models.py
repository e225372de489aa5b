"""A model's provenance, by hash or by the model file itself (hashed here, never stored)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, HTTPException, Path, UploadFile

from bcfl.audit.context import AuditError
from bcfl.audit.provenance import NotRegisteredError, file_hash, provenance
from dashboard.api.deps import SnapshotDep
from dashboard.api.schemas import ProvenanceOut
from dashboard.snapshot import Snapshot

router = APIRouter(prefix="/models", tags=["models"])

#: The largest model file the dashboard hashes (the demo's models are a few hundred kB).
MAX_MODEL_BYTES = 64 * 1024 * 1024
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "The chain never registered the model"}}


def _provenance(snapshot: Snapshot, digest: str) -> ProvenanceOut:
    report = snapshot.report
    try:
        return ProvenanceOut.model_validate(
            provenance(snapshot.context, digest, report.checks, report.not_run)
        )
    except NotRegisteredError as exc:
        raise HTTPException(404, str(exc)) from None


@router.get("/{model_hash}", responses=NOT_FOUND)
def model_provenance(
    model_hash: Annotated[str, Path(pattern=r"^0x[0-9a-fA-F]{64}$", description="The model's 0x hash.")],
    snapshot: SnapshotDep,
) -> ProvenanceOut:
    """Where the chain registered the model and its lineage back to the lineage's start (newest
    round first: hospitals, signatures, scores, payouts), with the audit's checks."""
    return _provenance(snapshot, model_hash)


@router.post("/verify", responses={**NOT_FOUND, 400: {"description": "Not a model file"}})
async def verify_model_file(
    file: Annotated[UploadFile, File(description="A .bcfl model file.")], snapshot: SnapshotDep
) -> ProvenanceOut:
    """Hash a model file (kept in memory only) and return its provenance."""
    blob = await file.read(MAX_MODEL_BYTES + 1)
    if len(blob) > MAX_MODEL_BYTES:
        raise HTTPException(
            413, f"the file is over {MAX_MODEL_BYTES // 2**20} MiB: no model here is that large"
        )
    try:
        digest = file_hash(blob, "the file")
    except AuditError as exc:
        raise HTTPException(400, str(exc)) from None
    return _provenance(snapshot, digest)
