"""JSON-RPC access with bounded retries, per-account nonce management and named reverts."""

from __future__ import annotations

import copy
import logging
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar, cast

import requests
from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress
from hexbytes import HexBytes
from web3 import HTTPProvider, Web3
from web3.contract import Contract
from web3.contract.contract import ContractFunction
from web3.exceptions import ContractLogicError, TransactionNotFound, Web3RPCError
from web3.types import BlockIdentifier, RPCEndpoint, TxParams, TxReceipt, Wei

from bcfl.chain.artifacts import abi_of, load_artifact
from bcfl.chain.endpoint import check_rpc_url
from bcfl.chain.exceptions import (
    ChainError,
    ChainUnreachableError,
    InsufficientFundsError,
    TransactionFailedError,
    TransactionStatusUnknownError,
    TransactionTimeoutError,
    redact_url,
)
from bcfl.chain.retry import OUTAGE_S, Retrier
from bcfl.chain.revert import decode_revert, revert_data

logger = logging.getLogger(__name__)
T = TypeVar("T")

_TRANSIENT = (requests.exceptions.ConnectionError, requests.exceptions.Timeout, ConnectionError)
_INSUFFICIENT_FUNDS = "insufficient funds"
_NONCE_ERRORS = ("nonce too low", "already known", "replacement transaction underpriced")
#: Gas sent above an estimate: a quarter more (see :func:`_with_headroom`).
GAS_HEADROOM_DIVISOR = 4


class ChainClient:
    """One JSON-RPC endpoint, used by every service through the typed contract wrappers.

    Only standard ``eth_*`` methods are used, so any Ethereum node works (Anvil, Hardhat, Geth dev).
    """

    def __init__(
        self,
        rpc_url: str,
        *,
        retries: int = 5,
        backoff_s: float = 0.2,
        timeout_s: float = 30.0,
        receipt_timeout_s: float = 120.0,
        outage_s: float = OUTAGE_S,
    ) -> None:
        self.rpc_url = check_rpc_url(rpc_url)
        #: Retries while the endpoint is unreachable: ``retries`` tries if it never answered, and for
        #: ``outage_s`` seconds once it has (0: the tries only).
        self._retrier = Retrier(self.rpc_url, _TRANSIENT, retries, backoff_s, outage_s)
        self.receipt_timeout_s = receipt_timeout_s
        # The chain id never changes under an endpoint: web3 would otherwise ask for it before every
        # transaction it validates (about half of all requests).
        provider = HTTPProvider(
            rpc_url,
            request_kwargs={"timeout": timeout_s},
            exception_retry_configuration=None,
            cache_allowed_requests=True,
            cacheable_requests={RPCEndpoint("eth_chainId")},
        )
        self.w3 = Web3(provider)
        #: Each account's next nonce by what this client sent: a lower count from the node means the chain
        #: went back (:meth:`_nonce`).
        self._nonces: dict[ChecksumAddress, int] = {}
        self._locks: dict[ChecksumAddress, threading.Lock] = {}
        self._locks_guard = threading.Lock()
        self._chain_id: int | None = None
        #: The block view functions read at unless told otherwise (see :meth:`pinned`).
        self.at_block: BlockIdentifier = "latest"

    # -- plumbing -------------------------------------------------------------------------------
    def retrying(self, what: str, fn: Callable[[], T]) -> T:
        """Run ``fn``, retrying with exponential back-off while the endpoint is unreachable: ``retries``
        times if it never answered, for ``outage_s`` seconds once it has (:mod:`bcfl.chain.retry`)."""
        return self._retrier(what, fn)

    @property
    def chain_id(self) -> int:
        """The chain id (read once)."""
        if self._chain_id is None:
            self._chain_id = self.retrying("eth_chainId", lambda: self.w3.eth.chain_id)
        return self._chain_id

    def get_code(self, address: str) -> bytes:
        """The code deployed at ``address`` (empty where there is none)."""
        code: bytes = self.retrying(
            "eth_getCode", lambda: self.w3.eth.get_code(Web3.to_checksum_address(address))
        )
        return code

    def block_number(self) -> int:
        """The latest block number."""
        return self.retrying("eth_blockNumber", lambda: self.w3.eth.block_number)

    def contract(self, name: str, address: str) -> Contract:
        """A web3 contract object for the generated ABI of ``name`` at ``address``."""
        return self.w3.eth.contract(address=Web3.to_checksum_address(address), abi=abi_of(name))

    # -- calls and transactions -----------------------------------------------------------------
    def pinned(self, block: BlockIdentifier) -> ChainClient:
        """A client on the same endpoint whose view calls read the state at ``block`` (an audit reads
        the chain's state as of the last block it indexed, not a head that moved on since)."""
        clone = copy.copy(self)
        clone.at_block = block
        return clone

    def call(self, fn: ContractFunction, block: BlockIdentifier | None = None) -> Any:
        """Run a view function (at ``block``, by default the client's :attr:`at_block`); a revert
        becomes its named exception."""
        block = self.at_block if block is None else block
        try:
            return self.retrying(f"call {fn.fn_name}", lambda: fn.call(block_identifier=block))
        except ContractLogicError as exc:
            raise decode_revert(revert_data(exc.data)) from exc

    def transact(self, fn: ContractFunction, sender: LocalAccount, *, gas: int | None = None) -> TxReceipt:
        """Sign and send a contract transaction from ``sender`` and wait for its receipt.

        The call is simulated first (gas estimation), so a revert raises its named exception before
        anything is sent or paid for.
        """
        params: TxParams = {"from": sender.address, "chainId": self.chain_id}
        if gas is not None:
            params["gas"] = gas

        def build(nonce: int) -> TxParams:
            tx = fn.build_transaction(_with_nonce(params, nonce))
            return tx if gas is not None else _with_headroom(tx)

        return self._send(sender, build, fn.fn_name)

    def transfer(self, sender: LocalAccount, to: str, value_wei: int) -> TxReceipt:
        """Send ether (e.g. to fund a new hospital key's transaction fees)."""
        params: TxParams = {
            "from": sender.address,
            "to": Web3.to_checksum_address(to),
            "value": Wei(value_wei),
            "chainId": self.chain_id,
        }

        def build(nonce: int) -> TxParams:
            tx = _with_nonce(params, nonce)
            tx["gas"] = self.retrying("eth_estimateGas", lambda: self.w3.eth.estimate_gas(tx))
            fees = self.retrying("eth_feeHistory", self._fees)
            return cast(TxParams, {**tx, **fees})

        return self._send(sender, build, "transfer")

    def _fees(self) -> dict[str, int]:
        base = self.w3.eth.get_block("latest").get("baseFeePerGas", 0)
        tip = self.w3.eth.max_priority_fee
        return {"maxFeePerGas": 2 * base + tip, "maxPriorityFeePerGas": tip}

    def deploy(self, name: str, sender: LocalAccount, *args: Any) -> tuple[ChecksumAddress, TxReceipt]:
        """Deploy contract ``name`` from its generated bytecode; returns its address and receipt."""
        artifact = load_artifact(name)
        factory = self.w3.eth.contract(abi=artifact["abi"], bytecode=artifact["bytecode"])
        params: TxParams = {"from": sender.address, "chainId": self.chain_id}
        receipt = self._send(
            sender,
            lambda nonce: factory.constructor(*args).build_transaction(_with_nonce(params, nonce)),
            name,
        )
        address = receipt["contractAddress"]
        if address is None:
            raise TransactionFailedError(f"deployment of {name} produced no contract address")
        return address, receipt

    def _lock_for(self, address: ChecksumAddress) -> threading.Lock:
        with self._locks_guard:
            return self._locks.setdefault(address, threading.Lock())

    def _send(self, sender: LocalAccount, build: Callable[[int], TxParams], what: str) -> TxReceipt:
        address = sender.address
        with self._lock_for(address):
            for attempt in (1, 2):
                nonce = self._nonce(address)
                try:
                    tx = self.retrying(f"estimate {what}", lambda n=nonce: build(n))  # type: ignore[misc]
                except ContractLogicError as exc:
                    raise decode_revert(revert_data(exc.data)) from exc
                except Web3RPCError as exc:
                    raise self._refused(exc, what, address) from exc
                signed = sender.sign_transaction(cast(dict[str, Any], tx))
                try:
                    tx_hash = self._send_raw(signed.raw_transaction, HexBytes(signed.hash), what)
                except Web3RPCError as exc:
                    if attempt == 1 and _is_nonce_error(exc):
                        logger.info("nonce %d for %s was stale; resyncing", nonce, address)
                        self._nonces.pop(address, None)
                        continue
                    raise self._refused(exc, what, address) from exc
                except TransactionStatusUnknownError:
                    self._nonces.pop(address, None)
                    raise
                self._nonces[address] = nonce + 1
                break
        try:
            receipt = self.wait_for_receipt(tx_hash)
        except TransactionTimeoutError:
            self._nonces.pop(address, None)
            raise
        except ChainUnreachableError as exc:
            self._nonces.pop(address, None)
            raise TransactionStatusUnknownError(
                f"{what}: transaction {tx_hash.to_0x_hex()} was sent to the chain at "
                f"{redact_url(self.rpc_url)}, which stopped answering before it was confirmed; "
                "look it up before sending again",
                tx_hash.to_0x_hex(),
            ) from exc
        if receipt["status"] != 1:
            raise self._failure_reason(tx, receipt, what)
        return receipt

    def _refused(self, exc: Web3RPCError, what: str, sender: ChecksumAddress) -> ChainError:
        """The error for a transaction the node refused: for a key short of ether, what to do."""
        if _INSUFFICIENT_FUNDS not in str(exc).lower():
            return ChainError(f"the node refused {what}: {exc}")
        balance = self.retrying("eth_getBalance", lambda: self.w3.eth.get_balance(sender))
        return InsufficientFundsError(sender, what, int(balance))

    def _nonce(self, address: ChecksumAddress) -> int:
        """The account's next nonce as the node counts it (its pending transactions included), read
        for every transaction: a chain restarted from an earlier state no longer holds the latest
        ones sent, and a nonce counted on from them would wait in its pool for ever."""
        counted = self.retrying(
            "eth_getTransactionCount", lambda: self.w3.eth.get_transaction_count(address, "pending")
        )
        expected = self._nonces.get(address)
        if expected is not None and counted < expected:
            logger.warning(
                "the chain holds %d fewer transactions from %s than were sent (restarted from an "
                "earlier state?): going on from nonce %d",
                expected - counted, address, counted,
            )  # fmt: skip
        self._nonces[address] = counted
        return counted

    def _send_raw(self, raw: bytes, tx_hash: HexBytes, what: str) -> HexBytes:
        """Send a signed transaction; resending it after a lost answer never sends it twice."""
        tries = 0

        def send() -> HexBytes:
            nonlocal tries
            tries += 1
            try:
                return HexBytes(self.w3.eth.send_raw_transaction(raw))
            except Web3RPCError as exc:
                # After a lost answer the first send may be pending or mined already: then the
                # node says "already known" or "nonce too low", and it is the same transaction.
                if tries > 1 and _is_nonce_error(exc) and self._exists(tx_hash):
                    return tx_hash
                raise

        try:
            return self.retrying("eth_sendRawTransaction", send)
        except ChainUnreachableError as exc:
            raise TransactionStatusUnknownError(
                f"{what}: transaction {tx_hash.to_0x_hex()} may or may not have reached the chain at "
                f"{redact_url(self.rpc_url)}; look it up before sending again",
                tx_hash.to_0x_hex(),
            ) from exc

    def _exists(self, tx_hash: HexBytes) -> bool:
        try:
            self.retrying("eth_getTransactionByHash", lambda: self.w3.eth.get_transaction(tx_hash))
        except TransactionNotFound:
            return False
        return True

    def wait_for_receipt(self, tx_hash: HexBytes) -> TxReceipt:
        """Wait (bounded) for a transaction's receipt, polling from 1 ms with back-off."""
        deadline = time.monotonic() + self.receipt_timeout_s
        delay = 0.001
        while True:
            try:
                return self.retrying(
                    "eth_getTransactionReceipt", lambda: self.w3.eth.get_transaction_receipt(tx_hash)
                )
            except TransactionNotFound:
                if time.monotonic() > deadline:
                    raise TransactionTimeoutError(
                        f"no receipt for {tx_hash.to_0x_hex()} after {self.receipt_timeout_s}s",
                        tx_hash.to_0x_hex(),
                    ) from None
                time.sleep(delay)
                delay = min(delay * 2, 0.5)

    def _failure_reason(self, tx: TxParams, receipt: TxReceipt, what: str) -> ChainError:
        replay: TxParams = {k: v for k, v in tx.items() if k in ("from", "to", "data", "value", "gas")}  # type: ignore[assignment]
        try:
            self.w3.eth.call(replay, block_identifier=receipt["blockNumber"] - 1)
        except ContractLogicError as exc:
            return decode_revert(revert_data(exc.data))
        except (Web3RPCError, *_TRANSIENT) as exc:
            return TransactionFailedError(
                f"{what} failed in tx {receipt['transactionHash'].to_0x_hex()}: {exc}"
            )
        return TransactionFailedError(f"{what} failed in tx {receipt['transactionHash'].to_0x_hex()}")


def _with_nonce(params: TxParams, nonce: int) -> TxParams:
    return cast(TxParams, {**params, "nonce": nonce})


def _with_headroom(tx: TxParams) -> TxParams:
    """``tx`` with a quarter more gas than estimated: the estimate runs against the latest block, and
    mined in a later one a call may cost more (a RewardDistributor payment that opens a new minting
    window writes one more storage slot). Unused gas is not charged."""
    estimate = int(tx["gas"])
    return cast(TxParams, {**tx, "gas": estimate + estimate // GAS_HEADROOM_DIVISOR})


def _is_nonce_error(exc: Web3RPCError) -> bool:
    return any(marker in str(exc).lower() for marker in _NONCE_ERRORS)
