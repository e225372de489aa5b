"""One round's life cycle on chain, step by step: open (or resume), register, assess, aggregate,
finalize, pay. Each step reads what the chain holds before writing, so a coordinator restarted at
any point does nothing twice (the chain decides; the journal follows)."""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Iterable, Mapping
from typing import Any

from eth_account.signers.local import LocalAccount

from bcfl.chain.consortium import Consortium
from bcfl.chain.eip712 import LedgerDomain
from bcfl.models.canonical import document_hash
from bcfl.models.store import ModelStore
from coordinator.aggregation import aggregate
from coordinator.journal import RunJournal, hexed
from coordinator.rounds import aggregation, confirmation, finalization, payment, registration
from coordinator.rounds.assessment import Submission, assess_round, weights_on_chain
from coordinator.rounds.opening import open_or_resume_round, open_round
from coordinator.rounds.replay import RegisteredUpdates
from coordinator.rounds.round_config import aggregation_of, round_config_document
from coordinator.rounds.state import Aggregate, Arrays, OpenedRound, Registration, RoundSettings, RoundState
from coordinator.scoring import DEFAULT_RULE, LEGACY_RULE, ScoringRule
from coordinator.verification import Rejection, VerifiedUpdate

logger = logging.getLogger(__name__)


def _timed(record: dict[str, Any], phase: str, started: float) -> None:
    record["timings_s"][phase] = record["timings_s"].get(phase, 0.0) + time.perf_counter() - started


class RoundService:
    """The coordinator's rounds on chain, with the model store and the run journal beside them."""

    def __init__(
        self,
        consortium: Consortium,
        coordinator: LocalAccount,
        store: ModelStore,
        journal: RunJournal,
        settings: RoundSettings,
        rule: ScoringRule = DEFAULT_RULE,
    ) -> None:
        self.consortium = consortium
        self.coordinator = coordinator
        self.store = store
        self.journal = journal
        self.settings = settings
        self.rule = rule
        #: The updates registered so far, read incrementally: the replay rule asks every round.
        self.registered = RegisteredUpdates(consortium.ledger)
        #: The round this service closed last, with its evaluation document: finalized again should
        #: the chain lose it (:meth:`confirm_closed`).
        self._closed: tuple[RoundState, Mapping[str, Any] | None] | None = None

    def domain(self) -> LedgerDomain:
        """The EIP-712 domain the hospitals sign updates and evaluations in."""
        return self.consortium.ledger.domain()

    def settle(self, before: int | None = None) -> int | None:
        """Pay the rounds finalized but not paid (those before round ``before``, if given), oldest
        first, while the mint limit's current window has room: a coordinator stopped between
        finalizing and paying, or payments the mint limit deferred. The last round paid, or None."""
        distributor = self.consortium.distributor
        paid = distributor.paid_rounds()
        minimum, _, limit = distributor.minting_rule()
        settled = None
        for final in self.consortium.ledger.finalized_rounds():
            if final.round in paid or len(final.participants) < minimum:
                continue
            if before is not None and final.round >= before:
                break
            if distributor.minted_in_current_window() + distributor.budget_of(final.round) > limit:
                break  # the window is full: the next round's close tries again
            if self._pay(final.round, weights_on_chain(self.consortium, final.round), final.participants):
                logger.info("round %d was finalized but not paid: paid it", final.round)
                settled = final.round
        return settled

    def open(self, server_round: int, global_arrays: Arrays, config: Mapping[str, Any]) -> RoundState:
        """Store the global model and the round's config document (from the run's settings and the
        train config ``config``), and open its round on chain, or resume the round open with both.
        The journal notes when the round was first opened (``opened_at``, unix seconds)."""
        self.confirm_closed()
        opened_at = time.time()
        global_hash = self.store.put(global_arrays)
        rule = self._rule_of_open_round(global_hash, config)
        document = round_config_document(self.settings, config, rule)
        config_hash = self.store.put_document(document)
        started = time.perf_counter()
        chain_round = open_or_resume_round(
            self.consortium.ledger, self.coordinator, global_hash, config_hash, self.settings.app_hash
        )
        record = self.journal.round(chain_round)
        _timed(record, "chain", started)
        record.setdefault("opened_at", opened_at)
        record.update(
            server_round=server_round,
            global_model_hash=hexed(global_hash),
            config_hash=hexed(config_hash),
            config=document,
        )
        self.journal.save()
        return RoundState(
            OpenedRound(
                chain_round,
                server_round,
                global_hash,
                global_arrays,
                config_hash,
                aggregation_of(document),
                rule,
            )
        )

    def _rule_of_open_round(self, global_hash: bytes, config: Mapping[str, Any]) -> ScoringRule:
        """This service's rule, unless the round open on chain for ``global_hash`` was opened by a
        coordinator before scoring version 2 (its config document names no rule): that round is
        resumed, and scored, with the rule it was opened with."""
        opened = open_round(self.consortium.ledger)
        if opened is None or opened[1].global_model_hash != global_hash:
            return self.rule
        latest, current = opened
        legacy = round_config_document(self.settings, config, LEGACY_RULE)
        if self.rule != LEGACY_RULE and current.config_hash == document_hash(legacy):
            logger.info("round %d was opened before scoring version 2: it is scored with version 1", latest)
            return LEGACY_RULE
        return self.rule

    def register(
        self, state: RoundState, checked: Iterable[VerifiedUpdate | Rejection], *, verify_s: float = 0.0
    ) -> RoundState:
        """Keep one valid update per member, register the new ones on chain, and store them all.

        ``checked`` are the hospitals' updates after :func:`coordinator.verification.check_update`.
        With fewer valid updates than the run requires nothing is registered and the round fails.
        """
        chain_round = state.chain_round
        record = self.journal.round(chain_round)
        started = time.perf_counter()
        registered = registration.registered_hashes(self.consortium.ledger, chain_round)
        updates, rejected = registration.screen(checked, registered)
        record["timings_s"]["verify"] = record["timings_s"].get("verify", 0.0) + verify_s
        _timed(record, "verify", started)
        for rejection in rejected:
            logger.warning("round %d: excluded node %d: %s", chain_round, rejection.node_id, rejection.reason)
        failed = self._too_few(chain_round, record, updates)
        if failed:
            updates = []
        started = time.perf_counter()
        receipt, skipped = registration.register(
            self.consortium.ledger, self.coordinator, chain_round, updates, registered
        )
        if receipt is not None:
            _timed(record, "chain", started)
            record["register_tx"] = receipt["transactionHash"].to_0x_hex()
        if skipped:
            for update, skip in skipped:
                reason = f"skipped on chain: {skip.reason.text}"
                logger.warning("round %d: node %d's update was %s", chain_round, update.node_id, reason)
                rejected.append(Rejection(update.node_id, reason, update.signer))
            left_out = {update.member_id for update, _ in skipped}
            updates = [u for u in updates if u.member_id not in left_out]
            failed = self._too_few(chain_round, record, updates)
            if failed:
                updates = []
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
        self.journal.save()
        return dataclasses.replace(state, registration=Registration(tuple(updates), tuple(rejected), failed))

    def _too_few(self, chain_round: int, record: dict[str, Any], updates: list[VerifiedUpdate]) -> str:
        """Why the round fails for too few valid updates (journaled), or an empty string."""
        if len(updates) >= self.settings.min_valid_updates:
            return ""
        logger.error(
            "round %d: %d valid updates, fewer than the %d required: the global model stays as it is",
            chain_round, len(updates), self.settings.min_valid_updates,
        )  # fmt: skip
        failed: str = f"{len(updates)} valid updates, need {self.settings.min_valid_updates}"
        record["failed"] = failed
        return failed

    def assess(self, state: RoundState) -> RoundState:
        """Score the registered updates on chain and weigh their members (nothing to do without any)."""
        assert state.registration is not None, "register before assessing"
        updates = state.registration.updates
        if not updates:
            return state
        record = self.journal.round(state.chain_round)
        started = time.perf_counter()
        assessment = assess_round(
            self.consortium,
            self.coordinator,
            self.store,
            state.chain_round,
            state.opened.global_arrays,
            {
                u.member_id: Submission(u.arrays, u.signed.update.update_hash, u.signed.update.num_examples)
                for u in updates
            },
            state.opened.scoring,
            self.registered,
        )
        _timed(record, "assess", started)
        record["assessment"] = {
            "aggregation": state.opened.aggregation.rule,
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
        self.journal.save()
        return dataclasses.replace(state, assessment=assessment)

    def aggregate(self, state: RoundState) -> RoundState:
        """The round's rule (its config document's) over the updates of members in good standing;
        the new model is stored.

        With fewer such updates than the run requires, the round fails and the global model stays.
        """
        chain_round = state.chain_round
        record = self.journal.round(chain_round)
        weights = state.assessment.weights if state.assessment is not None else {}
        registered = state.registration.updates if state.registration is not None else ()
        included = [u for u in registered if u.member_id in weights]
        if registered and len(included) < self.settings.min_valid_updates:
            logger.error(
                "round %d: %d updates from members in good standing, fewer than the %d required",
                chain_round, len(included), self.settings.min_valid_updates,
            )  # fmt: skip
            record["failed"] = f"{len(included)} updates from members in good standing"
            included = []
        started = time.perf_counter()
        result = aggregate(
            state.opened.aggregation, state.opened.global_arrays, aggregation.candidates(included, weights)
        )
        metrics = aggregation.train_metrics([u.reply for u in included if u.reply is not None])
        _timed(record, "aggregate", started)
        if metrics is not None:
            record["train_metrics"] = metrics
        model_hash = self.store.put(result.arrays)
        record["aggregated_model_hash"] = hexed(model_hash)
        record["aggregation_weights"] = {str(m): w for m, w in result.weights.items()}
        self.journal.save()
        return dataclasses.replace(
            state,
            aggregate=Aggregate(tuple(included), result.arrays, model_hash, metrics, result.weights),
        )

    def train(
        self, state: RoundState, checked: Iterable[VerifiedUpdate | Rejection], *, verify_s: float = 0.0
    ) -> RoundState:
        """Register, assess and aggregate the round's updates; the journal notes when the aggregate was
        ready (``trained_at``, unix seconds)."""
        trained = self.aggregate(self.assess(self.register(state, checked, verify_s=verify_s)))
        record = self.journal.round(state.chain_round)
        record["trained_at"] = time.time()
        self.journal.save()
        return trained

    def finalize(self, state: RoundState, evaluation: Mapping[str, Any] | None = None) -> RoundState:
        """Finalize the round on chain with its aggregate and the hash of ``evaluation`` (the metrics
        document of :func:`finalization.evaluation_document`; an empty one without evaluation)."""
        assert state.aggregate is not None, "aggregate before finalizing"
        record = self.journal.round(state.chain_round)
        document = (
            dict(evaluation) if evaluation is not None else finalization.evaluation_document(None, (), ())
        )
        record["evaluation"] = document
        self.store.put_document(document)  # the metrics record, beside the models, for auditors
        started = time.perf_counter()
        metrics_hash, receipt = finalization.finalize(
            self.consortium.ledger,
            self.coordinator,
            state.chain_round,
            state.aggregate.model_hash,
            document,
            state.aggregate.weights,
        )
        _timed(record, "chain", started)
        record.update(metrics_hash=hexed(metrics_hash), finalize_tx=receipt["transactionHash"].to_0x_hex())
        self.journal.save()
        logger.info(
            "round %d finalized: model %s, %d participants",
            state.chain_round, hexed(state.aggregate.model_hash), len(state.aggregate.participants),
        )  # fmt: skip
        return dataclasses.replace(state, finalized=True)

    def pay(self, state: RoundState) -> RoundState:
        """Pay the finalized round's participants by their assessed weights (once)."""
        assert state.finalized and state.aggregate is not None, "finalize before paying"
        weights = state.assessment.weights if state.assessment is not None else {}
        self._pay(state.chain_round, weights, [u.member_id for u in state.aggregate.participants])
        return dataclasses.replace(state, paid=True)

    def close(self, state: RoundState, evaluation: Mapping[str, Any] | None = None) -> RoundState:
        """Finalize the round (once the chain holds its registrations and scores again, should it have
        lost them), pay the earlier rounds the mint limit deferred as far as its window allows, then
        this one; the journal notes when it was closed (``closed_at``, unix seconds)."""
        self.confirm(state)
        finalized = self.finalize(state, evaluation)
        self.settle(before=state.chain_round)
        closed = self.pay(finalized)
        record = self.journal.round(state.chain_round)
        record["closed_at"] = time.time()
        self.journal.save()
        self._closed = (closed, evaluation)
        return closed

    def confirm(self, state: RoundState) -> None:
        """Send again the round's registrations and scores the chain no longer holds (a chain restarted
        from its state file loses its last second: :mod:`coordinator.rounds.confirmation`); the
        journal keeps the transactions under ``resent``."""
        sent = confirmation.restore_round(self.consortium, self.coordinator, state)
        if not sent:
            return
        logger.warning(
            "round %d: the chain no longer held the coordinator's %s (restarted from an earlier state): "
            "sent again", state.chain_round, " and ".join(sent),
        )  # fmt: skip
        record = self.journal.round(state.chain_round)
        record.setdefault("resent", {}).update(sent)
        if "register_tx" in sent:
            record["register_tx"] = sent["register_tx"]
        self.journal.save()

    def confirm_closed(self) -> None:
        """Finalize and pay again the round this service closed last, should the chain hold it open
        again (restarted from a state saved before it was finalized)."""
        if self._closed is None:
            return
        state, evaluation = self._closed
        if self.consortium.ledger.get_round(state.chain_round).status.name != "OPEN":
            return  # finalized; a payment it lost is settled with the next round
        logger.warning(
            "round %d is open on chain again (the chain restarted from an earlier state): closing it again",
            state.chain_round,
        )
        self.close(dataclasses.replace(state, finalized=False, paid=False), evaluation)

    def _pay(self, chain_round: int, weights: Mapping[int, int], participants: Iterable[int]) -> bool:
        """Pay the round, and journal it if anything was paid (a round with nothing to pay, or
        paid already, leaves the journal as it is)."""
        started = time.perf_counter()
        paid = payment.pay(
            self.consortium.distributor, self.coordinator, chain_round, weights, set(participants)
        )
        if paid is None:
            return False
        amounts, receipt = paid
        record = self.journal.round(chain_round)
        _timed(record, "chain", started)
        record["payouts"] = {str(m): str(a) for m, a in amounts.items()}
        record["payout_tx"] = receipt["transactionHash"].to_0x_hex()
        self.journal.save()
        return True
