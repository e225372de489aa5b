"""The agent's protocol on its own: strict requests, one-line refusals, bounded frames, the peer check."""

from __future__ import annotations

import json
import os
import socket
import struct

import pytest

from hospital_node.signer.peer import PeerCredentials, peer_credentials, refusal
from hospital_node.signer.protocol import (
    MAX_FRAME,
    REPLY,
    ErrorReply,
    IdentityReply,
    ProtocolError,
    SignatureReply,
    SignEvaluationRequest,
    SignUpdateRequest,
    parse_request,
    recv_frame,
)
from tests.signer.helpers import REPORT, UPDATE, domain_fields, update_fields


def test_a_sign_update_request_rebuilds_the_typed_update() -> None:
    request = parse_request(json.dumps(update_fields()).encode())
    assert isinstance(request, SignUpdateRequest)
    assert request.update() == UPDATE


def test_a_sign_evaluation_request_rebuilds_the_typed_report() -> None:
    fields = {
        "op": "sign-evaluation",
        "domain": domain_fields(),
        "round": REPORT.round,
        "model_hash": "0x" + REPORT.model_hash.hex(),
        "metrics_hash": "0x" + REPORT.metrics_hash.hex(),
        "num_examples": REPORT.num_examples,
    }
    request = parse_request(json.dumps(fields).encode())
    assert isinstance(request, SignEvaluationRequest)
    assert request.report() == REPORT


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"op": "sign-message", "data": "0x1234"}, "op"),
        ({"op": "sign-digest", "digest": "0x" + "11" * 32}, "op"),
        ({"op": "sign-transaction", "to": "0x" + "22" * 20, "value": 1}, "op"),
        ({"op": "export-key"}, "op"),
        (update_fields(round="3"), "round"),
        (update_fields(round=True), "round"),
        (update_fields(round=-1), "round"),
        (update_fields(round=2**256), "round"),
        (update_fields(num_examples=2**64), "num_examples"),
        (update_fields(num_examples=1.5), "num_examples"),
        (update_fields(update_hash="0x1234"), "update_hash"),
        (update_fields(update_hash="0x" + "zz" * 32), "update_hash"),
        (update_fields(global_model_hash=None), "global_model_hash"),
        (update_fields(data="0xdeadbeef"), "data"),
        (update_fields(domain={**domain_fields(), "name": "Other"}), "domain.name"),
        (update_fields(domain={"chain_id": 1}), "domain.verifying_contract"),
        ({k: v for k, v in update_fields().items() if k != "update_hash"}, "update_hash"),
    ],
)
def test_anything_but_the_two_typed_messages_is_refused(fields: dict[str, object], problem: str) -> None:
    with pytest.raises(ProtocolError, match=r"^invalid request") as refused:
        parse_request(json.dumps(fields).encode())
    assert problem in str(refused.value)
    assert "\n" not in str(refused.value)


@pytest.mark.parametrize("data", [b"", b"not json", b"[1, 2]", b"null", b'"sign-update"', b"\xff\xfe"])
def test_a_frame_that_is_not_a_json_object_is_refused(data: bytes) -> None:
    with pytest.raises(ProtocolError, match=r"^invalid request"):
        parse_request(data)


def test_another_protocol_version_is_named() -> None:
    # Version 1 predates the update's ε and δ: an older ClientApp is told so, not signed for.
    for version in (1, 3):
        with pytest.raises(ProtocolError, match=f"protocol version {version} is not supported"):
            parse_request(json.dumps(update_fields(v=version)).encode())


def test_replies_carry_only_a_signature_an_identity_or_an_error() -> None:
    """The protocol's whole vocabulary of answers: nothing in it can hold key material."""
    kinds = {model.__name__: set(model.model_fields) for model in (SignatureReply, IdentityReply, ErrorReply)}
    assert kinds == {
        "SignatureReply": {"v", "ok", "kind", "signature", "signer"},
        "IdentityReply": {"v", "ok", "kind", "address", "domain"},
        "ErrorReply": {"v", "ok", "kind", "error"},
    }
    with pytest.raises(ValueError, match="kind"):
        REPLY.validate_json(json.dumps({"v": 2, "ok": True, "kind": "key", "key": "0x" + "11" * 32}))


def test_a_frame_over_the_limit_is_refused_before_it_is_read() -> None:
    left, right = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    with left, right:
        left.sendall(struct.pack(">I", MAX_FRAME + 1) + b"x" * 16)
        with pytest.raises(ProtocolError, match=f"over the {MAX_FRAME}-byte limit"):
            recv_frame(right)
        assert right.recv(16) == b"x" * 16


def test_a_stream_that_ends_inside_a_frame_is_an_error_and_between_frames_is_the_end() -> None:
    left, right = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    with right:
        left.sendall(struct.pack(">I", 100) + b"{" * 10)
        left.close()
        with pytest.raises(ProtocolError, match="ended inside a frame"):
            recv_frame(right)
    left, right = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    with right:
        left.close()
        assert recv_frame(right) is None


def test_the_kernel_reports_the_peer_of_a_unix_socket() -> None:
    left, right = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    with left, right:
        peer = peer_credentials(right)
    assert (peer.pid, peer.uid, peer.gid) == (os.getpid(), os.geteuid(), os.getegid())


def test_only_the_served_uids_pass_the_peer_check() -> None:
    assert refusal(PeerCredentials(pid=10, uid=1000, gid=1000), frozenset({1000})) is None
    refused = refusal(PeerCredentials(pid=10, uid=0, gid=0), frozenset({1000}))
    assert refused == "refused: this agent serves only its node's user (uid 1000), not uid 0"
