"""The chain client across RPC outages and a slow endpoint, through a real TCP proxy in front of the
session's real Anvil (tests/chain/rpc_proxy.py): an endpoint that answered before is waited for
(:data:`bcfl.chain.retry.OUTAGE_S`), a transaction whose answer was lost in the outage is found by
its hash afterwards and never sent twice, and an outage longer than the patience is one clear error
with nothing half-written."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator

import pytest
from eth_typing import ChecksumAddress
from hexbytes import HexBytes

from bcfl.chain.anvil import AnvilNode
from bcfl.chain.client import ChainClient
from bcfl.chain.exceptions import ChainUnreachableError, TransactionStatusUnknownError
from bcfl.chain.retry import OUTAGE_S
from tests.chain.helpers import fresh_account
from tests.chain.rpc_proxy import RpcProxy
from tests.conftest import Actors

#: The outage the issue names: the RPC endpoint unreachable for 30 s.
OUTAGE = 30.0


@pytest.fixture
def proxy(anvil: AnvilNode) -> Iterator[RpcProxy]:
    with RpcProxy(anvil.port) as running:
        yield running


def _back_up_after(proxy: RpcProxy, seconds: float, when: threading.Event) -> threading.Thread:
    """A thread bringing ``proxy`` back ``seconds`` after ``when`` is set."""

    def run() -> None:
        when.wait(120)
        threading.Event().wait(seconds)
        proxy.up()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_a_send_whose_answer_is_lost_in_a_30_s_outage_is_found_not_resent(
    proxy: RpcProxy, anvil: AnvilNode, actors: Actors, caplog: pytest.LogCaptureFixture
) -> None:
    assert OUTAGE < OUTAGE_S
    client = ChainClient(proxy.url)
    direct = ChainClient(anvil.rpc_url)
    sender = actors.outsider
    nonce = direct.w3.eth.get_transaction_count(sender.address)
    recipient = fresh_account().address
    assert client.block_number() >= 0  # the endpoint has answered: from now on it is waited for
    proxy.cut_after("eth_sendRawTransaction")  # the node takes the transaction; the answer is lost
    went_down = threading.Event()
    cut = threading.Thread(target=_wait_for_cut, args=(proxy, went_down), daemon=True)
    cut.start()
    back = _back_up_after(proxy, OUTAGE, went_down)
    with caplog.at_level(logging.WARNING, logger="bcfl.chain.retry"):
        receipt = client.transfer(sender, recipient, 12345)
    back.join()
    assert proxy.cut_requests == 1 and receipt["status"] == 1
    assert direct.w3.eth.get_balance(recipient) == 12345  # sent once, not twice
    assert direct.w3.eth.get_transaction_count(sender.address) == nonce + 1
    assert sum("chain unreachable" in r.getMessage() for r in caplog.records) >= 5
    client.transfer(sender, recipient, 1)  # and the client's nonce is right afterwards
    assert direct.w3.eth.get_transaction_count(sender.address) == nonce + 2


def _wait_for_cut(proxy: RpcProxy, went_down: threading.Event) -> None:
    for _ in range(12000):
        if proxy.cut_requests:
            went_down.set()
            return
        threading.Event().wait(0.01)


def test_a_slow_endpoint_is_waited_for(proxy: RpcProxy, anvil: AnvilNode, actors: Actors) -> None:
    client = ChainClient(proxy.url)
    recipient = fresh_account().address
    proxy.delay_s = 1.0  # every request and every answer held back 1 s
    assert client.transfer(actors.outsider, recipient, 7)["status"] == 1
    assert ChainClient(anvil.rpc_url).w3.eth.get_balance(recipient) == 7


def _short_patience(
    proxy: RpcProxy, anvil: AnvilNode, actors: Actors
) -> tuple[ChainClient, ChainClient, int, ChecksumAddress]:
    """A client through ``proxy`` waiting 2 s for an endpoint that answered (it has), one straight to
    Anvil, the outsider's nonce and a fresh recipient."""
    client = ChainClient(proxy.url, outage_s=2.0)
    direct = ChainClient(anvil.rpc_url)
    assert client.block_number() >= 0
    nonce = direct.w3.eth.get_transaction_count(actors.outsider.address)
    return client, direct, nonce, fresh_account().address


def test_an_outage_longer_than_the_patience_is_one_clear_error_with_nothing_sent(
    proxy: RpcProxy, anvil: AnvilNode, actors: Actors
) -> None:
    client, direct, nonce, recipient = _short_patience(proxy, anvil, actors)
    sender = actors.outsider
    proxy.down()
    with pytest.raises(ChainUnreachableError, match=r"did not answer .* for 2 s \(\d+ tries") as exc:
        client.transfer(sender, recipient, 5)
    assert proxy.url in str(exc.value)
    assert direct.w3.eth.get_transaction_count(sender.address, "pending") == nonce  # nothing sent
    proxy.up()
    client.transfer(sender, recipient, 5)
    assert direct.w3.eth.get_balance(recipient) == 5
    assert direct.w3.eth.get_transaction_count(sender.address) == nonce + 1


@pytest.mark.parametrize("lost", ["eth_sendRawTransaction", "eth_getTransactionReceipt"])
def test_a_send_lost_in_an_outage_longer_than_the_patience_names_the_transaction(
    proxy: RpcProxy, anvil: AnvilNode, actors: Actors, lost: str
) -> None:
    """The answer to the send, or to the first look for its receipt, is lost and the endpoint stays
    away: the transaction may have reached the chain (here it did), so the error names it for it to be
    looked up, and the client re-reads its nonce instead of reusing or skipping one."""
    client, direct, nonce, recipient = _short_patience(proxy, anvil, actors)
    sender = actors.outsider
    proxy.cut_after(lost)
    with pytest.raises(TransactionStatusUnknownError) as exc:
        client.transfer(sender, recipient, 9)
    assert proxy.cut_requests == 1
    assert exc.value.tx_hash in str(exc.value) and "look it up" in str(exc.value)
    found = direct.w3.eth.get_transaction(HexBytes(exc.value.tx_hash))  # it did reach the chain
    assert found["nonce"] == nonce and direct.w3.eth.get_balance(recipient) == 9
    proxy.up()
    client.transfer(sender, recipient, 1)
    assert direct.w3.eth.get_transaction_count(sender.address) == nonce + 2
    assert direct.w3.eth.get_balance(recipient) == 10
