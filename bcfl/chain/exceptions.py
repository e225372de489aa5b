"""Exceptions of the chain bridge; every one derives from :class:`ChainError`."""

from __future__ import annotations

from typing import Any, ClassVar
from urllib.parse import urlsplit

from eth_utils.address import to_checksum_address

from bcfl.chain.roles import ROLE_ARGUMENTS, role_name


class ChainError(Exception):
    """Base of every error the chain bridge raises."""


class ChainUnreachableError(ChainError):
    """The JSON-RPC endpoint did not answer, even after the bounded retries."""


class RpcUrlError(ChainError, ValueError):
    """A JSON-RPC URL that is not an http(s) URL (e.g. ``127.0.0.1:8545`` without its scheme)."""


class TransactionFailedError(ChainError):
    """A transaction was mined but failed without a decodable reason."""


class TransactionStatusUnknownError(ChainUnreachableError):
    """The chain stopped answering while a signed transaction was being sent: it may have landed."""

    def __init__(self, message: str, tx_hash: str) -> None:
        super().__init__(message)
        self.tx_hash = tx_hash


class InsufficientFundsError(ChainError):
    """The sending key has too little ether to pay for a transaction (its gas, and any value sent)."""

    def __init__(self, address: str, what: str, balance_wei: int) -> None:
        fund = f"ask the consortium's admin to run `bcfl member fund {address}`"
        if balance_wei == 0:
            message = f"{address} has no ether to pay for gas: {fund}"
        else:
            message = f"{address} holds too little ether for {what} (its gas and any value sent): {fund}"
        super().__init__(message)
        self.address = address
        self.balance_wei = balance_wei


class TransactionTimeoutError(ChainError):
    """A sent transaction had no receipt within the time allowed."""

    def __init__(self, message: str, tx_hash: str) -> None:
        super().__init__(message)
        self.tx_hash = tx_hash


class KeystoreError(ChainError):
    """A keystore could not be created, read or unlocked."""


class ManifestError(ChainError):
    """A deployment manifest is missing, malformed or does not match the chain."""


class KeyFormatError(ChainError, ValueError):
    """A node public key or a certificate is not in a form the registry's fingerprints are taken of."""


class UpdateProofError(ChainError):
    """A hospital's update proof file cannot be read, is malformed, or does not fit the deployment."""


class ContractRevertError(ChainError):
    """A contract call reverted with a custom error; subclasses are generated per error.

    ``args_by_name`` holds the revert's decoded arguments by their Solidity names.
    """

    signature: ClassVar[str] = ""
    selector: ClassVar[bytes] = b""
    arg_names: ClassVar[tuple[str, ...]] = ()
    arg_types: ClassVar[tuple[str, ...]] = ()

    def __init__(self, *values: Any) -> None:
        checksummed = (
            to_checksum_address(v) if kind == "address" else v
            for kind, v in zip(self.arg_types, values, strict=True)
        )
        self.args_by_name: dict[str, Any] = dict(zip(self.arg_names, checksummed, strict=True))
        shown = ", ".join(f"{k}={_show(v, k)}" for k, v in self.args_by_name.items())
        super().__init__(
            f"{_lacking(self.args_by_name)}{type(self).__name__}({shown}): {(self.__doc__ or '').strip()}"
        )


class UnknownRevertError(ChainError):
    """A revert whose data matches no known error (raw data kept in ``data``)."""

    def __init__(self, message: str, data: bytes = b"") -> None:
        super().__init__(message)
        self.data = data


def _show(value: Any, name: str = "") -> str:
    if name in ROLE_ARGUMENTS and isinstance(value, bytes):
        return role_name(value)
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return str(value)


def _lacking(args: dict[str, Any]) -> str:
    """``"0xABC… is not the consortium's admin: "`` for an access-control revert, else ``""``."""
    role = next((args[name] for name in ROLE_ARGUMENTS if name in args), None)
    if role is None or "account" not in args:
        return ""
    return f"{args['account']} does not hold the consortium's {role_name(role)} role: "


def redact_url(url: str) -> str:
    """``url`` without credentials, path or query (RPC providers put API keys there), for messages."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    hidden = "/…" if (parts.path not in ("", "/") or parts.query or parts.username) else ""
    return f"{parts.scheme}://{host}{port}{hidden}"
