"""The federation through the real stack: Anvil, flower-superlink, per hospital a flower-supernode and
the bcfl-superexec that starts its apps (separate processes with their own data and keystores), and
``flwr run``. Hospitals run only apps approved on chain: the product App (onboarding approves it),
the test-only fault App (approved below), never the rogue App."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bcfl.apps import app_hash, hash_text
from bcfl.chain.consortium import Consortium
from bcfl.chain.devkeys import dev_account
from bcfl.chain.eip712 import EvaluationReport, recover_evaluation_signer
from bcfl.chain.ledger import RegisteredUpdate, SkipReason
from bcfl.chain.privacy import NO_BUDGET, NOT_PRIVATE, PrivacyBudget, epsilon_value
from bcfl.demo.federation import DEMO_ADMIN_INDEX, FederationRun, start_federation
from bcfl.demo.topology import GATEWAY, NODE_SYNC
from bcfl.flower.node_keys import NODE_KEY, load_node_key
from bcfl.models.canonical import document_hash, model_hash
from bcfl.models.store import ModelStore
from bcfl.paths import REPO_ROOT
from coordinator.rounds.assessment import recompute_scores
from coordinator.rounds.audit import recompute_round

FAULT_APP = Path(__file__).parent / "fault_app"
ROGUE_APP = Path(__file__).parent / "rogue_app"
HOSPITALS = ["cleveland", "hungary", "va-long-beach"]
FORGER = "va-long-beach"  # its SuperNode runs with the test-only forging flag (used by the fault app only)


@pytest.fixture(scope="module")
def federation(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FederationRun]:
    run = start_federation(
        tmp_path_factory.mktemp("run"),
        HOSPITALS,
        node_config_extras={FORGER: {"test-forge-signature": "true"}},
    )
    try:
        run.approve_app(FAULT_APP)
        yield run
    finally:
        run.stop()


def journal(run: FederationRun) -> dict[int, dict[str, Any]]:
    return {r["chain_round"]: r for r in json.loads((run.run_dir / "rounds.json").read_text())}


def flwr_run(run: FederationRun, rounds: int, app_dir: Path | None = None) -> None:
    code = run.flwr_run(rounds, app_dir) if app_dir else run.flwr_run(rounds)
    log = (run.run_dir / "logs" / "flwr-run.log").read_text()
    assert code == 0, log[-4000:]


def round_statuses(consortium: Consortium) -> list[str]:
    """Every round's status on chain, in order."""
    ledger = consortium.ledger
    return [ledger.get_round(n).status.name for n in range(1, ledger.round_count() + 1)]


def superexec_log(run: FederationRun, hospital: str) -> str:
    """The log of the SuperExec that starts ``hospital``'s apps (and of those apps)."""
    return (run.run_dir / "logs" / f"superexec-{hospital}.log").read_text()


def process_tree(pid: int) -> list[int]:
    """``pid`` and every process below it, from /proc."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # it exited meanwhile
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo.extend(children.get(current, []))
    return tree


def environ(pid: int) -> dict[str, str]:
    try:
        raw = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return {}  # it exited meanwhile
    return dict(item.decode().partition("=")[::2] for item in raw.split(b"\0") if item)


def test_the_coordinators_settings_and_every_password_reach_only_the_coordinator(
    federation: FederationRun,
) -> None:
    passwords = [h.password_file.read_text().strip() for h in federation.hospitals]
    passwords.append((federation.run_dir / "coordinator" / "keystore.password").read_text().strip())
    assert all(len(p) >= 16 for p in passwords)
    names = {p.name for p in federation.flower.processes}
    assert names == {
        "superlink",
        GATEWAY,
        NODE_SYNC,
        "coordinator",
        *(f"signer-{h}" for h in HOSPITALS),
        *(f"supernode-{h}" for h in HOSPITALS),
        *(f"superexec-{h}" for h in HOSPITALS),
    }
    for managed in federation.flower.processes:
        assert managed.process.poll() is None, managed.name
        tree = process_tree(managed.process.pid)
        envs = [environ(pid) for pid in tree]
        assert envs[0], managed.name  # the process itself is readable
        for env in envs:
            values = "\n".join(env.values())
            assert not any(p in values for p in passwords), managed.name
            assert not [k for k in env if "PASSWORD" in k and not k.startswith("BCFL_COORDINATOR_")]
            coordinator_vars = sorted(k for k in env if k.startswith("BCFL_COORDINATOR_"))
            if managed.name == "coordinator":
                assert coordinator_vars == [
                    "BCFL_COORDINATOR_KEYSTORE",
                    "BCFL_COORDINATOR_PASSWORD_FILE",
                    "BCFL_COORDINATOR_RUN_DIR",
                ]
            else:
                assert coordinator_vars == [], managed.name
    coordinator = next(p for p in federation.flower.processes if p.name == "coordinator")
    assert environ(coordinator.process.pid)["BCFL_COORDINATOR_RUN_DIR"] == str(federation.run_dir)


def test_every_hospital_connects_over_tls_with_the_node_key_it_published_on_chain(
    federation: FederationRun,
) -> None:
    """The SuperLink (TLS, SuperNode authentication, on loopback) lists one node per hospital, each
    online with the key whose fingerprint the hospital's membership carries; the SuperNodes dial the
    Fleet gateway, not the SuperLink."""
    assert federation.ca_cert is not None and federation.superlink.startswith("127.0.0.1:")
    consortium = federation.consortium()
    published = {
        h.name: consortium.registry.member(h.member_id).node_key_fingerprint for h in federation.hospitals
    }
    assert {h.name: load_node_key(h.node_key).fingerprint for h in federation.hospitals} == published
    deadline = time.monotonic() + 120
    while True:
        with federation.control() as control:
            nodes = control.nodes()
        statuses = {
            name: [n.status for n in nodes if n.has_fingerprint(fingerprint)]
            for name, fingerprint in published.items()
        }
        if all(found == ["online"] for found in statuses.values()) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert statuses == {name: ["online"] for name in HOSPITALS} and len(nodes) == len(HOSPITALS)
    gateway = f"--superlink=127.0.0.1:{federation.flower.ports[GATEWAY]}"
    for managed in federation.flower.processes:
        if managed.name.startswith("supernode-"):
            assert gateway in managed.process.args, managed.name  # type: ignore[operator]
            hospital = managed.name.removeprefix("supernode-")
            assert mode(federation.run_dir / "hospitals" / hospital / NODE_KEY) == 0o600


def mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def test_two_rounds_every_hash_on_chain_matches_the_model_store(federation: FederationRun) -> None:
    flwr_run(federation, rounds=2)
    # The app hash onboarding approved (computed from the folder) is the one each SuperNode received.
    approved = f"app {hash_text(app_hash(REPO_ROOT))} is approved on chain: starting task"
    for hospital in HOSPITALS:
        assert approved in superexec_log(federation, hospital), hospital
    consortium: Consortium = federation.consortium()
    store = ModelStore(federation.run_dir / "models")
    rounds = journal(federation)
    members = sorted(h.member_id for h in federation.hospitals)
    assert consortium.ledger.round_count() == 2
    for chain_round in (1, 2):
        record = rounds[chain_round]
        on_chain = consortium.ledger.get_round(chain_round)
        assert on_chain.status.name == "FINALIZED"
        # Global and aggregated models: the hashes on chain are those of the stored files.
        assert model_hash(store.get(on_chain.global_model_hash)) == on_chain.global_model_hash
        assert model_hash(store.get(on_chain.aggregated_model_hash)) == on_chain.aggregated_model_hash
        assert "0x" + on_chain.aggregated_model_hash.hex() == record["aggregated_model_hash"]
        # Every registered update is a stored model that hashes to the registered value.
        updates = consortium.ledger.updates(round_number=chain_round)
        assert sorted(u.member_id for u in updates) == members
        for update in updates:
            assert model_hash(store.get(update.update_hash)) == update.update_hash
        assert {u.update_hash.hex() for u in updates} == {e["update_hash"][2:] for e in record["updates"]}
        # Participants, weights (trimmed mean, the App's default: 1 each) and the metrics hash.
        (final,) = consortium.ledger.finalized_rounds(round_number=chain_round)
        assert list(final.participants) == members and list(final.weights) == [1] * len(members)
        assert final.metrics_hash == document_hash(record["evaluation"])
        # The aggregated model, recomputed bit for bit from the store (global model, updates, the
        # round's config document under its on-chain hash) and the chain's participants and weights.
        assert store.get_document(on_chain.config_hash)["aggregation"]["rule"] == "trimmed-mean"
        audit = recompute_round(consortium, store, chain_round)
        assert audit.ok and audit.model_hash == on_chain.aggregated_model_hash, audit.mismatches
        # Each score on chain is recomputed from the chain and the model store alone.
        recomputed = recompute_scores(consortium, store, chain_round)
        scored = {
            c.member_id: c.contribution for c in consortium.reputation.history(round_number=chain_round)
        }
        assert {m: c.score_bps for m, c in recomputed.items()} == scored and sorted(scored) == members
        # The round's budget went to its participants, within the budget.
        paid = consortium.distributor.payments(round_number=chain_round)
        assert sorted(p.member_id for p in paid) == members
        assert 0 < sum(p.amount for p in paid) <= consortium.distributor.budget_of(chain_round)
        assert record["evaluation"]["aggregate"]["accuracy"] > 0.6  # real data, a real model
        assert record["rejected"] == [] and record["evaluation"]["rejected"] == []
        # Every member's evaluation is signed by its own key, about the aggregated model on chain.
        addresses = {f"member {h.member_id}": h.address for h in federation.hospitals}
        assert sorted(record["evaluation"]["per_member"]) == sorted(addresses)
        for member, signed in record["evaluation"]["per_member"].items():
            report = EvaluationReport(
                chain_round,
                on_chain.aggregated_model_hash,
                document_hash(signed["metrics"]),
                signed["metrics"]["num-examples"],
            )
            signature = bytes.fromhex(signed["signature"][2:])
            signer = recover_evaluation_signer(consortium.ledger.domain(), report, signature)
            assert signer == addresses[member]
        # The aggregate accuracy is the examples-weighted mean of the signed ones (docs/auditors.md).
        signed_metrics = [m["metrics"] for m in record["evaluation"]["per_member"].values()]
        total = sum(m["num-examples"] for m in signed_metrics)
        accuracy = sum(m["accuracy"] * m["num-examples"] for m in signed_metrics) / total
        assert abs(accuracy - record["evaluation"]["aggregate"]["accuracy"]) < 1e-9
    # Round 2 trained from exactly the model round 1 produced.
    assert (
        consortium.ledger.get_round(2).global_model_hash
        == consortium.ledger.get_round(1).aggregated_model_hash
    )


@dataclass(frozen=True)
class Resumed:
    """A round whose coordinator stopped after registering its updates, then finished by a new run,
    and what the chain showed in between."""

    rounds_before: int
    chain_round: int
    status_after_crash: str
    registered_after_crash: list[RegisteredUpdate]
    rounds_after_resume: int


@pytest.fixture(scope="module")
def resumed(federation: FederationRun) -> Resumed:
    """Two runs of the fault App (its forging hospital included): the first one's coordinator dies
    before finalizing its round; the second finds that round open on chain and finishes it. The
    second run is also an ordinary round for the forged-signature test: its coordinator checks every
    reply again and journals the rejections."""
    consortium = federation.consortium()
    before = consortium.ledger.round_count()
    federation.flwr_run(1, FAULT_APP, extra_config=["crash=true"])  # its exit code is Flower's business
    chain_round = consortium.ledger.round_count()
    status = consortium.ledger.get_round(chain_round).status.name
    registered = consortium.ledger.updates(round_number=chain_round)
    # A new coordinator run finds the open round and its global model in the store, and finishes it.
    flwr_run(federation, rounds=1, app_dir=FAULT_APP)
    return Resumed(before, chain_round, status, registered, consortium.ledger.round_count())


def test_a_coordinator_stopped_mid_round_resumes_it_from_chain_and_store(
    federation: FederationRun, resumed: Resumed
) -> None:
    consortium = federation.consortium()
    chain_round = resumed.chain_round
    assert chain_round == resumed.rounds_before + 1
    assert resumed.status_after_crash == "OPEN"  # half-finished
    honest = sorted(h.member_id for h in federation.hospitals if h.name != FORGER)
    registered = resumed.registered_after_crash
    assert sorted(u.member_id for u in registered) == honest
    # The new coordinator run finished that round: it opened none of its own.
    assert resumed.rounds_after_resume == chain_round  # resumed, not a new round
    assert consortium.ledger.get_round(chain_round).status.name == "FINALIZED"
    again = consortium.ledger.updates(round_number=chain_round)
    assert again == registered  # nothing registered twice; retrained updates matched the ledger's
    (final,) = consortium.ledger.finalized_rounds(round_number=chain_round)
    assert list(final.participants) == honest
    record = journal(federation)[chain_round]
    assert sorted(u["member_id"] for u in record["updates"]) == honest


def test_a_forged_signature_is_excluded_and_recorded(federation: FederationRun, resumed: Resumed) -> None:
    consortium = federation.consortium()
    chain_round = resumed.chain_round  # the fault App's round, as its second run finished it
    record = journal(federation)[chain_round]
    forger = next(h for h in federation.hospitals if h.name == FORGER)
    (rejection,) = record["rejected"]
    assert rejection["signer"] == forger.address and "signature" in rejection["reason"]
    assert not consortium.ledger.has_submitted(chain_round, forger.member_id)
    honest = sorted(h.member_id for h in federation.hospitals if h.name != FORGER)
    assert sorted(u.member_id for u in consortium.ledger.updates(round_number=chain_round)) == honest
    (final,) = consortium.ledger.finalized_rounds(round_number=chain_round)
    assert list(final.participants) == honest  # the round went on without it
    # Its evaluation carries the same forged signature: left out, and said why.
    (left_out,) = record["evaluation"]["rejected"]
    assert left_out["signer"] == forger.address and "signature" in left_out["reason"]
    assert sorted(record["evaluation"]["per_member"]) == [f"member {m}" for m in honest]


def test_a_member_suspended_between_check_and_registration_is_skipped_and_the_round_goes_on(
    federation: FederationRun,
) -> None:
    consortium = federation.consortium()
    honest = sorted(h.member_id for h in federation.hospitals if h.name != FORGER)
    suspended, kept = honest[0], honest[1:]
    try:
        code = federation.flwr_run(1, FAULT_APP, extra_config=["suspend-first=true", "min-valid-updates=1"])
        log = (federation.run_dir / "logs" / "flwr-run.log").read_text()
        assert code == 0, log[-4000:]
        chain_round = consortium.ledger.round_count()
        assert consortium.ledger.get_round(chain_round).status.name == "FINALIZED"  # no crash, no abort
        assert [u.member_id for u in consortium.ledger.updates(round_number=chain_round)] == kept
        (final,) = consortium.ledger.finalized_rounds(round_number=chain_round)
        assert list(final.participants) == kept
        skipped = consortium.ledger.events("UpdateSkipped", filters={"round": chain_round})
        assert [e.args["reason"] for e in skipped] == [SkipReason.UNAUTHORIZED_SIGNER]
        suspended_key = next(h.address for h in federation.hospitals if h.member_id == suspended)
        reasons = {r["signer"]: r["reason"] for r in journal(federation)[chain_round]["rejected"]}
        assert reasons[suspended_key] == "skipped on chain: unauthorized signer", reasons
    finally:  # the other tests need every hospital
        if consortium.registry.member(suspended).status.name == "SUSPENDED":
            consortium.registry.reinstate(dev_account(federation.admin_key), suspended)
            # The node sync unregistered its node key when it saw the suspension (Flower refuses it
            # from then on, for good): back in with a new key, as a reinstated hospital does.
            federation.readmit(next(h.name for h in federation.hospitals if h.member_id == suspended))


def test_hospitals_refuse_a_model_the_ledger_does_not_show(federation: FederationRun) -> None:
    assert federation.flwr_run(1, FAULT_APP, extra_config=["tamper=true"]) == 0
    consortium = federation.consortium()
    chain_round = consortium.ledger.round_count()
    record = journal(federation)[chain_round]
    assert record["updates"] == [] and consortium.ledger.updates(round_number=chain_round) == []
    assert len(record["rejected"]) == len(HOSPITALS)
    assert all("refused" in r["reason"] for r in record["rejected"]), record["rejected"]
    for hospital in federation.hospitals:
        log = (federation.run_dir / "logs" / f"superexec-{hospital.name}.log").read_text()
        assert "refusing to train" in log or "refused" in log


def test_a_run_without_federated_evaluation_still_finalizes_and_pays(federation: FederationRun) -> None:
    consortium = federation.consortium()
    before = consortium.ledger.round_count()
    assert federation.flwr_run(1, extra_config=["fraction-evaluate=0.0"]) == 0
    chain_round = consortium.ledger.round_count()
    assert chain_round == before + 1
    assert consortium.ledger.get_round(chain_round).status.name == "FINALIZED"
    record = journal(federation)[chain_round]
    # No hospital was asked to evaluate: the metrics document is empty, and its hash is on chain.
    assert record["evaluation"] == {"aggregate": {}, "per_member": {}, "rejected": []}
    (final,) = consortium.ledger.finalized_rounds(round_number=chain_round)
    assert final.metrics_hash == document_hash(record["evaluation"])
    assert list(final.participants) == sorted(u["member_id"] for u in record["updates"])
    assert len(final.participants) >= 2
    paid = consortium.distributor.payments(round_number=chain_round)
    assert sorted(p.member_id for p in paid) == list(final.participants)
    assert 0 < sum(p.amount for p in paid) <= consortium.distributor.budget_of(chain_round)


def node_ids(run: FederationRun) -> dict[int, str]:
    """Each hospital's Flower node id, by the node key it published (the SuperLink's registrations)."""
    with run.control() as control:
        nodes = control.nodes()
    return {
        n.node_id: h.name
        for h in run.hospitals
        for n in nodes
        if n.status != "unregistered" and n.has_fingerprint(load_node_key(h.node_key).fingerprint)
    }


def test_a_hospital_whose_signing_agent_stops_mid_run_is_named_and_the_round_goes_on(
    federation: FederationRun,
) -> None:
    """The ClientApps sign through their hospital's signing agent (the node config's socket): one
    hospital's agent stops between two rounds of a run; in the next round that hospital's ClientApp
    fails fast, saying its agent is not running, the coordinator journals it as rejected (by its
    node), and the round is finalized with the other hospitals."""
    down = HOSPITALS[0]
    consortium = federation.consortium()
    before = consortium.ledger.round_count()
    process = federation.flwr_process(2)
    try:
        deadline = time.monotonic() + 600
        # Round one of the run finalized on chain: its hospital's agent stops before round two trains.
        while consortium.ledger.round_count() < before + 1 or (
            consortium.ledger.get_round(before + 1).status.name != "FINALIZED"
        ):
            assert time.monotonic() < deadline and process.poll() is None, "round one did not finish"
            time.sleep(0.1)
        federation.stop_signer(down)
        code = process.wait(timeout=1200)
        assert code == 0, (federation.run_dir / "logs" / "flwr-run.log").read_text()[-4000:]
    finally:
        if process.poll() is None:
            process.kill()
        federation.start_signer(down)  # the other tests need every hospital's agent
    first, second = before + 1, before + 2
    assert consortium.ledger.round_count() == second
    everyone = sorted(h.member_id for h in federation.hospitals)
    others = sorted(h.member_id for h in federation.hospitals if h.name != down)
    assert [u.member_id for u in consortium.ledger.updates(round_number=first)] == everyone
    # Round two went on without it: finalized with the others' updates and evaluations.
    assert consortium.ledger.get_round(second).status.name == "FINALIZED"
    assert sorted(u.member_id for u in consortium.ledger.updates(round_number=second)) == others
    (final,) = consortium.ledger.finalized_rounds(round_number=second)
    assert list(final.participants) == others
    record = journal(federation)[second]
    ids = node_ids(federation)
    socket = str(federation.signer_socket(down))
    for rejected in (record["rejected"], record["evaluation"]["rejected"]):
        (rejection,) = rejected
        assert ids[rejection["node_id"]] == down, (ids, rejection)
        reason = rejection["reason"]
        assert "signing agent is not running" in reason and socket in reason, rejection
    assert sorted(record["evaluation"]["per_member"]) == [f"member {m}" for m in others]
    # Its SuperExec's log says the same, in one line.
    assert f"the hospital's signing agent is not running at {socket}" in superexec_log(federation, down)


def test_hospitals_spend_their_privacy_budget_on_chain_and_stop_at_it(federation: FederationRun) -> None:
    """With a privacy budget on chain, each hospital trains with DP-SGD, signs the ε it spent, and the
    ledger keeps each member's total in the lineage; once a round would take it past the budget, every
    hospital refuses to train it and nothing is registered."""
    consortium = federation.consortium()
    ledger = consortium.ledger
    admin = dev_account(DEMO_ADMIN_INDEX)
    # A fresh lineage from the head: the earlier rounds trained without differential privacy, which
    # spent "not private" in the first lineage.
    head = ledger.lineage_head()
    ledger.start_lineage(admin, head.model_hash, "test: differential privacy from here on")
    lineage = head.lineage + 1
    ledger.set_privacy_budget(admin, PrivacyBudget.of(2.5, 1e-5))
    members = sorted(h.member_id for h in federation.hospitals)
    try:
        before = ledger.round_count()
        assert federation.flwr_run(2, extra_config=["dp-epsilon=2.0"]) == 0
        rounds = [before + 1, before + 2]
        assert [ledger.get_round(r).status.name for r in rounds] == ["FINALIZED", "FINALIZED"]
        for member in members:
            updates = [u for r in rounds for u in ledger.updates(round_number=r, member_id=member)]
            assert len(updates) == 2
            assert all(0 < u.epsilon_spent < NOT_PRIVATE and u.delta_spent == 10**13 for u in updates)
            total = ledger.epsilon_spent(lineage, member)
            assert updates[-1].epsilon_total == sum(u.epsilon_spent for u in updates) == total
            # The hospital planned its noise for ε = 2 over the run's two rounds, and spent about that.
            assert 1.8 < epsilon_value(total) <= 2.0 + 1e-6
        spent = [ledger.epsilon_spent(lineage, m) for m in members]

        # A third round at ε = 2 would take every hospital past 2.5: each refuses to train it.
        assert federation.flwr_run(1, extra_config=["dp-epsilon=2.0"]) == 0
        third = before + 3
        assert ledger.updates(round_number=third) == []
        rejected = journal(federation)[third]["rejected"]
        assert len(rejected) == len(HOSPITALS)
        assert all("past the consortium's budget (ε ≤ 2.5 at δ ≤ 1e-05)" in r["reason"] for r in rejected)
        assert [ledger.epsilon_spent(lineage, m) for m in members] == spent
        for hospital in federation.hospitals:
            assert "the hospital trains no more rounds of this lineage" in superexec_log(
                federation, hospital.name
            )
    finally:
        ledger.set_privacy_budget(admin, NO_BUDGET)


def test_an_app_the_consortium_did_not_approve_runs_at_no_hospital(federation: FederationRun) -> None:
    """Last in this module: the rogue run's refused tasks stay pending on the SuperNodes."""
    consortium = federation.consortium()
    rogue = app_hash(ROGUE_APP)
    assert not consortium.ledger.is_app_approved(rogue)
    rounds_before = round_statuses(consortium)
    process = federation.flwr_process(1, ROGUE_APP)
    refusal = "is not approved by the consortium on chain"
    try:
        deadline = time.monotonic() + 120
        while not all(f"app {hash_text(rogue)} {refusal}" in superexec_log(federation, h) for h in HOSPITALS):
            assert time.monotonic() < deadline, {h: superexec_log(federation, h)[-2000:] for h in HOSPITALS}
            assert process.poll() in (None, 0), (federation.run_dir / "logs" / "flwr-run.log").read_text()
            time.sleep(0.5)
        assert process.wait(timeout=300) == 0  # the rogue ServerApp waited for replies in vain
    finally:
        if process.poll() is None:
            process.kill()
    streamed = (federation.run_dir / "logs" / "flwr-run.log").read_text()
    assert f"ROGUE SERVERAPP: {len(HOSPITALS)} nodes asked, 0 replies" in streamed, streamed[-3000:]
    for hospital in federation.hospitals:
        log = superexec_log(federation, hospital.name)
        refused = [line for line in log.splitlines() if "refusing task" in line and hash_text(rogue) in line]
        assert refused and all(refusal in line for line in refused), hospital.name
        # No process of it started: nothing launched for it, and its ClientApp left no trace.
        assert f"app {hash_text(rogue)} is approved" not in log
        assert "ROGUE-CLIENTAPP-RAN" not in log
        assert not (hospital.data.parent / "ROGUE-CLIENTAPP-RAN").exists()
    # No round was opened or finalized for it.
    assert round_statuses(consortium) == rounds_before
