"""Faults through the real stack (Anvil, flower-superlink, per hospital a SuperNode and SuperExec,
``flwr run``): the coordinator's ServerApp SIGKILLed right after each step of a round, and a hospital's
SuperNode killed while it trains. Each time the next run resumes from the chain and the model store:
nothing is registered, scored, finalized or paid twice (the contracts refuse it, and the coordinator
reads before it writes), the journal follows the chain, and the audit's verdict stays clean."""

from __future__ import annotations

import json
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bcfl.chain.consortium import Consortium
from bcfl.demo.federation import FederationRun, start_federation
from bcfl.demo.processes import BIN
from bcfl.demo.topology import supernode_name
from benchmarks.soak import ledger_counts, serverapps
from tests.federation.fault_app.fault_app import KILL_STEPS, KILLED_LOG
from tests.federation.test_federation import FAULT_APP, flwr_run, journal, node_ids

HOSPITALS = ["cleveland", "hungary", "va-long-beach"]
#: How long a killed step may take to show (a round's training on a busy machine included).
STEP_TIMEOUT_S = 600.0


@pytest.fixture(scope="module")
def federation(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FederationRun]:
    run = start_federation(tmp_path_factory.mktemp("run"), HOSPITALS)
    try:
        run.approve_app(FAULT_APP)
        yield run
    finally:
        run.stop()


def killed_steps(run: FederationRun) -> list[str]:
    """The ``<step> <round>`` lines killed ServerApps left, oldest first."""
    log = run.run_dir / "logs" / KILLED_LOG
    return log.read_text().splitlines() if log.exists() else []


def run_killed_at(run: FederationRun, step: str) -> None:
    """``flwr run`` of one round whose ServerApp is SIGKILLed right after ``step``: returns once the
    process is gone, with the `flwr run` that streamed its logs stopped (Flower would wait for the
    dead run's heartbeat to lapse)."""
    before = len(killed_steps(run))
    process = run.flwr_process(1, FAULT_APP, extra_config=[f'die-at="{step}"'])
    try:
        deadline = time.monotonic() + STEP_TIMEOUT_S
        while len(killed_steps(run)) == before:
            assert time.monotonic() < deadline, f"no ServerApp was killed after {step!r}"
            assert process.poll() is None, (run.run_dir / "logs" / "flwr-run.log").read_text()[-4000:]
            time.sleep(0.2)
        while serverapps(run):
            assert time.monotonic() < deadline, f"the ServerApp killed after {step!r} is still running"
            time.sleep(0.1)
    finally:
        process.kill()
        process.wait()


def audit_report(run: FederationRun, index: Path) -> dict[str, Any]:
    """``bcfl audit report --format json`` of the run, as an auditor runs it."""
    result = subprocess.run(
        [str(BIN / "bcfl"), "audit", "report", "--format", "json", "--manifest", str(run.manifest_path),
         "--store", str(run.run_dir / "models"), "--index", str(index), "--rpc-url", run.node.rpc_url],
        capture_output=True, text=True, timeout=300, env=run.env,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    report: dict[str, Any] = json.loads(result.stdout)
    return report


def test_a_coordinator_killed_after_any_step_of_a_round_is_resumed_with_nothing_done_twice(
    federation: FederationRun, tmp_path: Path
) -> None:
    """One round, its ServerApp killed after opening it, and each next run killed one step further on
    (after registering, scoring, aggregating, finalizing); the run after that pays the finalized round
    before anything else and is killed once it has paid its own next round; a last run goes through.
    After each kill the chain holds exactly what the steps before it wrote."""
    consortium = federation.consortium()
    ledger = consortium.ledger
    first = ledger.round_count() + 1
    members = sorted(h.member_id for h in federation.hospitals)
    seen: dict[str, dict[str, Any]] = {}
    for step in KILL_STEPS:
        run_killed_at(federation, step)
        assert killed_steps(federation)[-1] == f"{step} {first + (step == 'pay')}"
        seen[step] = {
            "rounds": ledger.round_count(),
            "status": ledger.get_round(first).status.name,
            "registered": sorted(u.member_id for u in ledger.updates(round_number=first)),
            "scored": sorted(c.member_id for c in consortium.reputation.history(round_number=first)),
            "paid": sorted(p.member_id for p in consortium.distributor.payments(round_number=first)),
        }
    # Each kill left the round where its step had taken it, and the next run went on from there.
    assert seen["open"] == {"rounds": first, "status": "OPEN", "registered": [], "scored": [], "paid": []}
    assert seen["register"] == {**seen["open"], "registered": members}
    assert seen["assess"] == {**seen["register"], "scored": members}
    assert seen["aggregate"] == seen["assess"]  # aggregating writes nothing on chain
    assert seen["finalize"] == {**seen["assess"], "status": "FINALIZED"}  # finalized, not paid
    # The run after it paid round `first` (settling it) before its own round `first + 1`.
    paid_first = sorted(m for (_, m) in payouts(consortium, first))
    assert seen["pay"] == {**seen["finalize"], "rounds": first + 1, "paid": paid_first} and paid_first
    flwr_run(federation, rounds=1, app_dir=FAULT_APP)  # a whole round, after all that
    last = ledger.round_count()
    assert last == first + 2
    assert_each_member_once(federation, first, 3)
    # The journal follows the chain: each round's finalization is the chain's (payouts: above).
    records = journal(federation)
    for number in range(first, last + 1):
        (final,) = ledger.finalized_rounds(round_number=number)
        assert records[number]["metrics_hash"] == "0x" + final.metrics_hash.hex()
        assert records[number]["aggregated_model_hash"] == "0x" + final.aggregated_model_hash.hex()
    report = audit_report(federation, tmp_path / "index.sqlite")
    assert report["clean"], report["checks"]


def started_tasks(run: FederationRun, hospital: str) -> int:
    """How many app processes ``hospital``'s SuperExec has started (its log's lines)."""
    log = (run.run_dir / "logs" / f"superexec-{hospital}.log").read_text()
    return log.count("is approved on chain: starting task")


def wait_for_training(run: FederationRun, chain_round: int, process: subprocess.Popen[bytes]) -> None:
    """Until ``chain_round`` is open on chain and every hospital's SuperExec started its ClientApp."""
    ledger = run.consortium().ledger
    tasks = {h: started_tasks(run, h) for h in HOSPITALS}
    deadline = time.monotonic() + STEP_TIMEOUT_S
    while ledger.round_count() < chain_round or any(started_tasks(run, h) == n for h, n in tasks.items()):
        assert time.monotonic() < deadline, "the round's training did not start"
        assert process.poll() is None, (run.run_dir / "logs" / "flwr-run.log").read_text()[-4000:]
        time.sleep(0.1)


def finished(run: FederationRun, process: subprocess.Popen[bytes]) -> None:
    """Until ``flwr run`` ends, which it must do with code 0."""
    code = process.wait(timeout=STEP_TIMEOUT_S)
    assert code == 0, (run.run_dir / "logs" / "flwr-run.log").read_text()[-4000:]


def test_a_hospital_whose_supernode_is_killed_mid_round_misses_that_round_and_rejoins_the_next(
    federation: FederationRun, tmp_path: Path
) -> None:
    """One hospital's SuperNode is SIGKILLed while its ClientApp trains. Flower's SuperLink answers
    for it once its heartbeat lapses (about a minute), the coordinator journals the error by its node,
    and the round is finalized and paid with the two others (min-valid-updates 2, min-nodes 2). The
    SuperNode starts again as it was, and the hospital's update is in the next round. The missed round
    shows on chain and in the audit, whose verdict stays clean."""
    down = HOSPITALS[1]
    member = next(h.member_id for h in federation.hospitals if h.name == down)
    others = sorted(h.member_id for h in federation.hospitals if h.name != down)
    consortium = federation.consortium()
    ledger = consortium.ledger
    missed = ledger.round_count() + 1
    supernode = next(p for p in federation.flower.processes if p.name == supernode_name(down))
    process = federation.flwr_process(1, extra_config=["min-nodes=2"])
    try:
        wait_for_training(federation, missed, process)
        supernode.process.kill()  # SIGKILL, as a power cut would
        supernode.process.wait()
        finished(federation, process)
    finally:
        if process.poll() is None:
            process.kill()
        federation.flower.restart(supernode_name(down))  # as a hospital's service manager would
    assert ledger.get_round(missed).status.name == "FINALIZED"
    assert sorted(u.member_id for u in ledger.updates(round_number=missed)) == others
    (final,) = ledger.finalized_rounds(round_number=missed)
    assert list(final.participants) == others
    paid = [m for (_, m) in payouts(consortium, missed)]  # a participant whose weight is 0 gets nothing
    assert paid and set(paid) <= set(others)
    (rejection,) = journal(federation)[missed]["rejected"]
    assert "Node Unavailable" in rejection["reason"], rejection  # the SuperLink's, on its behalf
    assert node_ids(federation)[rejection["node_id"]] == down  # named by its node, not the SuperLink's
    # Back: the next round has its update again.
    flwr_run(federation, rounds=1)
    rejoined = ledger.round_count()
    assert rejoined == missed + 1
    assert member in [u.member_id for u in ledger.updates(round_number=rejoined)]
    assert ledger.get_round(rejoined).status.name == "FINALIZED"
    report = audit_report(federation, tmp_path / "index.sqlite")
    assert report["clean"], report["checks"]
    rounds = {r["round"]: r for r in report["rounds"]}
    assert member not in [u["member_id"] for u in rounds[missed]["updates"]]
    assert member in [u["member_id"] for u in rounds[rejoined]["updates"]]
    (member_view,) = [m for m in report["members"] if m["member_id"] == member]
    assert missed not in [number for number, _, _ in member_view["updates"]]


def round_statuses(consortium: Consortium, first: int) -> list[str]:
    """The status of every round from ``first`` on."""
    ledger = consortium.ledger
    return [ledger.get_round(n).status.name for n in range(first, ledger.round_count() + 1)]


def wait_for_rounds(consortium: Consortium, first: int, count: int) -> None:
    """Until the ``count`` rounds from ``first`` are finalized on chain."""
    deadline = time.monotonic() + STEP_TIMEOUT_S
    while round_statuses(consortium, first) != ["FINALIZED"] * count:
        assert time.monotonic() < deadline, round_statuses(consortium, first)
        time.sleep(0.5)


def assert_each_member_once(run: FederationRun, first: int, count: int) -> None:
    """Each of the ``count`` rounds from ``first`` finalized and paid once; every hospital registered
    and scored once in each; each participant paid at most once (one whose contribution weighs
    nothing gets nothing), and as the journal says."""
    consortium = run.consortium()
    members = [h.member_id for h in run.hospitals]
    rounds = range(first, first + count)
    counts = ledger_counts(consortium, first, first + count - 1)
    assert counts["finalized"] == counts["paid rounds"] == Counter({(r,): 1 for r in rounds})
    every = Counter({(r, m): 1 for r in rounds for m in members})
    assert counts["registered"] == counts["scored"] == every
    records = journal(run)
    for number in rounds:
        paid = {str(m): str(a) for (r, m), a in payouts(consortium, number).items()}
        assert paid and paid == {m: a for m, a in records[number]["payouts"].items() if int(a)}
    assert set(counts["paid"]) <= set(every) and set(counts["paid"].values()) == {1}


def payouts(consortium: Consortium, chain_round: int) -> dict[tuple[int, int], int]:
    """``chain_round``'s payments on chain by (round, member)."""
    return {
        (p.round, p.member_id): p.amount for p in consortium.distributor.payments(round_number=chain_round)
    }


def test_the_chain_killed_mid_round_and_started_again_from_its_state_file_loses_nothing(
    federation: FederationRun, tmp_path: Path
) -> None:
    """Anvil's state is saved with the round open, and no more (as a kill right after a save finds
    it); the coordinator registers and scores the hospitals' updates; Anvil is SIGKILLed, stays down
    30 s (an RPC outage for every part at once), and starts again from its state file on the same
    address, without those registrations and scores. The coordinator and the hospitals wait for it
    (docs/operators.md), the coordinator sends again what the chain lost before it finalizes, and the
    run's two rounds are finalized and paid once each, with every record from before the save still
    on chain and the journal naming the transactions sent again."""
    consortium = federation.consortium()
    ledger, reputation = consortium.ledger, consortium.reputation
    first = ledger.round_count() + 1
    run_log = federation.run_dir / "logs" / "flwr-run.log"
    process = federation.flwr_process(2)
    try:
        deadline = time.monotonic() + STEP_TIMEOUT_S
        while ledger.round_count() < first:
            assert time.monotonic() < deadline, "the round was not opened"
            assert process.poll() is None, run_log.read_text()[-4000:]
            time.sleep(0.1)
        assert federation.node.hold_state()  # the file keeps the chain as it is now: the round open
        opened = ledger.get_round(first)
        before = ledger.events("RoundOpened")
        wait_for_training(federation, first, process)
        while len(reputation.history(round_number=first)) < len(HOSPITALS):  # registered and scored
            assert time.monotonic() < deadline, "the round's updates were not scored"
            assert process.poll() is None, run_log.read_text()[-4000:]
            time.sleep(0.1)
        federation.node.kill()
        time.sleep(30)
        federation.node.start()
        assert ledger.events("RoundOpened") == before  # what was saved is all there
        reopened = ledger.get_round(first)
        assert (reopened.global_model_hash, reopened.opened_at_block) == (
            opened.global_model_hash,
            opened.opened_at_block,
        )
        lost = (ledger.updates(round_number=first), reputation.history(round_number=first))
        assert lost == ([], [])  # what the chain did after the save is gone
        finished(federation, process)
    finally:
        if process.poll() is None:
            process.kill()
    assert round_statuses(consortium, first) == ["FINALIZED", "FINALIZED"]
    assert_each_member_once(federation, first, 2)
    assert set(journal(federation)[first]["resent"]) == {"register_tx", "scores_tx"}
    report = audit_report(federation, tmp_path / "index.sqlite")
    assert report["clean"], report["checks"]


def test_the_superlink_killed_mid_round_and_started_again_the_run_goes_on(
    federation: FederationRun, tmp_path: Path
) -> None:
    """The SuperLink is SIGKILLed while the hospitals train and started again 3 s later on its
    database: the ServerApp, the Fleet gateway and the SuperNodes reconnect and the run's two rounds
    are finalized and paid once each. (``flwr run --stream`` itself loses its log stream and exits 1:
    follow the run on the chain, the dashboard or ``flwr log``.)"""
    consortium = federation.consortium()
    first = consortium.ledger.round_count() + 1
    process = federation.flwr_process(2)
    try:
        wait_for_training(federation, first, process)
        superlink = next(p for p in federation.flower.processes if p.name == "superlink")
        superlink.process.kill()
        superlink.process.wait()
        time.sleep(3)
        federation.flower.restart("superlink")
        wait_for_rounds(consortium, first, 2)
    finally:
        process.kill()
        process.wait()
    assert_each_member_once(federation, first, 2)
    report = audit_report(federation, tmp_path / "index.sqlite")
    assert report["clean"], report["checks"]


def test_a_supernode_restarted_at_once_mid_round_costs_the_round_its_timeout_not_an_hour(
    federation: FederationRun,
) -> None:
    """A SuperNode SIGKILLed while its ClientApp trains and started again at once is online again
    before Flower notices it was away, and the message it lost is never answered: the coordinator
    stops waiting at the run's ``round-timeout`` (here 30 s; Flower's own default is an hour), journals
    the node as silent, and finalizes the round with the others. The hospital is back for the next."""
    down = HOSPITALS[2]
    others = sorted(h.member_id for h in federation.hospitals if h.name != down)
    consortium = federation.consortium()
    chain_round = consortium.ledger.round_count() + 1
    process = federation.flwr_process(1, extra_config=["round-timeout=30"])
    try:
        wait_for_training(federation, chain_round, process)
        supernode = next(p for p in federation.flower.processes if p.name == supernode_name(down))
        supernode.process.kill()
        supernode.process.wait()
        federation.flower.restart(supernode_name(down))
        finished(federation, process)
    finally:
        if process.poll() is None:
            process.kill()
    assert consortium.ledger.get_round(chain_round).status.name == "FINALIZED"
    assert sorted(u.member_id for u in consortium.ledger.updates(round_number=chain_round)) == others
    (rejection,) = journal(federation)[chain_round]["rejected"]
    assert rejection["reason"] == "no reply within the round's timeout (30 s)"
    assert node_ids(federation)[rejection["node_id"]] == down
    # The restarted SuperNode waited for the SuperLink to let its crashed run go (Flower's own exits
    # at once then), took over, and is in the next round.
    restarted = next(p for p in federation.flower.processes if p.name == supernode_name(down))
    assert restarted.process.poll() is None, restarted.log.read_text()[-3000:]
    flwr_run(federation, rounds=1)
    member = next(h.member_id for h in federation.hospitals if h.name == down)
    assert member in [u.member_id for u in consortium.ledger.updates(round_number=chain_round + 1)]
