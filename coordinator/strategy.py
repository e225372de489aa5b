"""The Flower Strategy of the consortium: its hooks only translate Flower's messages to and from the
round service (:mod:`coordinator.rounds.service`), where each round's life cycle on chain lives."""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Iterable
from typing import Any

from flwr.app import ArrayRecord, ConfigRecord, Message, MetricRecord
from flwr.serverapp import Grid
from flwr.serverapp.strategy import FedAvg

from bcfl.models.records import from_record, to_record
from coordinator.rounds.finalization import evaluation_document
from coordinator.rounds.service import RoundService
from coordinator.rounds.state import RoundState
from coordinator.verification import (
    Rejection,
    VerifiedUpdate,
    one_evaluation_per_member,
    verify_evaluation,
    verify_reply,
)

logger = logging.getLogger(__name__)
#: Seconds to wait for a round's replies (the run config's ``round-timeout``, whose default this is).
ROUND_TIMEOUT_S = 600.0


class LedgerStrategy(FedAvg):
    """Flower's sampling and messaging (from FedAvg) around the round service.

    The aggregation rule is the service's (the run config's ``aggregation``), never FedAvg's own.
    Identity comes from each reply's signature and the membership registry, never from Flower's
    node ids. With federated evaluation on, the round is finalized and paid once the signed
    evaluations are in (they go into its metrics document); with it off (``fraction_evaluate=0``),
    as soon as it is aggregated. (Flower 1.41's ``Strategy.start`` still calls ``configure_evaluate``,
    which FedAvg then answers with no messages, and ``aggregate_evaluate`` with no replies: both do
    nothing here then.)
    """

    def __init__(
        self, service: RoundService, *, round_timeout_s: float = ROUND_TIMEOUT_S, **fedavg: Any
    ) -> None:
        super().__init__(**fedavg)
        self.service = service
        #: What ``start`` is given as its timeout: a node asked but silent that long misses the round.
        self.round_timeout_s = round_timeout_s
        self._state: RoundState | None = None
        self._asked: list[Message] = []

    @property
    def evaluates(self) -> bool:
        """Whether the run has federated evaluation (Flower skips it at ``fraction_evaluate=0``)."""
        return self.fraction_evaluate > 0.0

    def _current(self) -> RoundState:
        assert self._state is not None, "Flower calls configure_train first"
        return self._state

    def configure_train(
        self, server_round: int, arrays: ArrayRecord, config: ConfigRecord, grid: Grid
    ) -> Iterable[Message]:
        """Open (or resume) the global model's round on chain, and send the model out."""
        settings = {k: v for k, v in config.items() if k not in ("chain-round", "server-round")}
        self._state = self.service.open(server_round, dict(from_record(arrays)), settings)
        config["chain-round"] = self._state.chain_round
        return self._asking(super().configure_train(server_round, arrays, config, grid))

    def _asking(self, messages: Iterable[Message]) -> list[Message]:
        """``messages``, kept: once Flower has pushed them they carry the ids replies refer to."""
        self._asked = list(messages)
        return self._asked

    def _nodes(self, replies: list[Message]) -> list[int]:
        """The node each reply answers for: its sender, or, for the SuperLink's error reply on behalf of
        a node that went away (its heartbeat lapsed), the node that was asked."""
        asked = {m.metadata.message_id: m.metadata.dst_node_id for m in self._asked}
        return [asked.get(r.metadata.reply_to_message_id, r.metadata.src_node_id) for r in replies]

    def _silent(self, replies: list[Message]) -> list[Rejection]:
        """A rejection for each node asked that did not reply within the round's timeout."""
        answered = set(self._nodes(replies))
        reason = f"no reply within the round's timeout ({self.round_timeout_s:g} s)"
        asked = {m.metadata.dst_node_id for m in self._asked}
        return [Rejection(node, reason) for node in sorted(asked - answered)]

    def aggregate_train(
        self, server_round: int, replies: Iterable[Message]
    ) -> tuple[ArrayRecord | None, MetricRecord | None]:
        """Verify every reply, then register, assess and aggregate the valid ones."""
        state = self._current()
        started = time.perf_counter()
        domain = self.service.domain()
        registry = self.service.consortium.registry
        opened = state.opened
        replies = list(replies)
        checked: list[VerifiedUpdate | Rejection] = [
            dataclasses.replace(
                verify_reply(
                    reply,
                    chain_round=opened.chain_round,
                    global_hash=opened.global_hash,
                    reference=opened.global_arrays,
                    domain=domain,
                    registry=registry,
                ),
                node_id=node,
            )
            for reply, node in zip(replies, self._nodes(replies), strict=True)
        ]
        checked += self._silent(replies)
        state = self.service.train(state, checked, verify_s=time.perf_counter() - started)
        if not self.evaluates:
            state = self.service.close(state)
        self._state = state
        aggregate = state.aggregate
        assert aggregate is not None
        if not aggregate.participants:
            return None, None
        metrics = MetricRecord(dict(aggregate.train_metrics)) if aggregate.train_metrics else None
        return to_record(aggregate.arrays), metrics

    def configure_evaluate(
        self, server_round: int, arrays: ArrayRecord, config: ConfigRecord, grid: Grid
    ) -> Iterable[Message]:
        """Send the round's aggregated model out for federated evaluation."""
        config["chain-round"] = self._current().chain_round
        return self._asking(super().configure_evaluate(server_round, arrays, config, grid))

    def aggregate_evaluate(self, server_round: int, replies: Iterable[Message]) -> MetricRecord | None:
        """Check the signed evaluations, then finalize and pay the round with them."""
        if not self.evaluates:
            return None
        state = self._current()
        assert state.aggregate is not None
        domain = self.service.domain()
        replies = list(replies)
        checked = [
            dataclasses.replace(
                verify_evaluation(
                    reply,
                    chain_round=state.chain_round,
                    aggregated_hash=state.aggregate.model_hash,
                    domain=domain,
                    registry=self.service.consortium.registry,
                ),
                node_id=node,
            )
            for reply, node in zip(replies, self._nodes(replies), strict=True)
        ]
        verified, rejected = one_evaluation_per_member(checked)
        rejected += self._silent(replies)
        for rejection in rejected:
            logger.warning(
                "round %d: evaluation from node %d left out: %s",
                state.chain_round, rejection.node_id, rejection.reason,
            )  # fmt: skip
        metrics = (
            super().aggregate_evaluate(server_round, [v.reply for v in verified if v.reply is not None])
            if verified
            else None
        )
        self._state = self.service.close(state, evaluation_document(metrics, verified, rejected))
        return metrics
