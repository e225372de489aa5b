"""The ClientApp's light, web3-free view of the consortium (plain JSON-RPC) reads what the web3
Ledger and Registry read, on a real Anvil with the deployed contracts, and refuses what
``Consortium.connect`` refuses, with the same messages."""

from __future__ import annotations

import numpy as np
import pytest

from bcfl.chain.anvil import free_port
from bcfl.chain.client import ChainClient
from bcfl.chain.consortium import Consortium
from bcfl.chain.exceptions import ChainError, ChainUnreachableError, ManifestError
from bcfl.chain.jsonrpc import JsonRpc
from bcfl.chain.manifest import ContractRecord
from bcfl.chain.rounds import RoundStatus
from bcfl.chain.view import ConsortiumView
from bcfl.models.canonical import model_hash
from hospital_node.verify import GlobalModelRejectedError, check_global_model
from tests.chain.helpers import GENESIS, TEST_APP, fresh_account, h
from tests.conftest import Actors


def _view(client: ChainClient, consortium: Consortium) -> ConsortiumView:
    return ConsortiumView.connect(JsonRpc(client.rpc_url), consortium.manifest)


def test_rounds_and_lineage_starts_read_as_the_ledger_reads_them(
    client: ChainClient, consortium: Consortium, actors: Actors
) -> None:
    ledger, view = consortium.ledger, _view(client, consortium).ledger
    first = ledger.open_round(actors.coordinator, GENESIS, h("config"), TEST_APP)
    ledger.finalize_round(actors.coordinator, first, h("aggregate"), h("metrics"), [], [])
    second = ledger.open_round(actors.coordinator, h("aggregate"), h("config 2"), TEST_APP)
    ledger.finalize_round(actors.coordinator, second, h("aggregate 2"), h("metrics 2"), [], [])
    ledger.start_lineage(actors.admin, h("restart"), "test: a second lineage, reason in ünicode")
    third = ledger.open_round(actors.coordinator, h("restart"), h("config 3"), TEST_APP)
    for number in (first, second, third, third + 1):
        assert view.get_round(number) == ledger.get_round(number)
    assert [view.get_round(n).status for n in (first, third, third + 1)] == [
        RoundStatus.FINALIZED,
        RoundStatus.OPEN,
        RoundStatus.NONE,
    ]
    assert view.get_round(third).lineage == 2
    assert view.get_round(second).parent_round == first
    starts = ledger.lineage_starts()
    assert len(starts) == 2
    assert view.lineage_starts() == starts
    for lineage in (1, 2, 3):
        assert view.lineage_starts(lineage) == ledger.lineage_starts(lineage)
    assert [s.model_hash for s in view.lineage_starts(2)] == [h("restart")]
    assert view.domain() == ledger.domain()
    assert view.address == ledger.address


def test_the_hospitals_check_reads_the_view_as_the_ledger(
    client: ChainClient, consortium: Consortium, actors: Actors
) -> None:
    ledger, view = consortium.ledger, _view(client, consortium).ledger
    first = ledger.open_round(actors.coordinator, GENESIS, h("config"), TEST_APP)
    model = {"w": np.zeros(3, dtype=np.float32)}
    for reader in (ledger, view):
        with pytest.raises(GlobalModelRejectedError, match="hashes to") as refused:
            check_global_model(reader, first, model)
        assert "registered 0x" + GENESIS.hex() in str(refused.value)
        with pytest.raises(GlobalModelRejectedError, match="round 9 is not open on chain"):
            check_global_model(reader, 9, model)
    ledger.finalize_round(actors.coordinator, first, model_hash(model), h("metrics"), [], [])
    second = ledger.open_round(actors.coordinator, model_hash(model), h("config"), TEST_APP)
    assert check_global_model(view, second, model) == check_global_model(ledger, second, model)


def test_membership_reads_as_the_registry_reads_it(
    client: ChainClient, consortium: Consortium, members: list[int], actors: Actors
) -> None:
    view = _view(client, consortium).registry
    for account in (*actors.hospitals, actors.outsider, fresh_account()):
        expected = consortium.registry.active_member_id_of(account.address)
        assert view.active_member_id_of(account.address) == expected
        assert view.active_member_id_of(account.address.lower()) == expected
    assert [view.active_member_id_of(a.address) for a in actors.hospitals[:3]] == members
    consortium.registry.suspend(actors.admin, members[0], "test: suspended")
    assert view.active_member_id_of(actors.hospitals[0].address) == 0


def test_connect_refuses_what_the_web3_consortium_refuses(
    client: ChainClient, consortium: Consortium
) -> None:
    rpc = JsonRpc(client.rpc_url)
    record = consortium.manifest.contracts["RoundLedger"]
    stale = ContractRecord(address=record.address, abi_hash="0x" + "00" * 32, tx_hash=record.tx_hash)
    token = consortium.manifest.contracts["RewardToken"].model_copy(
        update={"address": fresh_account().address}
    )
    broken = {
        "chain id": consortium.manifest.model_copy(update={"chain_id": client.chain_id + 1}),
        "abi": consortium.manifest.model_copy(
            update={"contracts": {**consortium.manifest.contracts, "RoundLedger": stale}}
        ),
        "code": consortium.manifest.model_copy(
            update={"contracts": {**consortium.manifest.contracts, "RewardToken": token}}
        ),
    }
    for manifest in broken.values():
        with pytest.raises(ManifestError) as web3_refusal:
            Consortium.connect(client, manifest)
        with pytest.raises(ManifestError) as view_refusal:
            ConsortiumView.connect(rpc, manifest)
        assert str(view_refusal.value) == str(web3_refusal.value)
    unchecked = ConsortiumView.connect(rpc, broken["chain id"], verify=False)
    assert unchecked.ledger.address == consortium.ledger.address


def test_an_unreachable_endpoint_is_named_as_the_web3_client_names_it() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    rpc = JsonRpc(url, retries=2, backoff_s=0.01)
    with pytest.raises(ChainUnreachableError, match="after 3 tries") as exc:
        rpc.block_number()
    assert url in str(exc.value)
    with pytest.raises(ChainUnreachableError) as web3_exc:
        ChainClient(url, retries=2, backoff_s=0.01).block_number()
    assert str(exc.value).split(" (")[0] == str(web3_exc.value).split(" (")[0]


def test_an_http_error_status_is_an_answer_not_an_outage() -> None:
    import http.server
    import threading

    asked: list[str] = []

    class Refusing(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            asked.append(self.path)
            self.send_response(503)
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            del format, args

    server = http.server.HTTPServer(("127.0.0.1", 0), Refusing)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        rpc = JsonRpc(f"http://127.0.0.1:{server.server_port}", retries=3, backoff_s=0.01)
        with pytest.raises(ChainError, match="answered eth_blockNumber with HTTP 503") as exc:
            rpc.block_number()
    finally:
        server.shutdown()
    assert not isinstance(exc.value, ChainUnreachableError) and len(asked) == 1  # not retried
