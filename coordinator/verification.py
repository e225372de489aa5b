"""Check every hospital reply before any gas is spent or any number is recorded: hash, signature,
membership."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import TypeVar

import numpy as np
from flwr.app import Message, RecordDict

from bcfl.chain.eip712 import (
    EvaluationReport,
    LedgerDomain,
    ModelUpdate,
    SignedModelUpdate,
    from_compact,
    recover_evaluation_signer,
    recover_signer,
)
from bcfl.chain.registry import Registry
from bcfl.models.canonical import document_hash, model_hash
from bcfl.models.records import (
    RecordFormatError,
    array_record,
    config_record,
    from_record,
    get_bytes,
    get_int,
    get_str,
    get_uint64,
    metric_record,
)
from bcfl.text import printable


@dataclass(frozen=True)
class VerifiedUpdate:
    """A reply whose update is signed by an active member's key over exactly these arrays."""

    node_id: int
    member_id: int
    signer: str
    signed: SignedModelUpdate
    arrays: dict[str, np.ndarray]
    reply: Message | None = None


REASON_LIMIT = 300


@dataclass(frozen=True)
class Rejection:
    """A reply left out of the round, and why."""

    node_id: int
    reason: str
    signer: str = ""

    def __post_init__(self) -> None:
        # Reasons quote the hospital's own words (its error, its malformed values): keep them printable.
        object.__setattr__(self, "reason", printable(self.reason, REASON_LIMIT))


Checked = TypeVar("Checked", "VerifiedUpdate", "VerifiedEvaluation")


def _checked(reply: Message, check: Callable[[int, RecordDict], Checked | Rejection]) -> Checked | Rejection:
    """``check`` on the reply's content, unless the hospital replied with an error; keeps the reply."""
    node_id = reply.metadata.src_node_id
    if reply.has_error():
        return Rejection(node_id, f"the hospital replied with an error: {reply.error.reason}")
    result = check(node_id, reply.content)
    return result if isinstance(result, Rejection) else replace(result, reply=reply)


#: What a hospital's training reply holds: exactly these records and metrics.
REPLY_RECORDS = {"arrays", "metrics", "proof"}
REPLY_METRICS = {"num-examples", "train-loss", "train-seconds", "global-test-accuracy"}
#: What a hospital's evaluation reply holds.
EVALUATION_RECORDS = {"metrics", "proof"}
EVALUATION_METRICS = {"num-examples", "loss", "accuracy", "auroc"}


@dataclass(frozen=True)
class VerifiedEvaluation:
    """An evaluation signed by an active member's key, about the round's aggregated model."""

    node_id: int
    member_id: int
    signer: str
    metrics: dict[str, float | int]
    signature: bytes
    reply: Message | None = None


def verify_evaluation(
    reply: Message,
    *,
    chain_round: int,
    aggregated_hash: bytes,
    domain: LedgerDomain,
    registry: Registry,
) -> VerifiedEvaluation | Rejection:
    """Accept an evaluation reply only if it is signed by an active member over these metrics, for
    this round and the model the coordinator sent."""
    return _checked(
        reply,
        lambda node_id, content: check_evaluation(
            node_id,
            content,
            chain_round=chain_round,
            aggregated_hash=aggregated_hash,
            domain=domain,
            registry=registry,
        ),
    )


def one_evaluation_per_member(
    results: Iterable[VerifiedEvaluation | Rejection],
) -> tuple[list[VerifiedEvaluation], list[Rejection]]:
    """The first verified evaluation of each member, and every rejection (a member's later
    evaluations included): one member must not weigh twice in the round's accuracy."""
    verified: list[VerifiedEvaluation] = []
    rejected: list[Rejection] = []
    for result in results:
        if isinstance(result, Rejection):
            rejected.append(result)
        elif any(v.member_id == result.member_id for v in verified):
            reason = "a second evaluation from the same member"
            rejected.append(Rejection(result.node_id, reason, result.signer))
        else:
            verified.append(result)
    return verified, rejected


def check_evaluation(
    node_id: int,
    content: RecordDict,
    *,
    chain_round: int,
    aggregated_hash: bytes,
    domain: LedgerDomain,
    registry: Registry,
) -> VerifiedEvaluation | Rejection:
    """The checks of :func:`verify_evaluation` on a reply's content."""
    if set(content.keys()) != EVALUATION_RECORDS:
        return Rejection(
            node_id,
            f"malformed evaluation: records {sorted(content.keys())}, expected {sorted(EVALUATION_RECORDS)}",
        )
    try:
        proof = config_record(content, "proof")
        evaluated, signature = get_bytes(proof, "model-hash"), get_bytes(proof, "signature")
        claimed = get_str(proof, "signer")
        record = metric_record(content, "metrics")
        examples = get_int(record, "num-examples")
    except (RecordFormatError, ValueError) as exc:
        return Rejection(node_id, f"malformed evaluation: {exc}")
    metrics = {k: v for k, v in record.items() if isinstance(v, int | float) and math.isfinite(v)}
    if set(record) != EVALUATION_METRICS or len(metrics) != len(record):
        return Rejection(node_id, "malformed evaluation: unexpected metrics, or non-finite values", claimed)
    if not 0 < examples < 2**64:
        return Rejection(node_id, f"the evaluation claims {examples} examples", claimed)
    if evaluated != aggregated_hash:
        return Rejection(node_id, "the evaluation is of another model than the round's aggregate", claimed)
    report = EvaluationReport(chain_round, evaluated, document_hash(metrics), examples)
    try:
        signer = recover_evaluation_signer(domain, report, signature)
    except ValueError as exc:
        return Rejection(node_id, f"malformed evaluation: {exc}", claimed)
    if signer != claimed:
        return Rejection(
            node_id, f"the evaluation's signature is not {claimed}'s (it recovers to {signer})", claimed
        )
    member_id = registry.active_member_id_of(signer)
    if member_id == 0:
        return Rejection(node_id, f"{signer} is not an active consortium member", claimed)
    return VerifiedEvaluation(node_id, member_id, signer, metrics, signature)


def verify_reply(
    reply: Message,
    *,
    chain_round: int,
    global_hash: bytes,
    reference: Mapping[str, np.ndarray],
    domain: LedgerDomain,
    registry: Registry,
) -> VerifiedUpdate | Rejection:
    """Accept a reply only if its arrays, hash, signature and signer all check out."""
    return _checked(
        reply,
        lambda node_id, content: check_update(
            node_id,
            content,
            chain_round=chain_round,
            global_hash=global_hash,
            reference=reference,
            domain=domain,
            registry=registry,
        ),
    )


def check_update(
    node_id: int,
    content: RecordDict,
    *,
    chain_round: int,
    global_hash: bytes,
    reference: Mapping[str, np.ndarray],
    domain: LedgerDomain,
    registry: Registry,
) -> VerifiedUpdate | Rejection:
    """The checks of :func:`verify_reply` on a reply's content.

    Besides hash, signature and membership, the update must have the global model's exact
    structure (names, order, shapes, dtypes) and finite values, and the reply exactly the expected
    records: a signed but malformed update must not reach the chain or break aggregation.
    """
    if set(content.keys()) != REPLY_RECORDS:
        return Rejection(
            node_id, f"malformed reply: records {sorted(content.keys())}, expected {sorted(REPLY_RECORDS)}"
        )
    try:
        arrays = from_record(array_record(content, "arrays"))
        proof = config_record(content, "proof")
        update_hash, signature = get_bytes(proof, "update-hash"), get_bytes(proof, "signature")
        claimed = get_str(proof, "signer")
        examples = get_int(metric_record(content, "metrics"), "num-examples")
        epsilon, delta = get_uint64(proof, "epsilon-spent"), get_uint64(proof, "delta-spent")
        update = ModelUpdate(chain_round, global_hash, update_hash, examples, epsilon, delta)
        signed = from_compact(update, signature)
    except (RecordFormatError, ValueError) as exc:
        return Rejection(node_id, f"malformed reply: {exc}")
    if set(metric_record(content, "metrics").keys()) != REPLY_METRICS:
        return Rejection(node_id, "malformed reply: unexpected metrics", claimed)
    problem = structure_problem(arrays, reference)
    if problem:
        return Rejection(node_id, f"malformed update: {problem}", claimed)
    if model_hash(arrays) != update_hash:
        return Rejection(node_id, "the update hash does not match the arrays sent", claimed)
    if examples <= 0:
        return Rejection(node_id, "the update claims no training examples", claimed)
    try:
        signer = recover_signer(domain, signed)
    except ValueError as exc:
        return Rejection(node_id, f"malformed reply: {exc}", claimed)
    if signer != claimed:
        return Rejection(node_id, f"the signature is not {claimed}'s (it recovers to {signer})", claimed)
    member_id = registry.active_member_id_of(signer)
    if member_id == 0:
        return Rejection(node_id, f"{signer} is not an active consortium member", claimed)
    return VerifiedUpdate(node_id, member_id, signer, signed, arrays)


def structure_problem(arrays: Mapping[str, np.ndarray], reference: Mapping[str, np.ndarray]) -> str:
    """Why ``arrays`` cannot be averaged with the global model (empty if they can)."""
    if list(arrays) != list(reference):
        return "its arrays are not the global model's (names or order differ)"
    for name, array in arrays.items():
        expected = reference[name]
        if array.shape != expected.shape or array.dtype != expected.dtype:
            return f"array {name!r} is {array.dtype}{array.shape}, expected {expected.dtype}{expected.shape}"
        if array.dtype.kind in "fc" and not np.isfinite(array).all():
            return f"array {name!r} has non-finite values"
    return ""
