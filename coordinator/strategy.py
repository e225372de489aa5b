"""FedAvg that records every round on the ledger: open, verify, register, aggregate, finalize."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from typing import Any

import numpy as np
from eth_account.signers.local import LocalAccount
from flwr.app import Array, ArrayRecord, ConfigRecord, Message, MetricRecord
from flwr.serverapp import Grid
from flwr.serverapp.strategy import FedAvg

from bcfl.chain.consortium import Consortium
from bcfl.chain.ledger import Ledger, RoundStatus
from bcfl.models.canonical import document_hash
from bcfl.models.records import from_record
from bcfl.models.store import ModelStore
from coordinator.aggregation import DEFAULT_AGGREGATION, flower_strategy, reputation_weighted
from coordinator.assessment import Assessment, Submission, assess_round
from coordinator.errors import CoordinatorError
from coordinator.incentives import split_budget
from coordinator.journal import RunJournal, hexed
from coordinator.scoring import DEFAULT_RULE, ScoringRule
from coordinator.verification import (
    Rejection,
    VerifiedUpdate,
    one_evaluation_per_member,
    verify_evaluation,
    verify_reply,
)

logger = logging.getLogger(__name__)


def open_or_resume_round(
    ledger: Ledger, coordinator: LocalAccount, global_hash: bytes, config_hash: bytes
) -> int:
    """The chain round for ``global_hash``: the open one if it already carries this model (a coordinator
    restarted mid-round resumes it), else a new one. A round left open with another model is an error."""
    latest = ledger.round_count()
    current = ledger.get_round(latest) if latest else None
    if current is not None and current.status is RoundStatus.OPEN:
        if current.global_model_hash == global_hash:
            logger.info("resuming open round %d on chain", latest)
            return latest
        raise CoordinatorError(
            f"round {latest} is open on chain with global model 0x{current.global_model_hash.hex()}, "
            f"not this run's 0x{global_hash.hex()}: restart from the model store's copy to finish it"
        )
    return ledger.open_round(coordinator, global_hash, config_hash)


class LedgerFedAvg(FedAvg):
    """Flower's FedAvg over verified, on-chain-registered updates only.

    Identity comes from each reply's signature and the membership registry, never from Flower's
    node ids. Rounds on chain are numbered by the ledger; a coordinator restarted on an open round
    whose global model it holds resumes that round instead of opening a new one.
    """

    def __init__(
        self,
        consortium: Consortium,
        coordinator: LocalAccount,
        store: ModelStore,
        journal: RunJournal,
        min_valid_updates: int = 2,
        aggregation: str = DEFAULT_AGGREGATION,
        num_malicious: int = 1,
        rule: ScoringRule = DEFAULT_RULE,
        **fedavg: Any,
    ) -> None:
        super().__init__(**fedavg)
        self.min_valid_updates = min_valid_updates
        self.aggregation = aggregation
        self.num_malicious = num_malicious
        self.rule = rule
        self._assessment: Assessment | None = None
        self.consortium = consortium
        self.coordinator = coordinator
        self.store = store
        self.journal = journal
        self._chain_round = 0
        self._global_hash = b""
        self._global_arrays: dict[str, Any] = {}
        self._accepted: list[VerifiedUpdate] = []  # the round's aggregated (participating) updates

    def _timed(self, record: dict[str, Any], phase: str, started: float) -> None:
        record["timings_s"][phase] = record["timings_s"].get(phase, 0.0) + time.perf_counter() - started

    def configure_train(
        self, server_round: int, arrays: ArrayRecord, config: ConfigRecord, grid: Grid
    ) -> Iterable[Message]:
        """Store the global model, open (or resume) its round on chain, and send it out."""
        ledger = self.consortium.ledger
        self._global_arrays = dict(from_record(arrays))
        global_hash = self.store.put(self._global_arrays)
        settings = {k: v for k, v in config.items() if k not in ("chain-round", "server-round")}
        started = time.perf_counter()
        config_hash = document_hash({**settings, "server-round": server_round})
        chain_round = open_or_resume_round(ledger, self.coordinator, global_hash, config_hash)
        record = self.journal.round(chain_round)
        self._timed(record, "chain", started)
        record.update(server_round=server_round, global_model_hash=hexed(global_hash), config=settings)
        self.journal.save()
        self._chain_round, self._global_hash = chain_round, global_hash
        config["chain-round"] = chain_round
        return super().configure_train(server_round, arrays, config, grid)

    def aggregate_train(
        self, server_round: int, replies: Iterable[Message]
    ) -> tuple[ArrayRecord | None, MetricRecord | None]:
        """Verify every reply, register the valid ones in one transaction, aggregate only those."""
        record = self.journal.round(self._chain_round)
        started = time.perf_counter()
        domain = self.consortium.ledger.domain()
        checked = [
            verify_reply(
                reply,
                chain_round=self._chain_round,
                global_hash=self._global_hash,
                reference=self._global_arrays,
                domain=domain,
                registry=self.consortium.registry,
            )
            for reply in replies
        ]
        # After a restart mid-round, updates may already be on chain: take a reply that matches its
        # registered hash (without registering it again), refuse any other from that member.
        registered = {
            u.member_id: u.update_hash for u in self.consortium.ledger.updates(round_number=self._chain_round)
        }
        accepted: dict[int, VerifiedUpdate] = {}
        rejected: list[Rejection] = []
        for result in checked:
            if isinstance(result, Rejection):
                rejected.append(result)
            elif result.member_id in accepted:
                rejected.append(
                    Rejection(result.node_id, "a second update from the same member", result.signer)
                )
            elif (
                result.member_id in registered
                and registered[result.member_id] != result.signed.update.update_hash
            ):
                rejected.append(
                    Rejection(result.node_id, "differs from the update registered earlier", result.signer)
                )
            else:
                accepted[result.member_id] = result
        self._timed(record, "verify", started)
        for rejection in rejected:
            logger.warning(
                "round %d: excluded node %d: %s", self._chain_round, rejection.node_id, rejection.reason
            )
        updates = [accepted[m] for m in sorted(accepted)]
        if len(updates) < self.min_valid_updates:
            logger.error(
                "round %d: %d valid updates, fewer than the %d required: the global model stays as it is",
                self._chain_round, len(updates), self.min_valid_updates,
            )  # fmt: skip
            record["failed"] = f"{len(updates)} valid updates, need {self.min_valid_updates}"
            updates = []
        new = [u for u in updates if u.member_id not in registered]
        if new:
            started = time.perf_counter()
            receipt = self.consortium.ledger.register_updates(
                self.coordinator, self._chain_round, [u.signed for u in new]
            )
            self._timed(record, "chain", started)
            record["register_tx"] = receipt["transactionHash"].to_0x_hex()
        for update in updates:
            self.store.put(update.arrays)
        record["updates"] = [
            {
                "member_id": u.member_id,
                "signer": u.signer,
                "node_id": u.node_id,
                "update_hash": hexed(u.signed.update.update_hash),
                "num_examples": u.signed.update.num_examples,
                "metrics": dict(u.reply.content["metrics"]) if u.reply is not None else {},
            }
            for u in updates
        ]
        record["rejected"] = [
            {"node_id": r.node_id, "reason": r.reason, "signer": r.signer} for r in rejected
        ]
        included = self._assess(record, updates)
        self._accepted = included
        started = time.perf_counter()
        arrays, metrics = self._aggregate(server_round, included)
        self._timed(record, "aggregate", started)
        if metrics is not None:
            record["train_metrics"] = dict(metrics)
        self.journal.save()
        return arrays, metrics

    def _assess(self, record: dict[str, Any], updates: list[VerifiedUpdate]) -> list[VerifiedUpdate]:
        """Score the round's registered updates on chain; the members that enter the aggregate."""
        self._assessment = None
        if not updates:
            return []
        started = time.perf_counter()
        assessment = assess_round(
            self.consortium,
            self.coordinator,
            self.store,
            self._chain_round,
            self._global_arrays,
            {
                u.member_id: Submission(u.arrays, u.signed.update.update_hash, u.signed.update.num_examples)
                for u in updates
            },
            self.rule,
        )
        self._timed(record, "assess", started)
        self._assessment = assessment
        record["assessment"] = {
            "aggregation": self.aggregation,
            "exclusion_threshold": assessment.exclusion_threshold,
            "excluded": assessment.excluded,
            "members": {
                str(m): {
                    "score": c.score_bps,
                    "reason": c.reason,
                    "agreement": round(c.agreement, 6),
                    "norm_ratio": round(c.norm_ratio, 6),
                    "consistency": round(c.consistency, 6),
                    "reputation_before": assessment.reputation_before[m],
                    "reputation_after": assessment.reputation_after[m],
                    "weight": assessment.weights.get(m, 0),
                }
                for m, c in assessment.scores.items()
            },
        }
        included = [u for u in updates if u.member_id in assessment.weights]
        if len(included) < self.min_valid_updates:
            logger.error(
                "round %d: %d updates from members in good standing, fewer than the %d required",
                self._chain_round, len(included), self.min_valid_updates,
            )  # fmt: skip
            record["failed"] = f"{len(included)} updates from members in good standing"
            return []
        return included

    def _aggregate(
        self, server_round: int, included: list[VerifiedUpdate]
    ) -> tuple[ArrayRecord | None, MetricRecord | None]:
        """The chosen rule over the included updates (FedAvg's metrics either way)."""
        replies = [u.reply for u in included if u.reply is not None]
        if not replies or self.aggregation == "fedavg":
            return super().aggregate_train(server_round, replies)
        metrics = self.train_metrics_aggr_fn([r.content for r in replies], self.weighted_by_key)
        if self.aggregation == "reputation":
            assert self._assessment is not None
            weights = self._assessment.weights
            moved = reputation_weighted(
                self._global_arrays, [(u.arrays, weights[u.member_id]) for u in included]
            )
            return ArrayRecord({k: Array(np.asarray(v)) for k, v in moved.items()}), metrics
        robust = flower_strategy(self.aggregation, len(replies), self.num_malicious)
        arrays, _ = robust.aggregate_train(server_round, replies)
        return arrays, metrics

    def _pay(self, record: dict[str, Any]) -> None:
        """Split the round's budget among its participants by weight, in one transaction."""
        distributor = self.consortium.distributor
        weights = self._assessment.weights if self._assessment is not None else {}
        if not weights or distributor.payout_of(self._chain_round)[0]:
            return
        amounts = split_budget(distributor.budget_of(self._chain_round), weights)
        members = sorted(amounts)
        started = time.perf_counter()
        receipt = distributor.pay_round(
            self.coordinator, self._chain_round, members, [amounts[m] for m in members]
        )
        self._timed(record, "chain", started)
        record["payouts"] = {str(m): str(amounts[m]) for m in members}
        record["payout_tx"] = receipt["transactionHash"].to_0x_hex()

    def configure_evaluate(
        self, server_round: int, arrays: ArrayRecord, config: ConfigRecord, grid: Grid
    ) -> Iterable[Message]:
        """Store the new global model and send it out for federated evaluation."""
        aggregated = self.store.put(from_record(arrays))
        record = self.journal.round(self._chain_round)
        record["aggregated_model_hash"] = hexed(aggregated)
        self.journal.save()
        config["chain-round"] = self._chain_round
        return super().configure_evaluate(server_round, arrays, config, grid)

    def aggregate_evaluate(self, server_round: int, replies: Iterable[Message]) -> MetricRecord | None:
        """Aggregate the hospitals' evaluation and finalize the round on chain with its hash."""
        record = self.journal.round(self._chain_round)
        aggregated = bytes.fromhex(str(record["aggregated_model_hash"])[2:])
        domain = self.consortium.ledger.domain()
        checked = [
            verify_evaluation(
                reply,
                chain_round=self._chain_round,
                aggregated_hash=aggregated,
                domain=domain,
                registry=self.consortium.registry,
            )
            for reply in replies
        ]
        verified, rejected = one_evaluation_per_member(checked)
        for rejection in rejected:
            logger.warning(
                "round %d: evaluation from node %d left out: %s",
                self._chain_round, rejection.node_id, rejection.reason,
            )  # fmt: skip
        metrics = (
            super().aggregate_evaluate(server_round, [v.reply for v in verified if v.reply is not None])
            if verified
            else None
        )
        # Each member's metrics with its EIP-712 signature, so an auditor can check who measured what.
        evaluation = {
            "aggregate": dict(metrics) if metrics is not None else {},
            "per_member": {
                f"member {v.member_id}": {
                    "metrics": v.metrics,
                    "signer": v.signer,
                    "signature": "0x" + v.signature.hex(),
                }
                for v in sorted(verified, key=lambda v: v.member_id)
            },
            "rejected": [{"node_id": r.node_id, "reason": r.reason, "signer": r.signer} for r in rejected],
        }
        record["evaluation"] = evaluation
        metrics_hash = document_hash(evaluation)
        participants = [u.member_id for u in self._accepted]
        weights = [u.signed.update.num_examples for u in self._accepted]
        started = time.perf_counter()
        receipt = self.consortium.ledger.finalize_round(
            self.coordinator, self._chain_round, aggregated, metrics_hash, participants, weights
        )
        self._timed(record, "chain", started)
        record.update(metrics_hash=hexed(metrics_hash), finalize_tx=receipt["transactionHash"].to_0x_hex())
        self._pay(record)
        self.journal.save()
        logger.info(
            "round %d finalized: model %s, %d participants",
            self._chain_round,
            hexed(aggregated),
            len(participants),
        )
        return metrics
