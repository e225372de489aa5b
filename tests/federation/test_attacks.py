"""Attacks through the real stack: Anvil, flower-superlink, one flower-supernode (with the bcfl-superexec
that starts its apps) per heart centre and ``flwr run`` of the test-only attack App
(``tests/attack_app``, which this test's consortium approves on chain), whose coordinator is the
product's.

Hungary sends a boosted update (``scale``) and va-long-beach sends the global model back
(``free-ride``); both sign with their own valid member keys. Everything below is read from the chain,
with thresholds taken from the chain's own parameters. The in-process simulation of the same
pipeline (``benchmarks.robustness.simulate``) predicts hungary excluded from round 3 and the free
rider excluded from round 2 and paid nothing: three rounds show both exclusions (hungary's share of
the tokens is then its pay of rounds 1 and 2 over three rounds' budgets). A fifth SuperNode asked to
attack (node config) without the environment switch refuses every message.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bcfl.chain.consortium import Consortium
from bcfl.chain.reputation import MAX_SCORE, ReputationChange, ReputationParameters, next_reputation
from bcfl.chain.rewards import Payment
from bcfl.demo.federation import FederationRun, start_federation
from benchmarks.attacks import ATTACKS
from tests.attack_app.attack_app import (
    ATTACK_KEY,
    ENABLE_VALUE,
    ENABLE_VAR,
    AttackGateError,
    configured_attack,
)

logger = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[2]
ATTACK_APP = REPO_ROOT / "tests" / "attack_app"
HOSPITALS = ["cleveland", "hungary", "switzerland", "va-long-beach"]
BOOSTER, FREE_RIDER = "hungary", "va-long-beach"
ATTACKERS = {BOOSTER: "scale", FREE_RIDER: "free-ride"}
HONEST = [h for h in HOSPITALS if h not in ATTACKERS]
#: Enough to see both attackers excluded: the free rider after round 1, the booster within three rounds.
ROUNDS = 3
#: A SuperNode with the node config ``test-attack`` but without BCFL_TEST_ATTACKS in its environment.
MISCONFIGURED = "misconfigured"
#: The SuperLink logs each SuperNode that connects.
ACTIVATED = "Activated node_id="


@pytest.fixture(scope="module")
def federation(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FederationRun]:
    """The four centres, two of them attacking, and a fifth SuperNode asked to attack (node config
    ``test-attack``) without the environment switch: it must refuse every message."""
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv(ENABLE_VAR, raising=False)  # only the attackers' SuperNodes get the switch
        run = start_federation(
            tmp_path_factory.mktemp("attack-run"),
            HOSPITALS,
            node_config_extras={name: {ATTACK_KEY: attack} for name, attack in ATTACKERS.items()},
            node_env_extras={name: {ENABLE_VAR: ENABLE_VALUE} for name in ATTACKERS},
            # The attack functions live in benchmarks/, which is not installed (nor in any App
            # bundle): the run's processes (SuperExec, SuperNodes, their apps) find it on PYTHONPATH.
            extra_env={"PYTHONPATH": str(REPO_ROOT)},
        )
    try:
        assert ENABLE_VAR not in run.flower.env
        run.approve_app(ATTACK_APP)  # the consortium of this test approves the test-only App
        # Its SuperExec reads the chain from the node config, like every hospital's.
        chain = {"rpc-url": run.node.rpc_url, "manifest": str(run.manifest_path)}
        run.flower.start_supernode(MISCONFIGURED, {**chain, ATTACK_KEY: "scale"}, {})
        # min-nodes stays 4 (the hospitals); every node connected when a round starts is sampled.
        superlink_log = run.run_dir / "logs" / "superlink.log"
        deadline = time.monotonic() + 300
        while superlink_log.read_text().count(ACTIVATED) < len(HOSPITALS) + 1:
            assert time.monotonic() < deadline, "not every SuperNode connected"
            time.sleep(0.2)
        yield run
    finally:
        run.stop()


@dataclass(frozen=True)
class ChainRound:
    """What the chain holds about one round."""

    status: str
    submitted: dict[str, bool]
    participant: dict[str, bool]
    finalized_participants: list[int]
    reputation: dict[str, ReputationChange]
    payments: list[Payment]
    round_paid: list[dict[str, Any]]
    budget: int
    payout: tuple[bool, int]


@dataclass(frozen=True)
class Attacked:
    """The attacked run, as read back from the chain."""

    consortium: Consortium
    parameters: ReputationParameters
    ids: dict[str, int]
    addresses: dict[str, str]
    rounds: dict[int, ChainRound]
    journal: dict[int, dict[str, Any]]

    def paid(self, name: str) -> int:
        return sum(
            p.amount for r in self.rounds.values() for p in r.payments if p.member_id == self.ids[name]
        )

    def total_paid(self) -> int:
        return sum(p.amount for r in self.rounds.values() for p in r.payments)

    def fell_below(self, name: str) -> int | None:
        """The first round after which ``name``'s reputation was below the exclusion threshold."""
        threshold = self.parameters.exclusion_threshold
        return next(
            (n for n, r in sorted(self.rounds.items()) if r.reputation[name].current < threshold), None
        )

    def table(self) -> str:
        lines = [f"exclusion threshold {self.parameters.exclusion_threshold}, {self.parameters}"]
        for n, r in sorted(self.rounds.items()):
            cells = [
                f"{name}: score {r.reputation[name].contribution} rep {r.reputation[name].previous}"
                f"->{r.reputation[name].current}{'' if r.participant[name] else ' EXCLUDED'}"
                f" paid {sum(p.amount for p in r.payments if p.member_id == self.ids[name])}"
                for name in HOSPITALS
            ]
            accuracy = self.journal.get(n, {}).get("evaluation", {}).get("aggregate", {}).get("accuracy")
            lines.append(f"round {n} (budget {r.budget}, accuracy {accuracy}): " + "; ".join(cells))
        total = self.total_paid()
        lines.append("shares: " + ", ".join(f"{h} {self.paid(h)}/{total}" for h in HOSPITALS))
        return "\n".join(lines)


def read_chain(run: FederationRun) -> Attacked:
    consortium = run.consortium()
    ids = {h.name: h.member_id for h in run.hospitals}
    rounds = {}
    for n in range(1, consortium.ledger.round_count() + 1):
        finals = consortium.ledger.finalized_rounds(round_number=n)
        history = consortium.reputation.history(round_number=n)
        assert sorted(c.member_id for c in history) == sorted(ids.values()), f"round {n}: {history}"
        rounds[n] = ChainRound(
            status=consortium.ledger.get_round(n).status.name,
            submitted={h: consortium.ledger.has_submitted(n, m) for h, m in ids.items()},
            participant={h: consortium.ledger.is_participant(n, m) for h, m in ids.items()},
            finalized_participants=[m for f in finals for m in f.participants],
            reputation={h: next(c for c in history if c.member_id == m) for h, m in ids.items()},
            payments=consortium.distributor.payments(round_number=n),
            round_paid=[e.args for e in consortium.distributor.events("RoundPaid", filters={"round": n})],
            budget=consortium.distributor.budget_of(n),
            payout=consortium.distributor.payout_of(n),
        )
    journal = {r["chain_round"]: r for r in json.loads((run.run_dir / "rounds.json").read_text())}
    return Attacked(
        consortium,
        consortium.reputation.parameters(),
        ids,
        {h.name: h.address for h in run.hospitals},
        rounds,
        journal,
    )


@pytest.fixture(scope="module")
def attacked(federation: FederationRun) -> Attacked:
    """Three rounds with hungary scaling its update and va-long-beach free riding."""
    code = federation.flwr_run(
        ROUNDS, ATTACK_APP, extra_config=['aggregation="reputation"', "num-malicious=1"]
    )
    log = (federation.run_dir / "logs" / "flwr-run.log").read_text()
    assert code == 0, log[-4000:]
    result = read_chain(federation)
    logger.info("attacked run, from the chain:\n%s", result.table())
    return result


def test_every_round_is_finalized_and_scores_every_member(attacked: Attacked) -> None:
    assert sorted(attacked.rounds) == list(range(1, ROUNDS + 1)), attacked.table()
    params = attacked.parameters
    for n, r in attacked.rounds.items():
        assert r.status == "FINALIZED", n
        assert all(r.submitted.values()), (n, r.submitted)  # every update registered, attackers' too
        for name, change in r.reputation.items():
            # The contract's arithmetic, chained round to round from the initial reputation.
            expected_before = (
                params.initial_reputation if n == 1 else attacked.rounds[n - 1].reputation[name].current
            )
            assert change.previous == expected_before, (n, name)
            assert change.current == next_reputation(change.previous, change.contribution, params.smoothing)


def test_the_booster_is_excluded_within_three_rounds_but_still_registered_and_scored(
    attacked: Attacked,
) -> None:
    table = attacked.table()
    fell = attacked.fell_below(BOOSTER)
    assert fell is not None and fell <= 3, table
    for n, r in attacked.rounds.items():
        assert r.submitted[BOOSTER] and BOOSTER in r.reputation, (n, table)  # registered and scored
        assert r.participant[BOOSTER] == (n <= fell), (n, table)
    assert attacked.consortium.reputation.is_excluded(attacked.ids[BOOSTER])


def test_the_free_rider_scores_nothing_and_is_paid_nothing(attacked: Attacked) -> None:
    table = attacked.table()
    assert all(r.reputation[FREE_RIDER].contribution == 0 for r in attacked.rounds.values()), table
    assert all(p.member_id != attacked.ids[FREE_RIDER] for r in attacked.rounds.values() for p in r.payments)
    assert attacked.consortium.token.balance_of(attacked.addresses[FREE_RIDER]) == 0
    fell = attacked.fell_below(FREE_RIDER)
    assert fell is not None, table
    for n, r in attacked.rounds.items():
        assert r.submitted[FREE_RIDER] and r.participant[FREE_RIDER] == (n <= fell), (n, table)
    assert attacked.consortium.reputation.is_excluded(attacked.ids[FREE_RIDER])


def test_the_booster_gets_under_five_percent_and_honest_members_take_part_and_are_paid(
    attacked: Attacked,
) -> None:
    table = attacked.table()
    total = attacked.total_paid()
    assert total > 0 and attacked.paid(BOOSTER) * 100 < 5 * total, table
    for name in HONEST:
        assert all(r.participant[name] for r in attacked.rounds.values()), (name, table)
        assert attacked.paid(name) > 0, (name, table)
        assert not attacked.consortium.reputation.is_excluded(attacked.ids[name])


def test_payout_and_reputation_invariants_every_round(attacked: Attacked) -> None:
    threshold = attacked.parameters.exclusion_threshold
    for n, r in attacked.rounds.items():
        (round_paid,) = r.round_paid
        assert r.payout == (True, round_paid["total"]), n
        assert round_paid["budget"] == r.budget and round_paid["total"] <= r.budget, n
        assert sum(p.amount for p in r.payments) == round_paid["total"], n
        assert all(
            0 <= c.previous <= MAX_SCORE and 0 <= c.current <= MAX_SCORE for c in r.reputation.values()
        )
        participants = {attacked.ids[h] for h, p in r.participant.items() if p}
        assert participants == set(r.finalized_participants), n
        assert {p.member_id for p in r.payments} <= participants, n
        # The exclusion rule: a member takes part iff its reputation before the round was at the threshold.
        assert {h for h, p in r.participant.items() if p} == {
            h for h, c in r.reputation.items() if c.previous >= threshold
        }, (n, attacked.table())
    # Every token a member holds came from a RewardPaid event of this run.
    for name, address in attacked.addresses.items():
        assert attacked.consortium.token.balance_of(address) == attacked.paid(name), name


def test_the_attacker_keeps_its_state_across_rounds(federation: FederationRun, attacked: Attacked) -> None:
    """Context.state persists on the SuperNode between messages of a run (what ``replay`` needs)."""
    log = (federation.run_dir / "logs" / f"superexec-{BOOSTER}.log").read_text()
    for n in range(2, ROUNDS + 1):
        member = attacked.ids[BOOSTER]
        assert f"by member {member} in round {n} (state holds this node's update of round 1)" in log


@pytest.mark.parametrize(
    ("node_config", "environ", "expected"),
    [
        ({}, {}, None),
        ({}, {ENABLE_VAR: ENABLE_VALUE}, None),
        ({ATTACK_KEY: "scale"}, {ENABLE_VAR: ENABLE_VALUE}, "scale"),
        ({ATTACK_KEY: "scale"}, {}, "refusing"),
        ({ATTACK_KEY: "replay"}, {ENABLE_VAR: "1"}, "refusing"),
        ({ATTACK_KEY: "ddos"}, {ENABLE_VAR: ENABLE_VALUE}, "not an attack"),
    ],
)
def test_the_gate_needs_both_switches(
    node_config: dict[str, str], environ: dict[str, str], expected: str | None
) -> None:
    if expected in (None, *ATTACKS):
        assert configured_attack(node_config, environ) == expected
    else:
        with pytest.raises(AttackGateError, match=expected):
            configured_attack(node_config, environ)


def test_a_supernode_asked_to_attack_without_the_environment_switch_refuses(
    federation: FederationRun, attacked: Attacked
) -> None:
    """The fifth SuperNode has ``test-attack`` but no ``BCFL_TEST_ATTACKS``: every reply it sends is an
    error, which the coordinator records as a rejection; the rounds go on without it."""
    for n in range(1, ROUNDS + 1):
        record = attacked.journal[n]
        (rejection,) = record["rejected"]
        reason = rejection["reason"]
        assert "replied with an error" in reason and "AttackGateError" in reason, reason
        assert f"{ENABLE_VAR}=None" in reason and "refusing to run" in reason, reason
        # Its evaluation replies are errors too: only the four members' evaluations are there.
        assert sorted(record["evaluation"]["per_member"]) == sorted(
            f"member {m}" for m in attacked.ids.values()
        )
        assert len(attacked.consortium.ledger.updates(round_number=n)) == len(HOSPITALS)
    log = (federation.run_dir / "logs" / f"superexec-{MISCONFIGURED}.log").read_text()
    assert "AttackGateError" in log and "TEST ATTACK" not in log
