"""The soak run: many rounds of one consortium through the real stack while a SuperNode or the
coordinator's ServerApp is SIGKILLed every few rounds, at a random moment of a round; then what the
chain says: every round finalized once, paid once, nobody registered or paid twice, nothing open.

A killed ServerApp's ``flwr run`` is stopped and a new one started for the rounds left (it resumes the
open round from the chain and the model store); a killed SuperNode is started again after a random
pause, as a hospital's service manager would, and the round goes on without it (its lost message is
given up at the run's ``round-timeout``)."""

from __future__ import annotations

import contextlib
import os
import random
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from web3.types import RPCEndpoint

from bcfl.apps import app_hash
from bcfl.chain.consortium import Consortium
from bcfl.chain.devkeys import dev_account
from bcfl.demo.federation import DEMO_COORDINATOR_INDEX, FederationRun
from bcfl.demo.topology import supernode_name
from bcfl.models.store import ModelStore
from bcfl.paths import REPO_ROOT
from coordinator.aggregation import DEFAULT_AGGREGATION
from coordinator.journal import RunJournal
from coordinator.rounds.service import RoundService
from coordinator.rounds.state import RoundSettings

#: The round timeout the soak runs with: a SuperNode restarted mid-round costs the round this much.
ROUND_TIMEOUT_S = 30
#: Rounds between two kills, drawn uniformly.
KILL_EVERY = (3, 6)
#: The longest a killed SuperNode stays down, drawn uniformly from 0.
DOWN_S = 10.0
#: The longest the soak waits for a round to finalize before it counts as stuck.
STUCK_S = 900.0


class SoakStuckError(RuntimeError):
    """No round was finalized for STUCK_S seconds."""


@dataclass(frozen=True)
class Kill:
    """One fault injected: what, in which round, when, and how long until the next round finalized."""

    kind: str  # "coordinator" or "supernode"
    target: str
    chain_round: int
    at_s: float
    recovery_s: float


@dataclass
class SoakResult:
    rounds: int
    hospitals: int
    seconds: float
    kills: list[Kill] = field(default_factory=list)
    #: (round, member) pairs registered, scored or paid more than once, and rounds finalized or paid
    #: more than once: all must be empty.
    twice: dict[str, list[tuple[int, ...]]] = field(default_factory=dict)
    unpaid: list[int] = field(default_factory=list)
    left_open: list[int] = field(default_factory=list)
    missed: int = 0
    """Hospital-rounds missed (a hospital's update not in a round), from the SuperNode kills."""
    deferred: int = 0
    """Rounds the mint limit left unpaid when the run ended, then paid as windows passed."""
    windows: int = 0
    """The mint windows that took."""


def serverapps(run: FederationRun) -> list[int]:
    """The ServerApp processes the coordinator's SuperExec runs now."""
    coordinator = next(p for p in run.flower.processes if p.name == "coordinator")
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z":
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], list(children.get(coordinator.process.pid, []))
    while todo:
        pid = todo.pop()
        todo.extend(children.get(pid, []))
        try:
            if b"serverapp" in Path(f"/proc/{pid}/cmdline").read_bytes():
                found.append(pid)
        except OSError:
            continue
    return found


def finalized(consortium: Consortium, first: int, known: int = 0) -> int:
    """How many rounds from ``first`` are finalized (rounds finalize in order), ``known`` of them
    already seen so (only the rounds after those are read)."""
    ledger = consortium.ledger
    count = known
    for number in range(first + known, ledger.round_count() + 1):
        if ledger.get_round(number).status.name != "FINALIZED":
            break
        count += 1
    return count


def soak(
    run: FederationRun,
    rounds: int,
    seed: int,
    on_round: Callable[[int, list[Kill]], None] = lambda done, kills: None,
) -> SoakResult:
    """Run ``rounds`` rounds with kills every few rounds; the chain's account of them."""
    chance = random.Random(seed)
    consortium = run.consortium()
    first = consortium.ledger.round_count() + 1
    started = time.monotonic()
    kills: list[Kill] = []
    pending: list[tuple[str, str, int, float]] = []  # kills whose round is not finalized yet
    next_kill = chance.randint(*KILL_EVERY)
    process: subprocess.Popen[bytes] | None = None
    done = 0
    progress_at = time.monotonic()
    try:
        while done < rounds:
            if process is None or process.poll() is not None:
                process = run.flwr_process(rounds - done, extra_config=[f"round-timeout={ROUND_TIMEOUT_S}"])
            now = finalized(consortium, first, done)
            if now != done:
                done, progress_at = now, time.monotonic()
                for kind, target, chain_round, at in [k for k in pending if k[2] < first + done]:
                    pending.remove((kind, target, chain_round, at))
                    kills.append(Kill(kind, target, chain_round, at - started, progress_at - at))
                on_round(done, kills)
            if time.monotonic() - progress_at > STUCK_S:
                raise SoakStuckError(f"no round finalized for {STUCK_S:.0f} s after round {first + done - 1}")
            if done >= next_kill and not pending:
                pending.append(_inject(run, chance, process, first + done))
                next_kill = done + chance.randint(*KILL_EVERY)
            time.sleep(0.2)
    finally:
        if process is not None and process.poll() is None:
            process.kill()
            process.wait()
    result = SoakResult(rounds, len(run.hospitals), time.monotonic() - started, kills)
    result.deferred, result.windows = settle_backlog(run, first)
    _account(result, run.consortium(), first, [h.member_id for h in run.hospitals])
    return result


def unpaid(consortium: Consortium, first: int) -> list[int]:
    """Rounds from ``first`` finalized with enough participants to be paid, and not paid."""
    distributor = consortium.distributor
    paid, minimum = distributor.paid_rounds(), distributor.minting_rule()[0]
    return [
        f.round
        for f in consortium.ledger.finalized_rounds()
        if f.round >= first and f.round not in paid and len(f.participants) >= minimum
    ]


def settle_backlog(run: FederationRun, first: int) -> tuple[int, int]:
    """Let mint windows pass (empty blocks, as time would) and have the coordinator's round service
    pay the rounds the mint limit deferred, oldest first, with the coordinator's key (Anvil's PUBLIC
    dev key: demo chains only). How many rounds were waiting, and the windows it took."""
    consortium = run.consortium()
    waiting = len(unpaid(consortium, first))
    window = consortium.distributor.minting_rule()[1]
    service = RoundService(
        consortium,
        dev_account(DEMO_COORDINATOR_INDEX),
        ModelStore(run.run_dir / "models"),
        RunJournal(run.run_dir / "rounds.json"),
        RoundSettings(2, DEFAULT_AGGREGATION, 1, app_hash(REPO_ROOT)),
    )
    windows = 0
    while unpaid(consortium, first) and windows <= waiting:
        blocks = -consortium.client.block_number() % window or window
        consortium.client.w3.provider.make_request(RPCEndpoint("anvil_mine"), [hex(blocks)])
        windows += 1
        service.settle()
    return waiting, windows


def _inject(
    run: FederationRun, chance: random.Random, process: subprocess.Popen[bytes], chain_round: int
) -> tuple[str, str, int, float]:
    """Once ``chain_round`` is open, at a random moment kill the ServerApp (and its ``flwr run``: the
    soak starts a new one) or a SuperNode (started again after a random pause). What was killed, in
    which round, and when."""
    ledger = run.consortium().ledger
    deadline = time.monotonic() + STUCK_S
    while ledger.round_count() < chain_round:
        if time.monotonic() > deadline or process.poll() is not None:
            break  # the run ended or is stuck: the soak's loop sees to it
        time.sleep(0.05)
    time.sleep(chance.uniform(0.0, 6.0))
    at = time.monotonic()
    killed_in = ledger.round_count()
    if chance.random() < 0.5:
        pids = serverapps(run)
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        process.kill()
        process.wait()
        return ("coordinator", f"ServerApp (pid {', '.join(map(str, pids)) or 'none found'})", killed_in, at)
    hospital = chance.choice(run.hospitals).name
    supernode = next(p for p in run.flower.processes if p.name == supernode_name(hospital))
    supernode.process.kill()
    supernode.process.wait()
    time.sleep(chance.uniform(0.0, DOWN_S))
    run.flower.restart(supernode_name(hospital))
    return ("supernode", hospital, killed_in, at)


def ledger_counts(consortium: Consortium, first: int, last: int) -> dict[str, Counter[tuple[int, ...]]]:
    """How often each round (finalized, paid rounds) or (round, member) (registered, scored, paid)
    appears on chain from round ``first`` to ``last``: every count must be 1."""
    ledger, reputation, distributor = consortium.ledger, consortium.reputation, consortium.distributor
    rounds = range(first, last + 1)
    return {
        "finalized": Counter((f.round,) for f in ledger.finalized_rounds() if f.round in rounds),
        "paid rounds": Counter(
            (int(e.args["round"]),) for e in distributor.events("RoundPaid") if e.args["round"] in rounds
        ),
        "registered": Counter((u.round, u.member_id) for u in ledger.updates() if u.round in rounds),
        "scored": Counter((c.round, c.member_id) for c in reputation.history() if c.round in rounds),
        "paid": Counter((p.round, p.member_id) for p in distributor.payments() if p.round in rounds),
    }


def _account(result: SoakResult, consortium: Consortium, first: int, members: list[int]) -> None:
    """What the chain says of the soak's rounds."""
    ledger = consortium.ledger
    rounds = range(first, ledger.round_count() + 1)
    counts = ledger_counts(consortium, first, rounds[-1] if rounds else first - 1)
    result.twice = {kind: sorted(k for k, n in c.items() if n > 1) for kind, c in counts.items()}
    result.unpaid = [r for r in rounds if (r,) not in counts["paid rounds"]]
    result.left_open = [r for r in rounds if ledger.get_round(r).status.name == "OPEN"]
    result.missed = sum(1 for r in rounds for m in members if (r, m) not in counts["registered"])
