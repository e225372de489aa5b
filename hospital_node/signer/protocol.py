"""The signing agent's wire protocol, version 1: one JSON object per frame, each frame a 4-byte
big-endian length then that many bytes of UTF-8 JSON, at most :data:`MAX_FRAME` bytes.

A request names its operation (``op``) and carries typed fields only: the EIP-712 domain the caller
expects and the fields of a ``ModelUpdate`` or an ``EvaluationReport``, never a digest, raw data or a
transaction. Every request and reply is validated strictly (no extra keys, no coercion: a round given
as a string or a bool is refused). A reply is a signature, the agent's public identity, or an error.
"""

from __future__ import annotations

import json
import socket
import struct
from typing import Annotated, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from bcfl.chain.eip712 import EvaluationReport, LedgerDomain, ModelUpdate

#: 2: a sign-update request carries the update's ε and δ.
VERSION: Final = 2
#: The largest frame either side accepts: a request is a few hundred bytes.
MAX_FRAME = 4096
_HEADER = struct.Struct(">I")
UINT256_MAX = 2**256 - 1
UINT64_MAX = 2**64 - 1

Hash32 = Annotated[str, Field(pattern=r"^0x[0-9a-fA-F]{64}$")]
Signature64 = Annotated[str, Field(pattern=r"^0x[0-9a-fA-F]{128}$")]
Address = Annotated[str, Field(pattern=r"^0x[0-9a-fA-F]{40}$")]
Round = Annotated[int, Field(ge=0, le=UINT256_MAX)]
Examples = Annotated[int, Field(ge=0, le=UINT64_MAX)]
Uint64 = Annotated[int, Field(ge=0, le=UINT64_MAX)]


class ProtocolError(Exception):
    """A frame that cannot be read or a message that is not valid (the message says which)."""


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class _Message(_Strict):
    #: The protocol version: a message of another version is refused.
    v: Literal[2] = VERSION


class Domain(_Strict):
    """The EIP-712 domain the caller expects the agent to sign under (checked, never adopted)."""

    chain_id: Annotated[int, Field(ge=0, le=UINT256_MAX)]
    verifying_contract: Address

    @classmethod
    def of(cls, domain: LedgerDomain) -> Domain:
        return cls(chain_id=domain.chain_id, verifying_contract=domain.verifying_contract)

    def matches(self, domain: LedgerDomain) -> bool:
        return (
            self.chain_id == domain.chain_id
            and self.verifying_contract.lower() == domain.verifying_contract.lower()
        )


class IdentityRequest(_Message):
    """Which key and domain the agent signs with (public facts: an address and a domain)."""

    op: Literal["identity"]


class SignUpdateRequest(_Message):
    """Sign a ``ModelUpdate`` (the RoundLedger's type) built by the agent from these fields."""

    op: Literal["sign-update"]
    domain: Domain
    round: Round
    global_model_hash: Hash32
    update_hash: Hash32
    num_examples: Examples
    epsilon_spent: Uint64
    delta_spent: Uint64

    def update(self) -> ModelUpdate:
        return ModelUpdate(
            self.round,
            bytes.fromhex(self.global_model_hash[2:]),
            bytes.fromhex(self.update_hash[2:]),
            self.num_examples,
            self.epsilon_spent,
            self.delta_spent,
        )


class SignEvaluationRequest(_Message):
    """Sign an ``EvaluationReport`` built by the agent from these fields."""

    op: Literal["sign-evaluation"]
    domain: Domain
    round: Round
    model_hash: Hash32
    metrics_hash: Hash32
    num_examples: Examples

    def report(self) -> EvaluationReport:
        return EvaluationReport(
            self.round,
            bytes.fromhex(self.model_hash[2:]),
            bytes.fromhex(self.metrics_hash[2:]),
            self.num_examples,
        )


Request = Annotated[IdentityRequest | SignUpdateRequest | SignEvaluationRequest, Field(discriminator="op")]


class SignatureReply(_Message):
    """A 64-byte compact (ERC-2098) signature and the address that made it."""

    ok: Literal[True] = True
    kind: Literal["signature"] = "signature"
    signature: Signature64
    signer: Address


class IdentityReply(_Message):
    """The agent's signing address and the domain it signs under."""

    ok: Literal[True] = True
    kind: Literal["identity"] = "identity"
    address: Address
    domain: Domain


class ErrorReply(_Message):
    """A refusal: one line saying why."""

    ok: Literal[False] = False
    kind: Literal["error"] = "error"
    error: str


Reply = Annotated[SignatureReply | IdentityReply | ErrorReply, Field(discriminator="kind")]
REQUEST: TypeAdapter[IdentityRequest | SignUpdateRequest | SignEvaluationRequest] = TypeAdapter(Request)
REPLY: TypeAdapter[SignatureReply | IdentityReply | ErrorReply] = TypeAdapter(Reply)


def hex32(value: bytes) -> str:
    """A 32-byte value as the protocol's ``0x``-prefixed hex; ValueError for another length."""
    if len(value) != 32:
        raise ValueError(f"a hash has 32 bytes, got {len(value)}")
    return "0x" + value.hex()


def describe(exc: ValidationError) -> str:
    """The first validation problem in one line (the input is the caller's own, never a secret)."""
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "message"
    return f"{where}: {first['msg']}"


def parse_request(data: bytes) -> IdentityRequest | SignUpdateRequest | SignEvaluationRequest:
    """A request from a frame's bytes; ProtocolError names what is wrong."""
    try:
        return REQUEST.validate_json(data)
    except ValidationError as exc:
        version = _version(data)
        if version is not None and version != VERSION:
            raise ProtocolError(
                f"protocol version {version!r} is not supported (this agent speaks version {VERSION})"
            ) from None
        raise ProtocolError(f"invalid request ({describe(exc)})") from None


def _version(data: bytes) -> object:
    try:
        message = json.loads(data)
    except ValueError:
        return None
    return message.get("v") if isinstance(message, dict) else None


def parse_reply(data: bytes) -> SignatureReply | IdentityReply | ErrorReply:
    """A reply from a frame's bytes; ProtocolError names what is wrong."""
    try:
        return REPLY.validate_json(data)
    except ValidationError as exc:
        raise ProtocolError(f"invalid reply from the signing agent ({describe(exc)})") from None


def send_frame(sock: socket.socket, message: BaseModel) -> None:
    """Send ``message`` as one frame."""
    data = message.model_dump_json().encode()
    if len(data) > MAX_FRAME:
        raise ProtocolError(f"a message of {len(data)} bytes is over the {MAX_FRAME}-byte limit")
    sock.sendall(_HEADER.pack(len(data)) + data)


def _read_exactly(sock: socket.socket, size: int) -> bytes | None:
    """``size`` bytes, or None at end of stream before the first; ProtocolError if it ends midway."""
    chunks: list[bytes] = []
    received = 0
    while received < size:
        chunk = sock.recv(size - received)
        if not chunk:
            if received == 0:
                return None
            raise ProtocolError(f"the stream ended inside a frame ({received} of {size} bytes)")
        chunks.append(chunk)
        received += len(chunk)
    return b"".join(chunks)


def recv_frame(sock: socket.socket) -> bytes | None:
    """One frame's bytes, or None when the peer closed between frames; ProtocolError for a frame over
    :data:`MAX_FRAME` (its bytes are not read) or a stream that ends inside one."""
    header = _read_exactly(sock, _HEADER.size)
    if header is None:
        return None
    (size,) = _HEADER.unpack(header)
    if size > MAX_FRAME:
        raise ProtocolError(f"a frame of {size} bytes is over the {MAX_FRAME}-byte limit")
    data = _read_exactly(sock, size)
    if data is None:
        raise ProtocolError(f"the stream ended before a frame's {size} bytes")
    return data
