"""A round's signed evaluations: its metrics record (the evaluation document, in the model store
under the ``metricsHash`` the round was finalized with), each member's signature recovered and
compared with that member's key at finalization."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bcfl.audit.history import ACTIVE, History, RoundHistory, position
from bcfl.audit.model import EvaluationView
from bcfl.chain.eip712 import EvaluationReport, LedgerDomain, recover_evaluation_signer
from bcfl.models.canonical import document_hash
from bcfl.models.store import ModelStore, ModelStoreError


@dataclass(frozen=True)
class RoundEvaluations:
    views: tuple[EvaluationView, ...]
    aggregate: dict[str, float] | None
    problems: tuple[str, ...]


def round_evaluations(
    domain: LedgerDomain, history: History, store: ModelStore, chain_round: RoundHistory
) -> RoundEvaluations:
    """The round's evaluations and every problem with them (nothing before finalization)."""
    final = chain_round.finalized
    if final is None:
        return RoundEvaluations((), None, ())
    where = f"round {chain_round.number}"
    metrics_hash = str(final.args["metricsHash"])
    try:
        document = store.get_document(bytes.fromhex(metrics_hash[2:]))
    except ModelStoreError as exc:
        return RoundEvaluations((), None, (f"{where}: metrics record {metrics_hash}: {exc}",))
    views: list[EvaluationView] = []
    problems: list[str] = []
    model = bytes.fromhex(str(final.args["aggregatedModelHash"])[2:])
    for key, signed in sorted(dict(document.get("per_member", {})).items()):
        view, problem = _one(domain, history, chain_round, model, key, signed, position(final))
        if view is not None:
            views.append(view)
        if problem:
            problems.append(f"{where}: evaluation of {key}: {problem}")
    aggregate = document.get("aggregate")
    return RoundEvaluations(
        tuple(views), dict(aggregate) if isinstance(aggregate, dict) else None, tuple(problems)
    )


def _one(
    domain: LedgerDomain,
    history: History,
    chain_round: RoundHistory,
    model: bytes,
    key: str,
    signed: Any,
    at: tuple[int, int],
) -> tuple[EvaluationView | None, str]:
    try:
        member_id = int(key.removeprefix("member "))
        metrics: Mapping[str, Any] = signed["metrics"]
        claimed = str(signed["signer"])
        signature = bytes.fromhex(str(signed["signature"]).removeprefix("0x"))
        report = EvaluationReport(
            chain_round.number, model, document_hash(dict(metrics)), int(metrics["num-examples"])
        )
        signer = str(recover_evaluation_signer(domain, report, signature))
    except (KeyError, TypeError, ValueError) as exc:
        return None, f"malformed or unrecoverable ({exc})"
    state = history.member_at(member_id, at)
    problem = ""
    if signer != claimed:
        problem = f"the signature recovers to {signer}, not the listed signer {claimed}"
    elif state is None or state.signer != signer:
        problem = f"signed by {signer}, not member {member_id}'s key at finalization"
    elif state.status != ACTIVE:
        problem = f"signed by {signer}, whose member was {state.status} at finalization"
    view = EvaluationView(
        member_id=member_id,
        signer=signer,
        metrics={k: float(v) for k, v in metrics.items() if isinstance(v, int | float)},
        signature_valid=not problem,
    )
    return view, problem
