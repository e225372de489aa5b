"""Fingerprints of node keys and certificates, as ssh-keygen and openssl compute them."""

from __future__ import annotations

import base64
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from bcfl.chain.exceptions import ChainError, KeyFormatError
from bcfl.chain.fingerprints import (
    certificate_der,
    certificate_fingerprint,
    node_key_fingerprint,
    openssh_key_blob,
    openssh_line,
    public_key_fingerprints,
)
from tests.chain.trust import openssh_public, self_signed


def ssh_keygen_sha256(public: Path) -> bytes:
    """The SHA-256 ``ssh-keygen -l -E sha256`` prints (unpadded base64), as bytes."""
    out = subprocess.run(
        ["ssh-keygen", "-l", "-E", "sha256", "-f", str(public)], check=True, capture_output=True, text=True
    ).stdout
    digest = out.split()[1].removeprefix("SHA256:")
    return base64.b64decode(digest + "=" * (-len(digest) % 4))


@pytest.mark.parametrize("bits", [256, 384, 521])
def test_a_node_key_fingerprint_is_what_ssh_keygen_shows(tmp_path: Path, bits: int) -> None:
    private = tmp_path / "node"
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ecdsa", "-b", str(bits), "-N", "", "-C", "node", "-f", str(private)],
        check=True,
    )
    public = private.with_suffix(".pub")
    line = public.read_text()
    assert node_key_fingerprint(line) == ssh_keygen_sha256(public)
    assert node_key_fingerprint(line.encode()) == node_key_fingerprint(line)
    blob = openssh_key_blob(line)
    # The line rebuilt from the blob (as read back from the chain) is the key, without its comment.
    assert openssh_line(blob) == " ".join(line.split()[:2])
    loaded = serialization.load_ssh_public_key(openssh_line(blob).encode())
    assert isinstance(loaded, ec.EllipticCurvePublicKey) and loaded.curve.key_size == bits


def test_the_fingerprint_the_registry_checks_is_one_the_dashboard_matches() -> None:
    line = openssh_public(ec.SECP384R1())
    key = serialization.load_ssh_public_key(line.encode())
    pem = key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert "0x" + node_key_fingerprint(line).hex() in public_key_fingerprints(pem)
    other = node_key_fingerprint(openssh_public(ec.SECP384R1()))
    assert "0x" + other.hex() not in public_key_fingerprints(pem)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("", "not an OpenSSH public key line"),
        ("ecdsa-sha2-nistp384", "not an OpenSSH public key line"),
        ("ssh-rsa AAAAB3NzaC1yc2E=", "is not one Flower accepts"),
        ("ecdsa-sha2-nistp384 !!!not-base64!!!", "is not base64"),
        ("ecdsa-sha2-nistp384 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTY=", "is not an ecdsa-sha2-nistp384 key"),
        ("ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTY=", "is not a valid ecdsa-sha2-nistp256 key"),
        ("ecdsa-sha2-nistp256 AAAA", "is not an ecdsa-sha2-nistp256 key"),
    ],
)
def test_a_bad_node_key_line_is_refused_in_one_line(line: str, message: str) -> None:
    with pytest.raises(KeyFormatError, match=message) as exc:
        node_key_fingerprint(line)
    assert "\n" not in str(exc.value)
    assert isinstance(exc.value, ChainError) and isinstance(exc.value, ValueError)


def test_an_ed25519_key_is_refused_as_flower_refuses_it() -> None:
    line = (
        ed25519.Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    )
    with pytest.raises(KeyFormatError, match="'ssh-ed25519' is not one Flower accepts"):
        openssh_key_blob(line)
    with pytest.raises(KeyFormatError, match="not the wire format"):
        openssh_line(base64.b64decode(line.split()[1]))
    with pytest.raises(KeyFormatError, match="not the wire format"):
        openssh_line(b"\x00\x00")


def test_a_certificate_fingerprint_is_what_openssl_shows(tmp_path: Path) -> None:
    certificate = self_signed()
    pem = certificate.public_bytes(serialization.Encoding.PEM)
    der = certificate.public_bytes(serialization.Encoding.DER)
    (tmp_path / "server.pem").write_bytes(pem)
    out = subprocess.run(
        ["openssl", "x509", "-in", str(tmp_path / "server.pem"), "-noout", "-fingerprint", "-sha256"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    shown = bytes.fromhex(out.strip().split("=", 1)[1].replace(":", ""))
    assert certificate_fingerprint(pem) == certificate_fingerprint(der) == shown
    assert certificate_der(pem) == der
    assert certificate_fingerprint(self_signed().public_bytes(serialization.Encoding.PEM)) != shown


@pytest.mark.parametrize("data", [b"", b"not a certificate", b"-----BEGIN CERTIFICATE-----\nAAAA\n"])
def test_a_bad_certificate_is_refused_in_one_line(data: bytes) -> None:
    with pytest.raises(KeyFormatError, match=r"not an X\.509 certificate") as exc:
        certificate_fingerprint(data)
    assert "\n" not in str(exc.value)
