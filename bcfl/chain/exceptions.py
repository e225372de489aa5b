"""Exceptions of the chain bridge; every one derives from :class:`ChainError`."""

from __future__ import annotations

from typing import Any, ClassVar

from eth_utils.address import to_checksum_address


class ChainError(Exception):
    """Base of every error the chain bridge raises."""


class ChainUnreachableError(ChainError):
    """The JSON-RPC endpoint did not answer, even after the bounded retries."""


class TransactionFailedError(ChainError):
    """A transaction was mined but failed without a decodable reason."""


class KeystoreError(ChainError):
    """A keystore could not be created, read or unlocked."""


class ManifestError(ChainError):
    """A deployment manifest is missing, malformed or does not match the chain."""


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
        shown = ", ".join(f"{k}={_show(v)}" for k, v in self.args_by_name.items())
        super().__init__(f"{type(self).__name__}({shown}): {(self.__doc__ or '').strip()}")


class UnknownRevertError(ChainError):
    """A revert whose data matches no known error (raw data kept in ``data``)."""

    def __init__(self, message: str, data: bytes = b"") -> None:
        super().__init__(message)
        self.data = data


def _show(value: Any) -> str:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return str(value)
