"""No censorship: a hospital whose update the coordinator left out registers it itself, with ``bcfl
update register``, from the proof its node kept when it signed the update (real Anvil, real node)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from eth_account.signers.local import LocalAccount
from eth_typing import HexStr
from typer.testing import CliRunner

from bcfl.chain.anvil import AnvilNode
from bcfl.chain.consortium import Consortium
from bcfl.chain.eip712 import HALF_N, SECP256K1_N, ModelUpdate, sign_update
from bcfl.chain.keystore import create_keystore
from bcfl.chain.proof import UpdateProof, load_proof, proof_path
from bcfl.cli.main import app
from bcfl.demo.heart import SCHEMA, prepare_heart_hospitals
from bcfl.learning.privacy import PrivateStep
from bcfl.learning.task import build_model, get_arrays
from bcfl.models.canonical import model_hash
from hospital_node.client_app import LocalUpdate, sign_and_keep
from hospital_node.node import HospitalNode, load_node
from hospital_node.privacy import RoundPrivacy
from hospital_node.signer.main import load_signer
from hospital_node.signer.server import SigningAgent
from tests.chain.helpers import GENESIS, TEST_APP, audited_signers, deploy_ready, h
from tests.conftest import Actors
from tests.signer.helpers import short_folder

runner = CliRunner()
PASSWORD = "hospital keystore password"
#: What a hospital training with DP declares: ε = 1.25 and δ = 1e-5, in the ledger's units.
EPSILON, DELTA = 1_250_000, 10**13
PRIVATE_ROUND = RoundPrivacy(PrivateStep(1.2, 0.1, 20), 1.0, EPSILON, DELTA)


def invoke(*args: str) -> tuple[int, str]:
    """Exit code and everything printed (stdout and stderr, as a user sees them)."""
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def invoke_json(*args: str) -> dict[str, object]:
    """The JSON a successful command prints on stdout (stderr may carry notes)."""
    result = runner.invoke(app, [*args, "--format", "json"])
    assert result.exit_code == 0, result.output
    data: dict[str, object] = json.loads(result.stdout)
    return data


@contextmanager
def hospital_node(
    anvil: AnvilNode, consortium: Consortium, account: LocalAccount, folder: Path
) -> Iterator[HospitalNode]:
    """A hospital node as its ClientApp loads it: real data, the deployment's manifest, and its key
    in an encrypted keystore that its signing agent (running meanwhile) unlocked; its proofs go to
    ``folder/proofs``."""
    (prepared,) = prepare_heart_hospitals(folder / "data", ["cleveland"])
    create_keystore(folder / "keystore.json", PASSWORD, bytes(account.key))
    (folder / "keystore.password").write_text(PASSWORD)
    consortium.manifest.save(folder / "deployment.json")
    signer = load_signer(folder / "keystore.json", folder / "keystore.password", folder / "deployment.json")
    with short_folder() as sockets, SigningAgent(signer, sockets / "signer" / "agent.sock") as agent:
        yield load_node(
            {
                "data-path": str(prepared.data),
                "schema-path": str(SCHEMA),
                "signer-socket": str(agent.socket_path),
                "rpc-url": anvil.rpc_url,
                "manifest": str(folder / "deployment.json"),
                "proofs-dir": str(folder / "proofs"),
            }
        )


def trained(node: HospitalNode, chain_round: int, global_hash: bytes) -> LocalUpdate:
    """A local update as the ClientApp's training step produces it."""
    arrays = {k: v + np.float32(0.01) for k, v in get_arrays(build_model(node.data.spec, seed=1)).items()}
    metrics: dict[str, float | int] = {
        "num-examples": len(node.data.train),
        "train-loss": 0.5,
        "train-seconds": 1.0,
        "global-test-accuracy": 0.7,
    }
    return LocalUpdate(chain_round, global_hash, arrays, metrics, PRIVATE_ROUND)


def test_a_hospital_left_out_registers_its_own_update(
    anvil: AnvilNode, consortium: Consortium, actors: Actors, members: list[int], tmp_path: Path
) -> None:
    hospital = actors.hospitals[0]
    folder = tmp_path / "hospital"
    ledger = consortium.ledger
    round_number = ledger.open_round(actors.coordinator, GENESIS, h("config"), TEST_APP)
    with hospital_node(anvil, consortium, hospital, folder) as node:
        update = trained(node, round_number, GENESIS)
        signed = sign_and_keep(node, update)

    # The node kept the signed update in its proofs folder, for this deployment and round.
    kept = proof_path(folder / "proofs", ledger.domain(), round_number)
    assert kept.is_file()
    proof = load_proof(kept)
    assert proof == UpdateProof.of(ledger.domain(), signed, hospital.address)
    assert proof.signed() == signed and proof.update_hash == "0x" + model_hash(update.arrays).hex()
    assert proof.num_examples == len(node.data.train)
    assert (proof.epsilon_spent, proof.delta_spent) == (EPSILON, DELTA)  # trained with DP

    # The coordinator registered the others' updates and left this one out; the hospital sends it.
    other = actors.hospitals[1]
    ledger.register_updates(
        actors.coordinator,
        round_number,
        [sign_update(other, ledger.domain(), ModelUpdate(round_number, GENESIS, h("other"), 10))],
    )
    common = ["--manifest", str(folder / "deployment.json"), "--rpc-url", anvil.rpc_url]
    own_key = [
        "--keystore",
        str(folder / "keystore.json"),
        "--password-file",
        str(folder / "keystore.password"),
    ]
    result = invoke_json("update", "register", "--proof", str(kept), *common, *own_key)
    assert {k: result[k] for k in ("round", "member_id", "signer", "sender", "already_registered")} == {
        "round": round_number,
        "member_id": members[0],
        "signer": hospital.address,
        "sender": hospital.address,
        "already_registered": False,
    }
    (registered,) = ledger.updates(round_number=round_number, member_id=members[0])
    assert registered.update_hash == signed.update.update_hash
    assert (registered.epsilon_spent, registered.delta_spent) == (EPSILON, DELTA)
    # The event names no signer; the signature in the transaction's input is the hospital's own.
    assert ledger.registered_signatures(registered.tx_hash) == [signed]
    assert audited_signers(consortium, [registered]) == [hospital.address]
    assert registered.num_examples == proof.num_examples and registered.tx_hash == result["tx_hash"]
    tx = consortium.client.w3.eth.get_transaction(HexStr(str(result["tx_hash"])))
    assert tx["from"] == hospital.address  # the hospital's own key sent it, not the coordinator's
    (event,) = [e for e in ledger.events("UpdateRegistered") if e.tx_hash == result["tx_hash"]]
    assert event.args["memberId"] == members[0] and event.args["updateHash"] == signed.update.update_hash
    assert ledger.get_round(round_number).update_count == 2

    # Again: nothing is sent, and the table output says it is there already.
    block = consortium.client.block_number()
    code, out = invoke("update", "register", "--proof", str(kept), *common, *own_key)
    flat = " ".join(out.split())
    assert code == 0 and "already registered" in flat and result["tx_hash"] in flat, out
    assert consortium.client.block_number() == block

    # The coordinator finalizes with it: the hospital's update counts like any other.
    ledger.finalize_round(actors.coordinator, round_number, h("aggregate"), h("m"), members[:2], [1, 1])
    assert ledger.is_participant(round_number, members[0])
    code, out = invoke("update", "register", "--proof", str(kept), *common, *own_key)
    assert code == 1 and f"round {round_number} is finalized" in out and "Traceback" not in out, out


def test_registering_from_values_and_what_is_refused_before_sending(
    anvil: AnvilNode, consortium: Consortium, actors: Actors, members: list[int], tmp_path: Path
) -> None:
    ledger = consortium.ledger
    path = tmp_path / "deployment.json"
    consortium.manifest.save(path)
    common = ["--manifest", str(path), "--rpc-url", anvil.rpc_url]
    round_number = ledger.open_round(actors.coordinator, GENESIS, h("config"), TEST_APP)
    hospital = actors.hospitals[1]  # dev account 3
    update = ModelUpdate(round_number, GENESIS, h("mine"), 42, EPSILON, DELTA)
    compact = sign_update(hospital, ledger.domain(), update).signature
    r, s, v = compact[:32], int.from_bytes(compact[32:], "big") & ((1 << 255) - 1), compact[32] >> 7
    assert s <= HALF_N
    long_form = r + s.to_bytes(32, "big") + bytes([27 + v])  # as a wallet writes it (65 bytes)
    twin = r + (SECP256K1_N - s).to_bytes(32, "big") + bytes([28 - v])

    def values(
        signature: bytes, examples: int = 42, round_: int = round_number, epsilon: int = EPSILON
    ) -> list[str]:
        return [
            "--round", str(round_), "--update-hash", "0x" + h("mine").hex(),
            "--examples", str(examples), "--signature", "0x" + signature.hex(),
            "--epsilon-spent", str(epsilon), "--delta-spent", str(DELTA),
        ]  # fmt: skip

    block = consortium.client.block_number()
    refusals = [
        (values(twin), "the signature is not usable: the signature's s is in the upper half"),
        (values(long_form, examples=43), "which is no active member's key"),
        (values(long_form, epsilon=EPSILON - 1), "which is no active member's key"),
        (values(long_form, round_=round_number + 1), f"round {round_number + 1} was never opened"),
        (values(long_form[:40]), "64 (compact) or 65 bytes"),
    ]
    for args, message in refusals:
        code, out = invoke("update", "register", *args, *common, "--dev-account", "3")
        assert code == 1 and message in " ".join(out.split()) and "Traceback" not in out, out
    code, out = invoke(
        "update", "register", "--proof", "x.json", *values(long_form), *common, "--dev-account", "3"
    )
    assert code == 2 and "give either --proof, or all of" in " ".join(out.replace("│", " ").split())
    assert consortium.client.block_number() == block  # nothing was sent

    result = invoke_json("update", "register", *values(long_form), *common, "--dev-account", "3")
    assert result["sender"] == hospital.address and result["member_id"] == members[1]
    (registered,) = ledger.updates(round_number=round_number)
    assert (registered.member_id, registered.update_hash, registered.num_examples) == (
        members[1],
        h("mine"),
        42,
    )
    assert (registered.epsilon_spent, registered.epsilon_total) == (EPSILON, EPSILON)
    # Another update of the same member is refused before sending: the ledger takes one per member.
    second = sign_update(hospital, ledger.domain(), ModelUpdate(round_number, GENESIS, h("second"), 1))
    args = ["--round", str(round_number), "--update-hash", "0x" + h("second").hex(), "--examples", "1"]
    code, out = invoke(
        "update",
        "register",
        *args,
        "--signature",
        "0x" + second.signature.hex(),
        *common,
        "--dev-account",
        "3",
    )
    assert code == 1 and f"member {members[1]} already has update 0x{h('mine').hex()}" in " ".join(
        out.split()
    )


def test_a_proof_of_another_deployment_or_a_broken_file_is_refused(
    anvil: AnvilNode, consortium: Consortium, actors: Actors, members: list[int], tmp_path: Path
) -> None:
    ledger = consortium.ledger
    round_number = ledger.open_round(actors.coordinator, GENESIS, h("config"), TEST_APP)
    signed = sign_update(actors.hospitals[0], ledger.domain(), ModelUpdate(round_number, GENESIS, h("u"), 5))
    proof = UpdateProof.of(ledger.domain(), signed, actors.hospitals[0].address)
    kept = tmp_path / "proof.json"
    kept.write_text(proof.model_dump_json())
    other = deploy_ready(consortium.client, actors.admin, actors.coordinator)
    elsewhere = tmp_path / "other.json"
    other.manifest.save(elsewhere)
    code, out = invoke(
        "update", "register", "--proof", str(kept), "--manifest", str(elsewhere), "--rpc-url", anvil.rpc_url,
        "--dev-account", "2",
    )  # fmt: skip
    flat = " ".join(out.split())
    assert code == 1 and f"signed for the RoundLedger {ledger.address}" in flat and "Traceback" not in out
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps({**json.loads(proof.model_dump_json()), "signature": "0x1234"}))
    here = tmp_path / "deployment.json"
    consortium.manifest.save(here)
    for path, message in (
        (broken, "is malformed: signature"),
        (tmp_path / "none.json", "cannot read update proof"),
    ):
        code, out = invoke(
            "update", "register", "--proof", str(path), "--manifest", str(here), "--rpc-url", anvil.rpc_url,
            "--dev-account", "2",
        )  # fmt: skip
        assert code == 1 and message in " ".join(out.split()) and "Traceback" not in out, out
    assert ledger.updates() == []


def test_a_node_keeps_its_proofs_where_its_config_says(tmp_path: Path) -> None:
    """``proofs-dir`` is required (there is no keystore beside which a default could go any more)."""
    from hospital_node.errors import HospitalNodeError
    from hospital_node.settings import parse_node_config

    config = {
        "data-path": "d.csv",
        "schema-path": "s.json",
        "signer-socket": "/tmp/bcfl-signer-0/x/agent.sock",
        "rpc-url": "http://127.0.0.1:8545",
        "manifest": "m.json",
        "proofs-dir": str(tmp_path / "kept"),
    }
    assert parse_node_config(config).proofs_folder() == tmp_path / "kept"
    with pytest.raises(HospitalNodeError, match="node config 'proofs-dir' is missing"):
        parse_node_config({**config, "proofs-dir": ""})
