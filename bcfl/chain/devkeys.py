"""Anvil's PUBLIC development accounts: for the local demo and tests only.

These keys are derived from the well-known mnemonic every Anvil and Hardhat node funds by default.
Anyone can spend from them on any chain; never use them for a real consortium.
"""

from __future__ import annotations

from functools import cache

from eth_account import Account
from eth_account.signers.local import LocalAccount

#: Anvil's default, publicly known mnemonic (DEMO ONLY).
ANVIL_DEV_MNEMONIC = "test test test test test test test test test test test junk"


@cache
def dev_account(index: int) -> LocalAccount:
    """Anvil public dev account ``index`` (0 to 9 are funded by a default node). DEMO ONLY."""
    Account.enable_unaudited_hdwallet_features()
    account: LocalAccount = Account.from_mnemonic(ANVIL_DEV_MNEMONIC, account_path=f"m/44'/60'/0'/0/{index}")
    return account
