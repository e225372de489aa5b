"""Ether for a key's transaction fees: a new hospital's key pays for its own membership request."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from eth_account.signers.local import LocalAccount
from web3 import Web3

from bcfl.chain.client import ChainClient

WEI_PER_ETHER = 10**18


@dataclass(frozen=True)
class Funding:
    """A transfer done: to whom, how much, in which transaction, and the balance after it."""

    address: str
    amount_wei: int
    tx_hash: str
    balance_wei: int


def balance_wei(client: ChainClient, address: str) -> int:
    """The ether ``address`` holds, in wei."""
    checksummed = Web3.to_checksum_address(address)
    return int(client.retrying("eth_getBalance", lambda: client.w3.eth.get_balance(checksummed)))


def fund(client: ChainClient, sender: LocalAccount, address: str, amount_wei: int) -> Funding:
    """Send ``amount_wei`` from ``sender`` to ``address`` (an unfunded sender gets
    :class:`~bcfl.chain.exceptions.InsufficientFundsError`)."""
    receipt = client.transfer(sender, address, amount_wei)
    return Funding(
        Web3.to_checksum_address(address),
        amount_wei,
        receipt["transactionHash"].to_0x_hex(),
        balance_wei(client, address),
    )


def fund_if_low(
    client: ChainClient, sender: LocalAccount, address: str, amount_wei: int, minimum_wei: int
) -> bool:
    """Fund ``address`` with ``amount_wei`` when it holds less than ``minimum_wei``; whether it did."""
    if balance_wei(client, address) >= minimum_wei:
        return False
    fund(client, sender, address, amount_wei)
    return True


def ether_to_wei(amount: str) -> int:
    """``"0.1"`` ether as wei, exactly (a decimal, never a float); ValueError if not a positive amount."""
    try:
        wei = Decimal(amount) * WEI_PER_ETHER
    except ArithmeticError:
        raise ValueError(f"{amount!r} is not an amount of ether") from None
    if not wei.is_finite() or wei <= 0 or wei != wei.to_integral_value():
        raise ValueError(f"{amount!r} is not a positive amount of ether (at most 18 decimals)")
    return int(wei)
