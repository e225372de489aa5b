"""Honest run histories for the audit tests: rounds driven by the coordinator's round service on
the session's real Anvil, with signed evaluations, a model store and a journal."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bcfl.audit.context import AuditContext
from bcfl.audit.source import ScanSource
from bcfl.chain.consortium import Consortium
from bcfl.chain.eip712 import EvaluationReport, sign_evaluation
from bcfl.models.canonical import document_hash
from bcfl.models.store import ModelStore
from coordinator.rounds.service import RoundService
from coordinator.rounds.state import RoundState
from coordinator.scoring import DEFAULT_RULE, ScoringRule
from tests.conftest import Actors
from tests.coordinator.test_round_service import CONFIG, GLOBAL, service_in, signed_updates


@dataclass(frozen=True)
class Run:
    consortium: Consortium
    run_dir: Path
    members: list[int]

    @property
    def store(self) -> ModelStore:
        return ModelStore(self.run_dir / "models")

    def audit(self, *, with_store: bool = True) -> AuditContext:
        return AuditContext.load(ScanSource(self.consortium), self.store if with_store else None)


def evaluations(
    service: RoundService, state: RoundState, actors: Actors, members: list[int]
) -> dict[str, Any]:
    """Each hospital's signed evaluation of the round's aggregate, as the coordinator records them."""
    assert state.aggregate is not None
    domain = service.domain()
    per_member = {}
    for index, (account, member_id) in enumerate(zip(actors.hospitals[:3], members, strict=True)):
        metrics: dict[str, float | int] = {"accuracy": 0.7 + index / 100, "num-examples": 20 + index}
        report = EvaluationReport(
            state.chain_round, state.aggregate.model_hash, document_hash(metrics), 20 + index
        )
        signature = sign_evaluation(account, domain, report)
        per_member[f"member {member_id}"] = {
            "metrics": metrics,
            "signer": account.address,
            "signature": "0x" + signature.hex(),
        }
    return {"aggregate": {"accuracy": 0.71}, "per_member": per_member, "rejected": []}


def trained_round(
    service: RoundService, actors: Actors, members: list[int], server_round: int, global_arrays: Any
) -> RoundState:
    """Round ``server_round`` opened and trained (registered, scored, aggregated), not finalized."""
    state = service.open(server_round, global_arrays, CONFIG)
    return service.train(
        state, signed_updates(service, state, actors.hospitals[:3], members, seed=10 * server_round)
    )


def honest_run(
    consortium: Consortium,
    actors: Actors,
    members: list[int],
    run_dir: Path,
    rounds: int = 3,
    rules: Mapping[int, ScoringRule] | None = None,
) -> Run:
    """``rounds`` honest rounds, each finalized with signed evaluations and paid; ``rules`` scores
    the rounds it names with another rule (a coordinator of another version)."""
    service = service_in(consortium, actors, run_dir)
    arrays: Any = GLOBAL
    for server_round in range(1, rounds + 1):
        service.rule = (rules or {}).get(server_round, DEFAULT_RULE)
        state = trained_round(service, actors, members, server_round, arrays)
        state = service.close(state, evaluations(service, state, actors, members))
        assert state.aggregate is not None
        arrays = state.aggregate.arrays
    return Run(consortium, run_dir, members)
