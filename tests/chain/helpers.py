"""Small helpers shared by the chain integration tests."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak
from hexbytes import HexBytes
from web3.types import RPCEndpoint, TxReceipt

from bcfl.chain.client import ChainClient
from bcfl.chain.consortium import Consortium
from bcfl.chain.deploy import DEFAULT_PARAMETERS, deploy_consortium
from bcfl.chain.devkeys import dev_account
from bcfl.chain.eip712 import LedgerDomain, ModelUpdate, SignedModelUpdate, recover_signer, sign_update
from bcfl.chain.events import ChainEvent
from bcfl.chain.ledger import RegisteredUpdate

#: A funded dev account no test gives a role to: it pays for fresh keys, so the session client's
#: cached nonces of the role accounts never go stale behind its back.
FUNDER_INDEX = 8
ONE_ETH = 10**18


def h(label: str) -> bytes:
    """A deterministic, non-zero 32-byte hash for ``label``."""
    return keccak(text=label)


#: The app hash the ``consortium`` fixture approves: a stand-in for a Flower App bundle's sha256.
TEST_APP = h("test app")
#: The model the ``consortium`` fixture's lineage starts from.
GENESIS = h("genesis model")


def random_hash() -> bytes:
    """A random 32-byte hash (never zero in practice)."""
    return os.urandom(32)


def fresh_account() -> LocalAccount:
    """A new random key with no ETH and no history."""
    account: LocalAccount = Account.create()
    return account


def fund(client: ChainClient, accounts: Sequence[LocalAccount], amount_wei: int = ONE_ETH) -> None:
    """Send ``amount_wei`` to every account by plain value transfers from the funder dev account."""
    funder = dev_account(FUNDER_INDEX)
    w3 = client.w3
    nonce = w3.eth.get_transaction_count(funder.address, "pending")
    gas_price = w3.eth.gas_price
    hashes: list[HexBytes] = []
    for offset, account in enumerate(accounts):
        tx: dict[str, Any] = {
            "to": account.address,
            "value": amount_wei,
            "gas": 21_000,
            "gasPrice": gas_price * 2,
            "nonce": nonce + offset,
            "chainId": client.chain_id,
        }
        signed = funder.sign_transaction(tx)
        hashes.append(HexBytes(w3.eth.send_raw_transaction(signed.raw_transaction)))
    for tx_hash in hashes:
        assert client.wait_for_receipt(tx_hash)["status"] == 1
    for account in accounts:
        assert w3.eth.get_balance(account.address) >= amount_wei


def funded_accounts(client: ChainClient, count: int) -> list[LocalAccount]:
    """``count`` fresh keys, each funded with one ETH."""
    accounts = [fresh_account() for _ in range(count)]
    fund(client, accounts)
    return accounts


def admit(consortium: Consortium, admin: LocalAccount, hospital: LocalAccount, name: str) -> int:
    """Request membership with ``hospital``'s key and approve it as the admin; returns the member id."""
    member_id = consortium.registry.request_membership(hospital, name)
    consortium.registry.approve(admin, member_id)
    return member_id


def sign(
    consortium: Consortium,
    account: LocalAccount,
    round_number: int,
    global_model_hash: bytes,
    update_hash: bytes,
    num_examples: int,
    domain: LedgerDomain | None = None,
) -> SignedModelUpdate:
    """``account``'s signature over an update, under this deployment's domain unless one is given."""
    update = ModelUpdate(round_number, global_model_hash, update_hash, num_examples)
    return sign_update(account, domain or consortium.ledger.domain(), update)


def prepare_rounds(consortium: Consortium, admin: LocalAccount, start: bytes = GENESIS) -> None:
    """What the consortium approves before any round: the test app, and a lineage from ``start``."""
    consortium.ledger.approve_app(admin, TEST_APP)
    consortium.ledger.start_lineage(admin, start, "test: the first model")


def deploy_ready(
    client: ChainClient, admin: LocalAccount, coordinator: LocalAccount, **parameters: Any
) -> Consortium:
    """A consortium deployed with ``parameters`` changed from the defaults, ready for rounds (the test
    app approved, a lineage started from ``GENESIS``)."""
    manifest = deploy_consortium(
        client,
        admin,
        coordinator=coordinator.address,
        parameters=DEFAULT_PARAMETERS.model_copy(update=parameters),
    )
    consortium = Consortium.connect(client, manifest)
    prepare_rounds(consortium, admin)
    return consortium


def mine_blocks(client: ChainClient, count: int) -> None:
    """Mine ``count`` empty blocks (Anvil's ``anvil_mine``)."""
    if count:
        client.w3.provider.make_request(RPCEndpoint("anvil_mine"), [hex(count)])


def advance_time(client: ChainClient, seconds: int) -> None:
    """Move the chain's clock ``seconds`` ahead and mine a block at the new time (calls and gas
    estimates run against the latest block)."""
    client.w3.provider.make_request(RPCEndpoint("evm_increaseTime"), [seconds])
    mine_blocks(client, 1)


def mine_to_window_start(client: ChainClient, window_blocks: int) -> None:
    """Mine empty blocks until the latest block is the first of a minting window (at least one): calls
    and gas estimates (run against the latest block) see the new window, and the next transactions,
    up to ``window_blocks - 1`` of them, land in it."""
    mine_blocks(client, -client.block_number() % window_blocks or window_blocks)
    assert client.block_number() % window_blocks == 0


def open_from(
    consortium: Consortium,
    admin: LocalAccount,
    coordinator: LocalAccount,
    model: bytes,
    config_hash: bytes | None = None,
) -> int:
    """Open the next round from ``model``: from the lineage's head when ``model`` is the head, else after
    the admin starts a new lineage from it (the approved path to another model); the round number."""
    if consortium.ledger.lineage_head().model_hash != model:
        consortium.ledger.start_lineage(admin, model, "test: start from another model")
    return consortium.ledger.open_round(coordinator, model, config_hash or h("config"), TEST_APP)


def open_next(consortium: Consortium, coordinator: LocalAccount) -> int:
    """Open the next round from the lineage's head (the previous aggregate, or the lineage's start)."""
    head = consortium.ledger.lineage_head().model_hash
    return consortium.ledger.open_round(coordinator, head, h("config"), TEST_APP)


def global_hash_of(consortium: Consortium, round_number: int) -> bytes:
    """The global model hash a round was opened with."""
    return consortium.ledger.get_round(round_number).global_model_hash


def submit(
    consortium: Consortium,
    coordinator: LocalAccount,
    round_number: int,
    signers: Sequence[LocalAccount],
    num_examples: int = 100,
) -> list[SignedModelUpdate]:
    """Sign one update per signer for an open round and register them in one transaction."""
    global_hash = global_hash_of(consortium, round_number)
    updates = [
        sign(
            consortium,
            account,
            round_number,
            global_hash,
            h(f"update {round_number} {account.address}"),
            num_examples,
        )
        for account in signers
    ]
    consortium.ledger.register_updates(coordinator, round_number, updates)
    return updates


def run_round(
    consortium: Consortium,
    coordinator: LocalAccount,
    submitters: Mapping[int, LocalAccount],
    participants: Sequence[int] | None = None,
    *,
    finalize: bool = True,
) -> int:
    """Open a round, register an update by each submitter (member id -> key), and finalize it with
    ``participants`` (default: every submitter, weighted by member id), from the lineage's head; returns
    the round number (its aggregate ``h("aggregate N")`` becomes the head)."""
    round_number = open_next(consortium, coordinator)
    if submitters:
        submit(consortium, coordinator, round_number, list(submitters.values()))
    if finalize:
        chosen = sorted(submitters) if participants is None else list(participants)
        consortium.ledger.finalize_round(
            coordinator, round_number, h(f"aggregate {round_number}"), h("metrics"), chosen, chosen
        )
    return round_number


def names(events: Sequence[ChainEvent]) -> list[str]:
    """The event names, in order."""
    return [event.name for event in events]


def receipt_block(receipt: TxReceipt) -> int:
    """The block a receipt's transaction was mined in."""
    block: int = receipt["blockNumber"]
    return block


def recovered_signers(consortium: Consortium, registered: Sequence[RegisteredUpdate]) -> list[str]:
    """The key that signed each registered update, found as an auditor finds it (``UpdateRegistered``
    names no signer): the registration transaction's input decoded (``Ledger.registered_signatures``),
    the entries with the update's round, hash and example count recovered under the ledger's domain;
    AssertionError unless they recover to exactly one key."""
    domain = consortium.ledger.domain()
    entries: dict[str, list[SignedModelUpdate]] = {}
    found: list[str] = []
    for u in registered:
        if u.tx_hash not in entries:
            entries[u.tx_hash] = consortium.ledger.registered_signatures(u.tx_hash)
        keys = {
            recover_signer(domain, e)
            for e in entries[u.tx_hash]
            if (e.update.round, e.update.update_hash, e.update.num_examples)
            == (u.round, u.update_hash, u.num_examples)
        }
        assert len(keys) == 1, f"update {u.update_hash.hex()} recovers to {sorted(keys)} in {u.tx_hash}"
        found.append(keys.pop())
    return found


def signer_at(consortium: Consortium, member_id: int, block: int) -> str:
    """The member's key as the registry's events have it at the end of ``block`` (``MemberActivated``,
    then each ``SignerRotated``): what an auditor compares a recovered signer with."""
    signer = ""
    for event in consortium.registry.membership_history(member_id, to_block=block):
        if event.name == "MemberActivated":
            signer = event.args["signer"]
        elif event.name == "SignerRotated":
            signer = event.args["newSigner"]
    assert signer, f"member {member_id} was not active at block {block}"
    return signer


def audited_signers(consortium: Consortium, registered: Sequence[RegisteredUpdate]) -> list[str]:
    """:func:`recovered_signers`, each checked against the member's key at its registration block."""
    signers = recovered_signers(consortium, registered)
    for u, signer in zip(registered, signers, strict=True):
        assert signer == signer_at(consortium, u.member_id, u.block_number), (
            f"update of member {u.member_id} in {u.tx_hash} was signed by {signer}, not the member's key"
        )
    return signers
