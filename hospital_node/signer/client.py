"""The ClientApp's side of the signing agent: ask it to sign a model update or an evaluation report.

This module never sees the hospital's key or password (it does not import keystore loading): it sends
the typed fields and the domain it expects, and gets back a signature, which it checks recovers to
the address the agent reports under that domain. When the agent is down or silent, every call fails
fast with one line naming the socket (a timeout on connect and on the reply; never a hang).
"""

from __future__ import annotations

import logging
import socket
import time
from dataclasses import dataclass
from pathlib import Path

from eth_typing import ChecksumAddress
from eth_utils.address import to_checksum_address

from bcfl.chain.eip712 import (
    EvaluationReport,
    LedgerDomain,
    ModelUpdate,
    SignedModelUpdate,
    from_compact,
    recover_evaluation_signer,
    recover_signer,
)
from hospital_node.errors import HospitalNodeError
from hospital_node.signer.protocol import (
    Domain,
    ErrorReply,
    IdentityReply,
    IdentityRequest,
    ProtocolError,
    SignatureReply,
    SignEvaluationRequest,
    SignUpdateRequest,
    hex32,
    parse_reply,
    recv_frame,
    send_frame,
)

logger = logging.getLogger(__name__)
CONNECT_TIMEOUT_S = 5.0
#: Signing takes milliseconds; the margin is for a machine busy training several hospitals.
REPLY_TIMEOUT_S = 60.0


class SignerUnavailableError(HospitalNodeError):
    """The agent is not running, cannot be reached or did not answer in time."""


class SignerRefusedError(HospitalNodeError):
    """The agent answered with a refusal, or with something that is not the signature asked for."""


@dataclass(frozen=True)
class AgentIdentity:
    """The agent's signing address and the domain it signs under."""

    address: ChecksumAddress
    domain: LedgerDomain


class SignerClient:
    """Calls to one node's signing agent (one connection per call)."""

    def __init__(
        self,
        socket_path: Path,
        *,
        connect_timeout: float = CONNECT_TIMEOUT_S,
        reply_timeout: float = REPLY_TIMEOUT_S,
    ) -> None:
        self.socket_path = socket_path
        self.connect_timeout = connect_timeout
        self.reply_timeout = reply_timeout

    def identity(self) -> AgentIdentity:
        """The address the agent signs with and its domain."""
        reply = self._call(IdentityRequest(op="identity"))
        if not isinstance(reply, IdentityReply):
            raise SignerRefusedError(f"the signing agent at {self.socket_path} answered {reply.kind}")
        domain = LedgerDomain(reply.domain.chain_id, to_checksum_address(reply.domain.verifying_contract))
        return AgentIdentity(to_checksum_address(reply.address), domain)

    def sign_update(self, domain: LedgerDomain, update: ModelUpdate) -> SignedModelUpdate:
        """``update`` signed by the hospital's key under ``domain`` (refused unless the agent's own)."""
        request = SignUpdateRequest(
            op="sign-update",
            domain=Domain.of(domain),
            round=update.round,
            global_model_hash=hex32(update.global_model_hash),
            update_hash=hex32(update.update_hash),
            num_examples=update.num_examples,
            epsilon_spent=update.epsilon_spent,
            delta_spent=update.delta_spent,
        )
        reply = self._signature(request)
        signed = from_compact(update, bytes.fromhex(reply.signature[2:]))
        self._check(recover_signer(domain, signed), reply)
        return signed

    def sign_evaluation(self, domain: LedgerDomain, report: EvaluationReport) -> bytes:
        """The hospital's 64-byte compact signature of ``report`` under ``domain``."""
        request = SignEvaluationRequest(
            op="sign-evaluation",
            domain=Domain.of(domain),
            round=report.round,
            model_hash=hex32(report.model_hash),
            metrics_hash=hex32(report.metrics_hash),
            num_examples=report.num_examples,
        )
        reply = self._signature(request)
        signature = bytes.fromhex(reply.signature[2:])
        self._check(recover_evaluation_signer(domain, report, signature), reply)
        return signature

    def _check(self, recovered: str, reply: SignatureReply) -> None:
        if recovered.lower() != reply.signer.lower():
            raise SignerRefusedError(
                f"the signing agent at {self.socket_path} returned a signature by {recovered}, "
                f"not by its key {reply.signer}"
            )

    def _signature(self, request: SignUpdateRequest | SignEvaluationRequest) -> SignatureReply:
        reply = self._call(request)
        if not isinstance(reply, SignatureReply):
            raise SignerRefusedError(f"the signing agent at {self.socket_path} answered {reply.kind}")
        return reply

    def _call(
        self, request: IdentityRequest | SignUpdateRequest | SignEvaluationRequest
    ) -> SignatureReply | IdentityReply | ErrorReply:
        with self._connect() as sock:
            sock.settimeout(self.reply_timeout)
            try:
                send_frame(sock, request)
                data = recv_frame(sock)
            except TimeoutError:
                raise SignerUnavailableError(
                    f"the hospital's signing agent at {self.socket_path} did not answer within "
                    f"{self.reply_timeout:g} s"
                ) from None
            except (OSError, ProtocolError) as exc:
                raise SignerUnavailableError(
                    f"the hospital's signing agent at {self.socket_path} dropped the request: {_reason(exc)}"
                ) from None
        if data is None:
            raise SignerUnavailableError(
                f"the hospital's signing agent at {self.socket_path} closed the connection without a reply"
            )
        try:
            reply = parse_reply(data)
        except ProtocolError as exc:
            raise SignerRefusedError(str(exc)) from None
        if isinstance(reply, ErrorReply):
            raise SignerRefusedError(f"the hospital's signing agent refused: {reply.error}")
        return reply

    def _connect(self) -> socket.socket:
        deadline = time.monotonic() + self.connect_timeout
        while True:
            try:
                return self._connect_once()
            except _BacklogFullError:
                # The agent's queue is full (a Unix socket says EAGAIN rather than waiting): it is
                # busy, not down; try again until the connect timeout.
                if time.monotonic() > deadline:
                    raise SignerUnavailableError(
                        f"the hospital's signing agent at {self.socket_path} is too busy to accept a "
                        f"connection within {self.connect_timeout:g} s"
                    ) from None
                time.sleep(0.05)

    def _connect_once(self) -> socket.socket:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.connect_timeout)
        try:
            sock.connect(str(self.socket_path))
        except BlockingIOError:
            sock.close()
            raise _BacklogFullError from None
        except (FileNotFoundError, ConnectionRefusedError):
            sock.close()
            raise SignerUnavailableError(
                f"the hospital's signing agent is not running at {self.socket_path}: "
                "start it with `bcfl node start`"
            ) from None
        except PermissionError:
            sock.close()
            raise SignerUnavailableError(
                f"cannot reach the hospital's signing agent at {self.socket_path}: permission denied "
                "(it serves only its node's user)"
            ) from None
        except OSError as exc:
            sock.close()
            raise SignerUnavailableError(
                f"cannot reach the hospital's signing agent at {self.socket_path}: {_reason(exc)}"
            ) from None
        return sock


class _BacklogFullError(Exception):
    """The agent's listen queue is full."""


def _reason(exc: Exception) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__
