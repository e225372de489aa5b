"""TEST ONLY: the real apps with injected faults (a tampering, crashing or killed coordinator, a forging
hospital, a member suspended between the coordinator's check and the registration)."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
from flwr.app import ArrayRecord, ConfigRecord, Context, Message, MetricRecord
from flwr.clientapp import ClientApp
from flwr.serverapp import Grid, ServerApp

from bcfl.chain.devkeys import dev_account
from bcfl.models.records import from_record, to_record
from coordinator.rounds.service import RoundService
from coordinator.rounds.state import RoundState
from coordinator.server_app import run_federation
from coordinator.settings import load_settings
from coordinator.strategy import LedgerStrategy
from coordinator.verification import Rejection, VerifiedUpdate
from hospital_node import client_app as real_client

server_app = ServerApp()
client_app = ClientApp()


class TamperingStrategy(LedgerStrategy):
    """Registers the true global model on chain, then sends the hospitals a different one."""

    def configure_train(
        self, server_round: int, arrays: ArrayRecord, config: ConfigRecord, grid: Grid
    ) -> Iterable[Message]:
        messages = list(super().configure_train(server_round, arrays, config, grid))
        tampered = {k: v + np.float32(0.01) for k, v in from_record(arrays).items()}
        for message in messages:
            message.content["arrays"] = to_record(tampered)
        return messages


class CrashingStrategy(LedgerStrategy):
    """Registers, scores and aggregates the round, then dies before finalizing: a half-finished round."""

    def aggregate_train(
        self, server_round: int, replies: Iterable[Message]
    ) -> tuple[ArrayRecord | None, MetricRecord | None]:
        super().aggregate_train(server_round, replies)
        raise RuntimeError("TEST: the coordinator stops mid-round, after registering the updates")


class SuspendingStrategy(LedgerStrategy):
    """After the coordinator's off-chain check of the round's updates and before it registers them,
    the admin (Anvil's PUBLIC dev key 0: test chains only) suspends the first verified member, so
    its update stops verifying on chain."""

    def aggregate_train(
        self, server_round: int, replies: Iterable[Message]
    ) -> tuple[ArrayRecord | None, MetricRecord | None]:
        register = self.service.register

        def suspend_then_register(
            state: RoundState, checked: Iterable[VerifiedUpdate | Rejection], *, verify_s: float = 0.0
        ) -> RoundState:
            checked = list(checked)
            first = min(c.member_id for c in checked if isinstance(c, VerifiedUpdate))
            self.service.consortium.registry.suspend(dev_account(0), first, "TEST: suspended mid-round")
            return register(state, checked, verify_s=verify_s)

        self.service.register = suspend_then_register  # type: ignore[method-assign]
        try:
            return super().aggregate_train(server_round, replies)
        finally:
            self.service.register = register  # type: ignore[method-assign]


#: The round service's steps a coordinator can be killed after (run config ``die-at``), in a round's order.
KILL_STEPS = ("open", "register", "assess", "aggregate", "finalize", "pay")
#: Where a killed ServerApp notes, as its last act, the step it was killed after (in the run's logs).
KILLED_LOG = "serverapp-killed.log"


def dying(step: str) -> type[LedgerStrategy]:
    """The real strategy whose ServerApp process is SIGKILLed (no clean-up, no exception handling)
    as soon as the round service's ``step`` returns: after opening the round (before registration),
    registering the updates, scoring them, aggregating, finalizing, or paying."""
    if step not in KILL_STEPS:
        raise ValueError(f"die-at is {step!r}: use one of {', '.join(KILL_STEPS)}")

    class Dying(LedgerStrategy):
        def __init__(self, service: RoundService, **fedavg: Any) -> None:
            super().__init__(service, **fedavg)
            done: Callable[..., RoundState] = getattr(service, step)

            def then_die(*args: Any, **kwargs: Any) -> RoundState:
                state = done(*args, **kwargs)
                log = load_settings().run_dir / "logs" / KILLED_LOG
                with log.open("a") as out:
                    out.write(f"{step} {state.chain_round}\n")
                os.kill(os.getpid(), signal.SIGKILL)
                raise AssertionError("unreachable: the process was killed")

            setattr(service, step, then_die)

    return Dying


@server_app.main()
def main(grid: Grid, context: Context) -> None:
    die_at = str(context.run_config.get("die-at", ""))
    if die_at:
        run_federation(grid, context, dying(die_at))
    elif bool(context.run_config.get("suspend-first", False)):
        run_federation(grid, context, SuspendingStrategy)
    elif bool(context.run_config.get("crash", False)):
        run_federation(grid, context, CrashingStrategy)
    elif bool(context.run_config.get("tamper", False)):
        run_federation(grid, context, TamperingStrategy)
    else:
        run_federation(grid, context, LedgerStrategy)


def _forged(reply: Message, context: Context) -> Message:
    """The reply with one bit of its signature flipped, on the SuperNode started to forge."""
    if context.node_config.get("test-forge-signature") == "true":
        proof = reply.content["proof"]
        assert isinstance(proof, ConfigRecord)
        signature = proof["signature"]
        assert isinstance(signature, bytes)
        proof["signature"] = signature[:-1] + bytes([signature[-1] ^ 0x01])
    return reply


@client_app.train()
def train(msg: Message, context: Context) -> Message:
    return _forged(real_client.train_step(msg, context), context)


@client_app.evaluate()
def evaluate(msg: Message, context: Context) -> Message:
    return _forged(real_client.evaluate_step(msg, context), context)
