"""The chain client's error handling and nonce management, keystores and deployment manifests."""

from __future__ import annotations

import json
import logging
import stat
import threading
from pathlib import Path
from typing import Any, cast

import pytest
import requests
from eth_account.signers.local import LocalAccount
from hexbytes import HexBytes
from web3.types import RPCEndpoint

from bcfl.chain import errors
from bcfl.chain.anvil import AnvilNode, free_port
from bcfl.chain.client import ChainClient
from bcfl.chain.consortium import Consortium
from bcfl.chain.devkeys import dev_account
from bcfl.chain.exceptions import (
    ChainError,
    ChainUnreachableError,
    InsufficientFundsError,
    KeystoreError,
    ManifestError,
    TransactionFailedError,
    TransactionStatusUnknownError,
)
from bcfl.chain.keystore import PASSWORD_ENV, create_keystore, load_keystore, read_password
from bcfl.chain.manifest import SCHEMA_VERSION, ContractRecord, DeploymentManifest
from tests.chain.helpers import GENESIS, TEST_APP, fresh_account, fund
from tests.conftest import Actors

PASSWORD = "correct horse battery"


# -- unreachable endpoint --------------------------------------------------------------------------
def test_an_unreachable_endpoint_raises_a_named_error(actors: Actors) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    client = ChainClient(url, retries=2, backoff_s=0.01)
    with pytest.raises(ChainUnreachableError, match="after 3 tries") as exc:
        client.block_number()
    assert url in str(exc.value)
    assert isinstance(exc.value, ChainError)
    with pytest.raises(ChainUnreachableError, match=url):
        _ = client.chain_id
    registry = client.contract("ConsortiumRegistry", fresh_account().address)
    with pytest.raises(ChainUnreachableError, match=url):
        client.call(registry.functions.memberCount())


def test_a_node_that_goes_away_is_reported(tmp_path: Path, actors: Actors) -> None:
    node = AnvilNode(log_path=tmp_path / "anvil.log").start()
    try:
        client = ChainClient(node.rpc_url, retries=1, backoff_s=0.01, outage_s=0.0)
        assert client.block_number() == 0
    finally:
        node.stop()
    with pytest.raises(ChainUnreachableError, match=node.rpc_url):
        client.block_number()


def test_retries_ride_out_a_brief_outage(
    tmp_path: Path, actors: Actors, caplog: pytest.LogCaptureFixture
) -> None:
    """A node that comes back within the retry budget: the call succeeds, state intact."""
    state = tmp_path / "state.json"
    node = AnvilNode(state_path=state, log_path=tmp_path / "anvil.log").start()
    client = ChainClient(node.rpc_url, retries=8, backoff_s=0.1)
    client.transfer(actors.admin, fresh_account().address, 1)
    node.stop()
    restarted = AnvilNode(port=node.port, state_path=state, log_path=tmp_path / "anvil2.log")
    timer = threading.Timer(0.5, restarted.start)
    timer.start()
    try:
        with caplog.at_level(logging.WARNING, logger="bcfl.chain.client"):
            assert client.block_number() == 1  # the restarted node kept the block
        assert any("chain unreachable" in r.getMessage() for r in caplog.records)
    finally:
        timer.join()
        restarted.stop()


# -- reverts and nonces ----------------------------------------------------------------------------
def test_a_revert_is_raised_before_anything_is_sent(
    client: ChainClient, consortium: Consortium, actors: Actors
) -> None:
    w3 = client.w3
    sender = actors.outsider
    nonce, balance = w3.eth.get_transaction_count(sender.address), w3.eth.get_balance(sender.address)
    member_id = consortium.registry.request_membership(actors.hospitals[0], "Hospital")
    block = client.block_number()
    with pytest.raises(errors.AccessControlUnauthorizedAccount):
        consortium.registry.approve(sender, member_id)
    with pytest.raises(errors.ConsortiumAccessUnauthorized):
        consortium.ledger.open_round(sender, GENESIS, bytes(32), TEST_APP)
    assert w3.eth.get_transaction_count(sender.address) == nonce
    assert w3.eth.get_transaction_count(sender.address, "pending") == nonce
    assert w3.eth.get_balance(sender.address) == balance
    assert client.block_number() == block
    # The client's own nonce bookkeeping did not move either: the next transaction goes through.
    consortium.registry.approve(actors.admin, member_id)
    consortium.registry.grant_coordinator(actors.admin, sender.address)
    assert consortium.ledger.open_round(sender, GENESIS, bytes(32), TEST_APP) == 1
    assert w3.eth.get_transaction_count(sender.address) == nonce + 1


def test_a_revert_in_a_view_call_is_named(consortium: Consortium) -> None:
    with pytest.raises(errors.ConsortiumRegistryUnknownMember) as exc:
        consortium.registry.member(5)
    assert exc.value.args_by_name == {"memberId": 5}
    assert "ConsortiumRegistryUnknownMember(memberId=5)" in str(exc.value)


def _send_behind_the_back(client: ChainClient, account: LocalAccount) -> None:
    """A plain value transfer from ``account`` that the client's nonce manager does not see."""
    w3 = client.w3
    tx: dict[str, Any] = {
        "to": fresh_account().address,
        "value": 1,
        "gas": 21_000,
        "gasPrice": w3.eth.gas_price * 2,
        "nonce": w3.eth.get_transaction_count(account.address, "pending"),
        "chainId": client.chain_id,
    }
    tx_hash = w3.eth.send_raw_transaction(account.sign_transaction(tx).raw_transaction)
    assert w3.eth.wait_for_transaction_receipt(tx_hash, timeout=30)["status"] == 1


def test_the_nonce_manager_survives_a_transaction_behind_its_back(
    anvil: AnvilNode, consortium: Consortium, actors: Actors, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bcfl.chain.client")
    hospital = fresh_account()
    fund(consortium.client, [hospital])
    own_client = ChainClient(anvil.rpc_url)  # it sends two of the account's transactions, the node all
    own = Consortium.connect(own_client, consortium.manifest)

    own.registry.approve(actors.admin, own.registry.request_membership(hospital, "Hospital"))
    nonce_after_first = own_client.w3.eth.get_transaction_count(hospital.address)
    for _ in range(2):
        _send_behind_the_back(own_client, hospital)
    own.registry.update_node_key(hospital, b"\x02" * 32)  # two more than it sent: counted by the node
    assert own_client.w3.eth.get_transaction_count(hospital.address) == nonce_after_first + 3
    assert own.registry.member(1).node_key_fingerprint == b"\x02" * 32
    # And it keeps counting correctly afterwards.
    own.registry.update_node_key(hospital, b"\x03" * 32)
    assert own.registry.member(1).node_key_fingerprint == b"\x03" * 32
    assert own_client.w3.eth.get_transaction_count(hospital.address) == nonce_after_first + 4


def test_a_chain_gone_back_to_an_earlier_state_is_sent_the_nonce_it_counts(
    anvil: AnvilNode, consortium: Consortium, actors: Actors, caplog: pytest.LogCaptureFixture
) -> None:
    """A chain restarted from a state saved before this client's last transactions no longer counts
    them: the next transaction takes the nonce the chain counts (one counted on from what was sent
    would wait in the node's pool and never be mined), and the gap is logged."""
    hospital = fresh_account()
    fund(consortium.client, [hospital])
    own = Consortium.connect(ChainClient(anvil.rpc_url, receipt_timeout_s=10.0), consortium.manifest)
    member_id = own.registry.request_membership(hospital, "Hospital")
    own.registry.approve(actors.admin, member_id)
    w3 = own.client.w3
    saved = w3.provider.make_request(RPCEndpoint("evm_snapshot"), [])["result"]
    for key in (b"\x02", b"\x03"):
        own.registry.update_node_key(hospital, key * 32)
    counted = w3.eth.get_transaction_count(hospital.address)
    assert w3.provider.make_request(RPCEndpoint("evm_revert"), [saved])["result"] is True
    caplog.set_level(logging.WARNING, logger="bcfl.chain.client")
    own.registry.update_node_key(hospital, b"\x04" * 32)
    assert own.registry.member(member_id).node_key_fingerprint == b"\x04" * 32
    assert w3.eth.get_transaction_count(hospital.address) == counted - 1
    assert "2 fewer transactions from " + hospital.address in caplog.text


def _lose_first_answer(client: ChainClient, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Make the node accept the first raw transaction but the answer get lost on the way back."""
    real = client.w3.eth.send_raw_transaction
    calls: list[int] = []

    def flaky(raw: bytes) -> HexBytes:
        calls.append(1)
        sent = real(raw)
        if len(calls) == 1:
            raise requests.exceptions.ConnectionError("answer lost")
        return sent

    monkeypatch.setattr(client.w3.eth, "send_raw_transaction", flaky)
    return calls


def test_a_lost_answer_never_sends_a_transaction_twice(
    anvil: AnvilNode, consortium: Consortium, actors: Actors, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = ChainClient(anvil.rpc_url, backoff_s=0.01)
    own = Consortium.connect(client, consortium.manifest)
    recipient = fresh_account().address
    calls = _lose_first_answer(client, monkeypatch)
    client.transfer(actors.admin, recipient, 10**18)
    assert len(calls) == 2  # resent once, recognised by its hash
    assert client.w3.eth.get_balance(recipient) == 10**18
    # A non-idempotent contract call: the resend must not surface a false revert.
    calls = _lose_first_answer(client, monkeypatch)
    round_number = own.ledger.open_round(actors.coordinator, GENESIS, b"\x02" * 32, TEST_APP)
    assert round_number == 1 and own.ledger.round_count() == 1


def test_a_send_into_an_outage_names_the_transaction(
    anvil: AnvilNode, consortium: Consortium, actors: Actors, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = ChainClient(anvil.rpc_url, retries=1, backoff_s=0.01)

    def down(raw: bytes) -> HexBytes:
        raise requests.exceptions.ConnectionError("connection reset")

    monkeypatch.setattr(client.w3.eth, "send_raw_transaction", down)
    with pytest.raises(TransactionStatusUnknownError) as exc:
        client.transfer(actors.admin, fresh_account().address, 1)
    assert exc.value.tx_hash.startswith("0x") and exc.value.tx_hash in str(exc.value)
    assert isinstance(exc.value, ChainUnreachableError)
    monkeypatch.undo()
    client.transfer(actors.admin, fresh_account().address, 1)  # the nonce was re-read, not skipped


def test_two_clients_on_one_account(anvil: AnvilNode, consortium: Consortium, actors: Actors) -> None:
    hospital = fresh_account()
    fund(consortium.client, [hospital])
    first = Consortium.connect(ChainClient(anvil.rpc_url), consortium.manifest, verify=False)
    second = Consortium.connect(ChainClient(anvil.rpc_url), consortium.manifest, verify=False)
    consortium.registry.approve(actors.admin, first.registry.request_membership(hospital, "Hospital"))
    for i in range(3):  # each client's cached nonce goes stale in turn
        (first if i % 2 else second).registry.update_node_key(hospital, bytes([i + 1]) * 32)
    assert consortium.registry.member(1).node_key_fingerprint == b"\x03" * 32


def test_a_revert_mined_with_explicit_gas_is_still_named(
    client: ChainClient, consortium: Consortium, actors: Actors
) -> None:
    # With an explicit gas limit nothing is simulated first: the transaction is mined, fails, and the
    # client replays it to name the reason.
    member_id = consortium.registry.request_membership(actors.hospitals[0], "Hospital")
    sender = actors.outsider
    nonce = client.w3.eth.get_transaction_count(sender.address)
    block = client.block_number()
    function = consortium.registry.contract.functions.approveMembership(member_id)
    with pytest.raises(errors.AccessControlUnauthorizedAccount) as exc:
        client.transact(function, sender, gas=200_000)
    assert exc.value.args_by_name["neededRole"] == bytes(32)
    assert client.block_number() == block + 1
    assert client.w3.eth.get_transaction_count(sender.address) == nonce + 1  # it was paid for
    failed = cast(HexBytes, client.w3.eth.get_block("latest")["transactions"][0])
    assert client.w3.eth.get_transaction_receipt(failed)["status"] == 0
    # The client counted the spent nonce: the sender's next transaction goes through.
    assert consortium.registry.request_membership(sender, "Outsider") == member_id + 1
    assert client.w3.eth.get_transaction_count(sender.address) == nonce + 2


def test_transfer(client: ChainClient, consortium: Consortium, actors: Actors) -> None:
    hospital = fresh_account()
    receipt = client.transfer(actors.admin, hospital.address, 10**17)
    assert receipt["status"] == 1
    assert client.w3.eth.get_balance(hospital.address) == 10**17
    # The funded key pays for its own transactions, and cannot spend what it does not have.
    assert consortium.registry.request_membership(hospital, "Hospital") == 1
    nonce = client.w3.eth.get_transaction_count(hospital.address)
    with pytest.raises(InsufficientFundsError, match="holds too little ether for transfer") as exc:
        client.transfer(hospital, actors.admin.address, 10**18)
    assert exc.value.address == hospital.address and 0 < exc.value.balance_wei < 10**17
    assert client.w3.eth.get_transaction_count(hospital.address) == nonce
    client.transfer(hospital, actors.admin.address, 10**16)
    assert client.w3.eth.get_transaction_count(hospital.address) == nonce + 1
    # The admin's own nonce bookkeeping is shared with its contract transactions.
    consortium.registry.approve(actors.admin, 1)
    assert consortium.registry.active_member_id_of(hospital.address) == 1


# -- keystores -------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def keystore(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, LocalAccount]:
    """One keystore (scrypt is slow: made once for the module) and the account in it."""
    path = tmp_path_factory.mktemp("keys") / "hospital.json"
    account = create_keystore(path, PASSWORD, private_key=dev_account(7).key)
    return path, account


def test_keystore_roundtrip(keystore: tuple[Path, LocalAccount]) -> None:
    path, account = keystore
    assert account.address == dev_account(7).address
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    data = json.loads(path.read_text())
    assert data["address"].lower() == account.address[2:].lower()
    assert account.key.hex() not in path.read_text()
    loaded = load_keystore(path, PASSWORD)
    assert loaded.address == account.address
    assert loaded.key == account.key


def test_keystore_with_a_fresh_key(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "dir" / "fresh.json"
    account = create_keystore(path, PASSWORD)
    assert path.exists()
    assert account.address not in {dev_account(i).address for i in range(10)}
    assert json.loads(path.read_text())["address"].lower() == account.address[2:].lower()


def test_keystore_wrong_password(keystore: tuple[Path, LocalAccount]) -> None:
    path, _ = keystore
    with pytest.raises(KeystoreError, match="wrong password") as exc:
        load_keystore(path, PASSWORD + "!")
    assert str(path) in str(exc.value)


def test_keystore_refuses_to_overwrite(keystore: tuple[Path, LocalAccount]) -> None:
    path, _ = keystore
    before = path.read_bytes()
    with pytest.raises(KeystoreError, match="refusing to overwrite"):
        create_keystore(path, PASSWORD)
    assert path.read_bytes() == before


def test_keystore_password_too_short(tmp_path: Path) -> None:
    path = tmp_path / "k.json"
    with pytest.raises(KeystoreError, match="at least 8"):
        create_keystore(path, "short")
    assert not path.exists()


def test_damaged_keystores(tmp_path: Path, keystore: tuple[Path, LocalAccount]) -> None:
    not_json = tmp_path / "not-json.json"
    not_json.write_text('{"version": 3, "crypto": ')
    with pytest.raises(KeystoreError, match="not valid JSON"):
        load_keystore(not_json, PASSWORD)

    missing_field = tmp_path / "missing.json"
    missing_field.write_text(json.dumps({"address": "00" * 20}))
    with pytest.raises(KeystoreError, match="missing a field"):
        load_keystore(missing_field, PASSWORD)

    with pytest.raises(KeystoreError, match="cannot read keystore"):
        load_keystore(tmp_path / "absent.json", PASSWORD)

    path, _ = keystore
    tampered = json.loads(path.read_text())
    tampered["crypto"]["ciphertext"] = "00" * 32
    damaged = tmp_path / "tampered.json"
    damaged.write_text(json.dumps(tampered))
    with pytest.raises(KeystoreError):
        load_keystore(damaged, PASSWORD)


def test_read_password(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    password_file = tmp_path / "password.txt"
    password_file.write_text("from the file\n")
    monkeypatch.setenv(PASSWORD_ENV, "from the environment")
    # A file wins over the environment; only its trailing newline is dropped.
    assert read_password(password_file) == "from the file"
    assert read_password() == "from the environment"
    password_file.write_text("  spaces kept  \r\n")
    assert read_password(password_file) == "  spaces kept  "
    monkeypatch.setenv("OTHER_VAR", "other")
    assert read_password(env_var="OTHER_VAR") == "other"


def test_read_password_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    with pytest.raises(KeystoreError, match=PASSWORD_ENV):
        read_password()
    monkeypatch.setenv(PASSWORD_ENV, "")
    with pytest.raises(KeystoreError, match="no keystore password"):
        read_password()
    with pytest.raises(KeystoreError, match="cannot read password file"):
        read_password(tmp_path / "absent.txt")
    empty = tmp_path / "empty.txt"
    empty.write_text("\n")
    with pytest.raises(KeystoreError, match="is empty"):
        read_password(empty)


# -- manifests -------------------------------------------------------------------------------------
def test_manifest_roundtrip(tmp_path: Path, consortium: Consortium) -> None:
    manifest = consortium.manifest
    path = tmp_path / "deep" / "deployment.json"
    manifest.save(path)
    loaded = DeploymentManifest.load(path)
    assert loaded == manifest
    assert loaded.address("RoundLedger") == consortium.ledger.address
    assert set(loaded.contracts) == {
        "ConsortiumRegistry",
        "RoundLedger",
        "ReputationLedger",
        "RewardToken",
        "RewardDistributor",
    }
    assert loaded.stale_abis() == []
    with pytest.raises(ManifestError, match="no contract 'Nope'"):
        loaded.address("Nope")


def test_malformed_manifests(tmp_path: Path, consortium: Consortium) -> None:
    path = tmp_path / "deployment.json"
    with pytest.raises(ManifestError, match="cannot read"):
        DeploymentManifest.load(path)
    path.write_text("{ not json")
    with pytest.raises(ManifestError, match="malformed"):
        DeploymentManifest.load(path)
    data = json.loads(consortium.manifest.model_dump_json())
    del data["chain_id"]
    path.write_text(json.dumps(data))
    with pytest.raises(ManifestError, match="malformed"):
        DeploymentManifest.load(path)
    data = json.loads(consortium.manifest.model_dump_json())
    data["parameters"]["smoothing"] = 0
    path.write_text(json.dumps(data))
    with pytest.raises(ManifestError, match="malformed"):
        DeploymentManifest.load(path)
    data = json.loads(consortium.manifest.model_dump_json())
    data["parameters"]["exclusion_threshold"] = data["parameters"]["initial_reputation"] + 1
    path.write_text(json.dumps(data))
    with pytest.raises(ManifestError, match="must be at least exclusion_threshold"):
        DeploymentManifest.load(path)
    data = json.loads(consortium.manifest.model_dump_json())
    data["schema_version"] = 99
    path.write_text(json.dumps(data))
    with pytest.raises(ManifestError, match="schema 99"):
        DeploymentManifest.load(path)
    path.write_text("[]")
    with pytest.raises(ManifestError, match="malformed"):
        DeploymentManifest.load(path)


@pytest.mark.parametrize(
    ("version", "removed"),
    [
        # Schema 1 predates the exclusion threshold: its ReputationLedger takes two parameters.
        (1, ("exclusion_threshold", "admin_delay_s", "min_participants", "mint_window_blocks", "mint_limit")),
        # Schema 2 predates the admin delay and the minting rule: other constructors altogether.
        (2, ("admin_delay_s", "min_participants", "mint_window_blocks", "mint_limit")),
        # Schema 3 predates the privacy budget: the RoundLedger took two parameters.
        (3, ("privacy_epsilon", "privacy_delta")),
    ],
)
def test_a_manifest_of_an_older_schema_is_named_as_old(
    tmp_path: Path, consortium: Consortium, version: int, removed: tuple[str, ...]
) -> None:
    # Refused by its version (deploy again), not reported as a missing field or read with defaults.
    assert SCHEMA_VERSION == 4
    data = json.loads(consortium.manifest.model_dump_json())
    data["schema_version"] = version
    for field in removed:
        del data["parameters"][field]
    path = tmp_path / "deployment.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ManifestError, match=rf"schema {version}, expected 4: .*deploy again"):
        DeploymentManifest.load(path)


def test_connect_checks_the_chain_id(client: ChainClient, consortium: Consortium) -> None:
    wrong = consortium.manifest.model_copy(update={"chain_id": client.chain_id + 1})
    with pytest.raises(ManifestError, match="chain id") as exc:
        Consortium.connect(client, wrong)
    assert str(client.chain_id + 1) in str(exc.value)
    # Without verification it binds anyway (the caller's choice).
    assert Consortium.connect(client, wrong, verify=False).ledger.address == consortium.ledger.address


def test_connect_checks_contract_code(client: ChainClient, consortium: Consortium, actors: Actors) -> None:
    nowhere = fresh_account().address
    for address in (nowhere, actors.admin.address):  # an empty address, and an account without code
        record = consortium.manifest.contracts["RewardToken"].model_copy(update={"address": address})
        contracts = {**consortium.manifest.contracts, "RewardToken": record}
        broken = consortium.manifest.model_copy(update={"contracts": contracts})
        with pytest.raises(ManifestError, match="no contract code for RewardToken") as exc:
            Consortium.connect(client, broken)
        assert address in str(exc.value)


def test_connect_checks_abi_hashes(client: ChainClient, consortium: Consortium) -> None:
    record = consortium.manifest.contracts["RoundLedger"]
    stale = ContractRecord(address=record.address, abi_hash="0x" + "00" * 32, tx_hash=record.tx_hash)
    manifest = consortium.manifest.model_copy(
        update={"contracts": {**consortium.manifest.contracts, "RoundLedger": stale}}
    )
    assert manifest.stale_abis() == ["RoundLedger"]
    with pytest.raises(ManifestError, match="RoundLedger"):
        Consortium.connect(client, manifest)


def test_an_out_of_gas_transaction_is_a_chain_error(
    client: ChainClient, consortium: Consortium, actors: Actors
) -> None:
    member_id = consortium.registry.request_membership(actors.hospitals[0], "Hospital")
    fn = consortium.registry.contract.functions.approveMembership(member_id)
    with pytest.raises(TransactionFailedError):
        client.transact(fn, actors.admin, gas=22_000)
    assert consortium.registry.member(member_id).status.name == "PENDING"


def test_an_unsupported_keystore_version_is_a_keystore_error(tmp_path: Path) -> None:
    path = tmp_path / "k.json"
    create_keystore(path, "password123")
    data = json.loads(path.read_text())
    data["version"] = 2
    path.write_text(json.dumps(data))
    with pytest.raises(KeystoreError, match="unsupported format"):
        load_keystore(path, "password123")
