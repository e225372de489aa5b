"""The consortium's TLS files and a SuperNode's node key, checked with independent tools (openssl,
ssh-keygen) and Flower's own key loader: SANs, key usages, fingerprints, modes, never overwritten."""

from __future__ import annotations

import base64
import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID
from flwr.supercore.primitives.asymmetric import public_key_to_bytes

from bcfl.chain.fingerprints import certificate_fingerprint, public_key_fingerprints
from bcfl.flower.certs import certificate_names, ensure_tls
from bcfl.flower.files import KeyFileError, write_private
from bcfl.flower.node_keys import NODE_KEY, ensure_node_key, load_node_key


def openssl(*args: str, data: bytes | None = None) -> str:
    return subprocess.run(["openssl", *args], input=data, check=True, capture_output=True).stdout.decode()


def mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def test_the_server_certificate_names_every_dialed_host_and_loopback(tmp_path: Path) -> None:
    files = ensure_tls(tmp_path / "tls", ["superlink", "fleet-gateway", "10.0.0.7"])
    names = certificate_names(files.server_cert.read_bytes())
    assert names == {"superlink", "fleet-gateway", "10.0.0.7", "localhost", "127.0.0.1"}
    server = x509.load_pem_x509_certificate(files.server_cert.read_bytes())
    ca = x509.load_pem_x509_certificate(files.ca_cert.read_bytes())
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is True
    assert server.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    usages = server.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(usages) == [ExtendedKeyUsageOID.SERVER_AUTH]
    # openssl verifies the chain and the host names (as a SuperNode does), and refuses other names.
    chain = ["verify", "-CAfile", str(files.ca_cert), "-purpose", "sslserver"]
    assert openssl(*chain, "-verify_ip", "127.0.0.1", str(files.server_cert)).strip().endswith("OK")
    assert "OK" in openssl(*chain, "-verify_hostname", "fleet-gateway", str(files.server_cert))
    wrong = subprocess.run(
        ["openssl", *chain, "-verify_hostname", "elsewhere.example", str(files.server_cert)],
        capture_output=True,
        text=True,
    )
    assert wrong.returncode != 0 and "mismatch" in (wrong.stdout + wrong.stderr)


def test_the_fingerprint_is_the_sha256_of_the_certificates_der(tmp_path: Path) -> None:
    files = ensure_tls(tmp_path, ["superlink"])
    printed = openssl("x509", "-in", str(files.server_cert), "-noout", "-fingerprint", "-sha256")
    expected = "0x" + printed.strip().split("=", 1)[1].replace(":", "").lower()
    assert (
        files.fingerprint()
        == "0x" + certificate_fingerprint(files.server_cert.read_bytes()).hex()
        == expected
    )
    assert "0x" + certificate_fingerprint(files.ca_cert.read_bytes()).hex() != expected


def test_tls_keys_are_private_and_never_overwritten(tmp_path: Path) -> None:
    files = ensure_tls(tmp_path, ["superlink"])
    keys = {path: path.read_bytes() for path in (files.ca_key, files.server_key)}
    assert [mode(p) for p in keys] == [0o600, 0o600]
    assert mode(files.ca_cert) == mode(files.server_cert) == 0o644
    first = files.server_cert.read_bytes()
    assert ensure_tls(tmp_path, ["superlink"]).server_cert.read_bytes() == first  # reused as it is
    # A new name: the certificate is issued again, for the same key, by the same CA.
    again = ensure_tls(tmp_path, ["superlink", "hospital-gw.example"])
    assert "hospital-gw.example" in certificate_names(again.server_cert.read_bytes())
    assert again.server_cert.read_bytes() != first
    assert {path: path.read_bytes() for path in keys} == keys
    renewed = x509.load_pem_x509_certificate(again.server_cert.read_bytes())
    renewed.verify_directly_issued_by(x509.load_pem_x509_certificate(files.ca_cert.read_bytes()))
    with pytest.raises(KeyFileError, match="never overwritten"):
        write_private(files.server_key, b"other")
    assert files.server_key.read_bytes() == keys[files.server_key]


def test_a_node_key_is_what_flower_reads_and_its_fingerprint_is_ssh_keygens(tmp_path: Path) -> None:
    key = ensure_node_key(tmp_path / NODE_KEY)
    assert mode(key.private) == 0o600
    # Flower reads the private key with load_ssh_private_key(data, None): an unencrypted OpenSSH EC key.
    private = serialization.load_ssh_private_key(key.private.read_bytes(), password=None)
    assert public_key_to_bytes(private.public_key()) == key.spki_pem  # type: ignore[arg-type]
    assert key.public.read_bytes().startswith(b"ecdsa-sha2-nistp256 ")
    printed = subprocess.run(
        ["ssh-keygen", "-l", "-E", "sha256", "-f", str(key.public)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()[1]
    digest = printed.removeprefix("SHA256:")
    assert base64.b64decode(digest + "=" * (-len(digest) % 4)) == key.fingerprint
    assert "0x" + key.fingerprint.hex() in public_key_fingerprints(key.spki_pem)
    # Again: the same key, not a new one; and another node gets another key.
    assert ensure_node_key(key.private).fingerprint == key.fingerprint
    assert load_node_key(key.private).fingerprint == key.fingerprint
    assert ensure_node_key(tmp_path / "other.key").fingerprint != key.fingerprint


def test_a_file_that_is_no_node_key_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / NODE_KEY
    path.write_bytes(b"not a key\n")
    with pytest.raises(KeyFileError, match=r"not an unencrypted OpenSSH private key.*move it away"):
        ensure_node_key(path)
    assert path.read_bytes() == b"not a key\n"
