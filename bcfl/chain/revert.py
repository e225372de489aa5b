"""Turn raw revert data into the named Python exception of the contract error."""

from __future__ import annotations

from typing import Any

from eth_abi.abi import decode
from eth_abi.exceptions import DecodingError
from eth_utils.crypto import keccak

from bcfl.chain.errors import ERRORS_BY_SELECTOR
from bcfl.chain.exceptions import ChainError, UnknownRevertError

_ERROR_STRING = keccak(text="Error(string)")[:4]
_PANIC = keccak(text="Panic(uint256)")[:4]


def revert_data(raw: Any) -> bytes:
    """Revert bytes from what web3 attaches to a ContractLogicError (hex str, bytes or dict)."""
    if isinstance(raw, dict):
        raw = raw.get("data", "")
    if isinstance(raw, bytes | bytearray):
        return bytes(raw)
    if isinstance(raw, str) and raw.startswith("0x"):
        try:
            return bytes.fromhex(raw[2:])
        except ValueError:
            return b""
    return b""


def decode_revert(data: bytes) -> ChainError:
    """The exception for revert ``data``: a generated :class:`ContractRevertError` subclass when known."""
    selector, body = data[:4], data[4:]
    try:
        error_type = ERRORS_BY_SELECTOR.get(selector)
        if error_type is not None:
            return error_type(*decode(list(error_type.arg_types), body))
        if selector == _ERROR_STRING:
            (message,) = decode(["string"], body)
            return UnknownRevertError(f"reverted: {message}", data)
        if selector == _PANIC:
            (code,) = decode(["uint256"], body)
            return UnknownRevertError(f"panicked with code {code:#x}", data)
    except DecodingError:
        return UnknownRevertError(f"reverted with malformed error data 0x{data.hex()}", data)
    if not data:
        return UnknownRevertError("reverted without data", data)
    return UnknownRevertError(f"reverted with unknown error data 0x{data.hex()}", data)
