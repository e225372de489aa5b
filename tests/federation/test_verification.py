"""The coordinator's checks on hospital replies, before any gas is spent (real chain, local messages)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from eth_account.signers.local import LocalAccount
from flwr.app import ConfigRecord, MetricRecord, RecordDict

from bcfl.chain.consortium import Consortium
from bcfl.chain.eip712 import (
    EvaluationReport,
    ModelUpdate,
    recover_evaluation_signer,
    sign_evaluation,
    sign_update,
)
from bcfl.models.canonical import document_hash, model_hash
from bcfl.models.records import to_record
from coordinator.verification import (
    Rejection,
    VerifiedEvaluation,
    VerifiedUpdate,
    check_evaluation,
    check_update,
    one_evaluation_per_member,
)
from hospital_node.client_app import proof_record
from tests.conftest import Actors

GLOBAL = b"\x11" * 32
ARRAYS = {"w": np.arange(4, dtype=np.float32)}


def reply(
    consortium: Consortium, actors: Actors, arrays: dict[str, np.ndarray] = ARRAYS, **overrides: object
) -> RecordDict:
    account = actors.hospitals[0]
    update = ModelUpdate(1, GLOBAL, model_hash(arrays), 10)
    signed = sign_update(account, consortium.ledger.domain(), update)
    proof: dict[str, bytes | str] = dict(proof_record(signed, account.address).items())  # type: ignore[arg-type]
    for key, value in overrides.items():
        if key != "drop":
            assert isinstance(value, bytes | str)
            proof[key.replace("_", "-")] = value
    content = RecordDict(
        {
            "arrays": to_record(arrays),
            "metrics": MetricRecord(
                {"num-examples": 10, "train-loss": 0.5, "train-seconds": 1.0, "global-test-accuracy": 0.7}
            ),
            "proof": ConfigRecord(dict(proof.items())),
        }
    )
    if overrides.get("drop"):
        del content[str(overrides["drop"])]
    return content


def check(consortium: Consortium, content: RecordDict) -> VerifiedUpdate | Rejection:
    return check_update(
        7,
        content,
        chain_round=1,
        global_hash=GLOBAL,
        reference=ARRAYS,
        domain=consortium.ledger.domain(),
        registry=consortium.registry,
    )


def test_a_good_reply_is_accepted_as_its_member(
    consortium: Consortium, actors: Actors, members: list[int]
) -> None:
    result = check(consortium, reply(consortium, actors))
    assert isinstance(result, VerifiedUpdate) and result.member_id == members[0]
    assert result.signer == actors.hospitals[0].address


def test_bad_replies_are_rejected_with_a_reason(
    consortium: Consortium, actors: Actors, members: list[int]
) -> None:
    cases = {
        "malformed reply": reply(consortium, actors, drop="proof"),
        "does not match the arrays": reply(consortium, actors, update_hash=b"\x00" * 32),
        "signature is not": reply(consortium, actors, signer=actors.hospitals[1].address),
        "names or order differ": reply(consortium, actors, {"v": ARRAYS["w"]}),
        "expected float32(4,)": reply(consortium, actors, {"w": np.arange(5, dtype=np.float32)}),
        "non-finite": reply(consortium, actors, {"w": np.array([0, np.nan, 1, 2], dtype=np.float32)}),
    }
    for reason, content in cases.items():
        result = check(consortium, content)
        assert isinstance(result, Rejection) and reason in result.reason, (reason, result)
    consortium.registry.suspend(actors.admin, members[0], "audit")
    result = check(consortium, reply(consortium, actors))
    assert isinstance(result, Rejection) and "not an active consortium member" in result.reason


AGGREGATED = b"\x22" * 32
EVALUATION = {"num-examples": 40, "loss": 0.4, "accuracy": 0.8, "auroc": 0.85}


def evaluation(
    consortium: Consortium,
    actors: Actors,
    metrics: dict[str, float | int] = EVALUATION,
    *,
    signed_metrics: dict[str, float | int] = EVALUATION,
    model: bytes = AGGREGATED,
    signer: str | None = None,
    account: LocalAccount | None = None,
) -> RecordDict:
    account = account or actors.hospitals[0]
    report = EvaluationReport(1, model, document_hash(signed_metrics), int(signed_metrics["num-examples"]))
    signature = sign_evaluation(account, consortium.ledger.domain(), report)
    proof: dict[str, bytes | str] = {
        "model-hash": model,
        "signature": signature,
        "signer": signer or account.address,
    }
    return RecordDict({"metrics": MetricRecord(dict(metrics)), "proof": ConfigRecord(dict(proof.items()))})


def check_eval(consortium: Consortium, content: RecordDict) -> VerifiedEvaluation | Rejection:
    return check_evaluation(
        7,
        content,
        chain_round=1,
        aggregated_hash=AGGREGATED,
        domain=consortium.ledger.domain(),
        registry=consortium.registry,
    )


def test_a_signed_evaluation_is_accepted_as_its_member(
    consortium: Consortium, actors: Actors, members: list[int]
) -> None:
    result = check_eval(consortium, evaluation(consortium, actors))
    assert isinstance(result, VerifiedEvaluation) and result.member_id == members[0]
    assert result.metrics == EVALUATION and result.signer == actors.hospitals[0].address
    # An auditor re-derives the signer from the recorded metrics and signature alone.
    report = EvaluationReport(1, AGGREGATED, document_hash(result.metrics), 40)
    assert recover_evaluation_signer(consortium.ledger.domain(), report, result.signature) == result.signer


def test_forged_or_misdirected_evaluations_are_rejected(
    consortium: Consortium, actors: Actors, members: list[int]
) -> None:
    inflated = {**EVALUATION, "accuracy": 0.99}
    cases = {
        "signature is not": evaluation(consortium, actors, inflated),  # metrics changed after signing
        "another model": evaluation(consortium, actors, model=b"\x33" * 32),
        "unexpected metrics": evaluation(consortium, actors, {**EVALUATION, "extra": 1.0}),
        "signature is not ": evaluation(consortium, actors, signer=actors.hospitals[1].address),
        "not an active consortium member": evaluation(consortium, actors, account=actors.outsider),
    }
    unsigned = evaluation(consortium, actors)
    del unsigned["proof"]
    cases["malformed evaluation"] = unsigned
    # Junk that recovers to no key at all, and an s in the upper half (the contract's EIP-2 rule):
    # refused, never raised.
    for reason, junk in (("cannot be recovered", b"\x00" * 64), ("in the upper half", b"\xff" * 64)):
        garbled = evaluation(consortium, actors)
        proof = garbled["proof"]
        assert isinstance(proof, ConfigRecord)
        proof["signature"] = junk
        cases[f"{reason} ({junk[:1].hex()})"] = garbled
    cases["non-finite"] = evaluation(consortium, actors, {**EVALUATION, "loss": float("nan")})
    empty = {**EVALUATION, "num-examples": 0}
    cases["claims 0 examples"] = evaluation(consortium, actors, empty, signed_metrics=empty)
    for case, content in cases.items():
        result = check_eval(consortium, content)
        reason = case.split(" (")[0]
        assert isinstance(result, Rejection) and reason in result.reason, (case, result)


def test_an_unrecoverable_update_signature_is_refused_not_raised(
    consortium: Consortium, actors: Actors
) -> None:
    result = check(consortium, reply(consortium, actors, signature=b"\x00" * 64))
    assert isinstance(result, Rejection) and "cannot be recovered" in result.reason
    high_s = check(consortium, reply(consortium, actors, signature=b"\xff" * 64))
    assert isinstance(high_s, Rejection) and "in the upper half" in high_s.reason


def test_a_member_s_second_evaluation_is_left_out(
    consortium: Consortium, actors: Actors, members: list[int]
) -> None:
    first = check_evaluation(
        1,
        evaluation(consortium, actors),
        chain_round=1,
        aggregated_hash=AGGREGATED,
        domain=consortium.ledger.domain(),
        registry=consortium.registry,
    )
    assert isinstance(first, VerifiedEvaluation)
    second = replace(first, node_id=2)
    forged = Rejection(3, "the evaluation's signature is not ...")
    verified, rejected = one_evaluation_per_member([first, forged, second])
    assert verified == [first]
    assert [r.node_id for r in rejected] == [3, 2]
    assert "second evaluation from the same member" in rejected[1].reason
