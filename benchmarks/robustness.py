"""The consortium's defences under attack, through the coordinator's own round service on a real chain.

Each scenario deploys a fresh consortium on the Anvil node it is given (dev account 0 the admin,
1 the coordinator, 2 to 9 the hospitals), and every round runs as the deployed coordinator runs it:
each hospital trains (or attacks), signs its update with its own key (EIP-712, as
``hospital_node.client_app`` does), the coordinator's verification checks the signed reply, and the
round service (:class:`coordinator.rounds.service.RoundService`) opens, registers, scores,
aggregates, finalizes and pays on chain. Only Flower's transport and federated evaluation are left
out (the round is finalized as in a run with ``fraction-evaluate = 0.0``); accuracy is measured here.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak
from flwr.app import MetricRecord, RecordDict

from bcfl.chain.client import ChainClient
from bcfl.chain.consortium import Consortium
from bcfl.chain.deploy import DEFAULT_PARAMETERS, deploy_consortium
from bcfl.chain.devkeys import dev_account
from bcfl.chain.eip712 import ModelUpdate, sign_update
from bcfl.learning.data.dataset import LocalDataset
from bcfl.learning.task import build_model, get_arrays, set_arrays, train
from bcfl.models.canonical import model_hash
from bcfl.models.records import to_record
from bcfl.models.store import ModelStore
from benchmarks.attacks import flip_labels, poison
from benchmarks.federated import TrainingPlan, mean_accuracy
from coordinator.aggregation import DEFAULT_AGGREGATION
from coordinator.journal import RunJournal
from coordinator.rounds.service import RoundService
from coordinator.rounds.state import RoundSettings, RoundState
from coordinator.verification import Rejection, VerifiedUpdate, check_update
from hospital_node.client_app import proof_record

Arrays = Mapping[str, np.ndarray]
#: Anvil's dev accounts in their roles (TEST ONLY keys): the admin, the coordinator, the hospitals.
ADMIN, COORDINATOR, FIRST_HOSPITAL, LAST_HOSPITAL = 0, 1, 2, 9
#: The run config's default (pyproject.toml): fewer valid updates than this and the round fails.
MIN_VALID_UPDATES = 2


@dataclass(frozen=True)
class Defence:
    """The consortium's settings (the deployment's defaults unless a scenario changes them)."""

    aggregation: str = DEFAULT_AGGREGATION
    num_malicious: int = 1
    use_reputation: bool = True
    initial_reputation: int = DEFAULT_PARAMETERS.initial_reputation
    smoothing: int = DEFAULT_PARAMETERS.smoothing
    exclusion_threshold: int = DEFAULT_PARAMETERS.exclusion_threshold
    #: Each round's budget, in whole reward tokens.
    budget: int = DEFAULT_PARAMETERS.round_budget // 10**18


@dataclass
class Outcome:
    """What a scenario did, round by round."""

    #: Mean accuracy over the honest hospitals' test sets, after each round.
    accuracy: list[float] = field(default_factory=list)
    scores: list[dict[str, int]] = field(default_factory=list)
    reputation: list[dict[str, int]] = field(default_factory=list)
    aggregated: list[list[str]] = field(default_factory=list)
    #: Reward tokens paid, in base units, by hospital.
    paid: dict[str, int] = field(default_factory=dict)

    def excluded_after(self, name: str) -> int | None:
        """The first round from which ``name`` was never aggregated again, or None."""
        rounds = len(self.aggregated)
        for start in range(1, rounds + 1):
            if all(name not in self.aggregated[r - 1] for r in range(start, rounds + 1)):
                return start
        return None

    def share(self, name: str) -> float:
        """``name``'s share of everything paid."""
        total = sum(self.paid.values())
        return self.paid.get(name, 0) / total if total else 0.0


#: The app the benchmark's rounds run: no Flower App here, so a label stands in for a FAB hash.
BENCHMARK_APP = keccak(text="bcfl robustness benchmark (RoundService without Flower)")


def deploy_scenario(
    chain: ChainClient, names: list[str], defence: Defence
) -> tuple[Consortium, dict[str, LocalAccount]]:
    """A fresh consortium with ``defence``'s parameters and one active member per hospital name."""
    if len(names) > LAST_HOSPITAL - FIRST_HOSPITAL + 1:
        raise ValueError(f"{len(names)} hospitals: Anvil's dev accounts give at most 8")
    parameters = DEFAULT_PARAMETERS.model_copy(
        update={
            "round_budget": defence.budget * 10**18,
            "initial_reputation": defence.initial_reputation,
            "smoothing": defence.smoothing,
            "exclusion_threshold": defence.exclusion_threshold if defence.use_reputation else 0,
            "mint_limit": 20 * defence.budget * 10**18,
        }
    )
    admin = dev_account(ADMIN)
    manifest = deploy_consortium(
        chain, admin, coordinator=dev_account(COORDINATOR).address, parameters=parameters
    )
    consortium = Consortium.connect(chain, manifest)
    hospitals = {name: dev_account(FIRST_HOSPITAL + i) for i, name in enumerate(names)}
    for name, account in hospitals.items():
        consortium.registry.approve(admin, consortium.registry.request_membership(account, name))
    consortium.ledger.approve_app(admin, BENCHMARK_APP)
    return consortium, hospitals


def signed_reply(
    service: RoundService, state: RoundState, account: LocalAccount, arrays: Arrays, examples: int
) -> RecordDict:
    """What a hospital sends back: its update, signed with its key over this round and global model."""
    update = ModelUpdate(state.chain_round, state.opened.global_hash, model_hash(arrays), examples)
    signed = sign_update(account, service.domain(), update)
    proof = proof_record(signed, account.address)
    metrics = MetricRecord(
        {"num-examples": examples, "train-loss": 0.0, "train-seconds": 0.0, "global-test-accuracy": 0.0}
    )
    return RecordDict({"arrays": to_record(arrays), "metrics": metrics, "proof": proof})


def _local_updates(
    centres: Mapping[str, LocalDataset],
    attackers: Mapping[str, str],
    global_arrays: Arrays,
    plan: TrainingPlan,
    seed: int,
    round_number: int,
    rng: np.random.Generator,
    first: dict[str, Arrays],
) -> dict[str, Arrays]:
    """Each hospital's update of this round: honest training, or its attack (``first`` keeps each
    hospital's first update, which a replay sends again)."""
    spec = next(iter(centres.values())).spec
    updates: dict[str, Arrays] = {}
    for name in sorted(centres):
        local = build_model(spec)
        set_arrays(local, dict(global_arrays))
        attack = attackers.get(name)
        data = centres[name].train
        if attack == "free-ride":
            honest: Arrays = global_arrays
        else:
            examples = flip_labels(data, spec.num_classes) if attack == "label-flip" else data
            train(local, examples, epochs=plan.local_epochs, lr=plan.learning_rate,
                  batch_size=plan.batch_size, seed=seed + round_number)  # fmt: skip
            honest = get_arrays(local)
        updates[name] = (
            poison(attack, global_arrays, honest, rng=rng, previous=first.get(name)) if attack else honest
        )
        first.setdefault(name, updates[name])
    return updates


def simulate(
    chain: ChainClient,
    centres: Mapping[str, LocalDataset],
    attackers: Mapping[str, str],
    defence: Defence,
    plan: TrainingPlan,
    seed: int = 0,
) -> Outcome:
    """Run ``plan.rounds`` rounds with ``attackers`` (hospital name -> attack) on a fresh consortium."""
    with tempfile.TemporaryDirectory(prefix="bcfl-robustness-") as folder:
        return run_scenario(Path(folder), chain, centres, attackers, defence, plan, seed)[1]


def run_scenario(
    folder: Path,
    chain: ChainClient,
    centres: Mapping[str, LocalDataset],
    attackers: Mapping[str, str],
    defence: Defence,
    plan: TrainingPlan,
    seed: int = 0,
) -> tuple[Consortium, Outcome]:
    """:func:`simulate`, keeping the coordinator's model store (``folder/models``) and journal
    (``folder/rounds.json``) for an audit; the scenario's consortium and what it did."""
    spec = next(iter(centres.values())).spec
    model = build_model(spec, seed=seed)
    names = sorted(centres)
    consortium, hospitals = deploy_scenario(chain, names, defence)
    consortium.ledger.start_lineage(
        dev_account(ADMIN), model_hash(get_arrays(model)), f"robustness benchmark, seed {seed}"
    )
    by_member = {consortium.registry.active_member_id_of(hospitals[n].address): n for n in names}
    honest_sites = {n: centres[n] for n in names if n not in attackers}
    outcome = Outcome(paid=dict.fromkeys(names, 0))
    rng = np.random.default_rng(seed)
    first: dict[str, Arrays] = {}
    config = {"local-epochs": plan.local_epochs, "learning-rate": plan.learning_rate,
              "batch-size": plan.batch_size, "seed": seed}  # fmt: skip
    service = RoundService(
        consortium,
        dev_account(COORDINATOR),
        ModelStore(folder / "models"),
        RunJournal(folder / "rounds.json"),
        RoundSettings(MIN_VALID_UPDATES, defence.aggregation, defence.num_malicious, BENCHMARK_APP),
    )
    for round_number in range(1, plan.rounds + 1):
        global_arrays = get_arrays(model)
        state = service.open(round_number, global_arrays, config)
        updates = _local_updates(centres, attackers, global_arrays, plan, seed, round_number, rng, first)
        checked: list[VerifiedUpdate | Rejection] = [
            check_update(
                node_id,
                signed_reply(service, state, hospitals[name], updates[name], len(centres[name].train)),
                chain_round=state.chain_round,
                global_hash=state.opened.global_hash,
                reference=global_arrays,
                domain=service.domain(),
                registry=consortium.registry,
            )
            for node_id, name in enumerate(names, start=1)
        ]
        state = service.close(service.train(state, checked))
        assert state.assessment is not None and state.aggregate is not None
        set_arrays(model, {k: np.asarray(v, np.float32) for k, v in state.aggregate.arrays.items()})
        for payment in consortium.distributor.payments(round_number=state.chain_round):
            outcome.paid[by_member[payment.member_id]] += payment.amount
        outcome.accuracy.append(mean_accuracy(model, honest_sites))
        outcome.scores.append({by_member[m]: c.score_bps for m, c in state.assessment.scores.items()})
        outcome.reputation.append({by_member[m]: r for m, r in state.assessment.reputation_after.items()})
        outcome.aggregated.append([by_member[u.member_id] for u in state.aggregate.participants])
    return consortium, outcome
