"""Fingerprints the registry binds: a Flower node key's and the SuperLink certificate's.

A node key fingerprint is the SHA-256 of the key's OpenSSH wire-format blob (the base64 field of an
``ecdsa-sha2-nistp384 AAAA...`` line): what ``ssh-keygen -l -E sha256`` shows, and what the
registry's ``publishNodeKey`` checks the published blob against. A certificate fingerprint is the
SHA-256 of the certificate's DER: what ``openssl x509 -fingerprint -sha256`` shows.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from bcfl.chain.exceptions import KeyFormatError

#: The node key types Flower's SuperNode authentication accepts (ECDSA on a NIST curve).
FLOWER_KEY_TYPES = ("ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521")


def openssh_key_blob(line: str | bytes) -> bytes:
    """The wire-format blob of an OpenSSH public key line (``TYPE BASE64 [COMMENT]``), checked to be a
    key of one of :data:`FLOWER_KEY_TYPES`; :class:`KeyFormatError` otherwise."""
    text = line.decode("ascii", "replace") if isinstance(line, bytes) else line
    fields = text.strip().split()
    if len(fields) < 2:
        raise KeyFormatError(
            "not an OpenSSH public key line (expected 'ecdsa-sha2-nistp384 AAAA... [comment]', "
            "as in the node key's .pub file)"
        )
    kind = fields[0]
    if kind not in FLOWER_KEY_TYPES:
        raise KeyFormatError(
            f"node key type {kind[:40]!r} is not one Flower accepts ({', '.join(FLOWER_KEY_TYPES)}): "
            "make an ECDSA key (bcfl node init, or ssh-keygen -t ecdsa -b 384)"
        )
    try:
        blob = base64.b64decode(fields[1], validate=True)
    except (binascii.Error, ValueError) as exc:
        raise KeyFormatError("the node key's second field is not base64: copy the whole .pub line") from exc
    if _blob_type(blob) != kind:
        raise KeyFormatError(f"the node key's data is not an {kind} key: copy the whole .pub line")
    try:
        serialization.load_ssh_public_key(f"{kind} {fields[1]}".encode())
    except (ValueError, TypeError) as exc:
        raise KeyFormatError(f"the node key is not a valid {kind} key: copy the whole .pub line") from exc
    return blob


def openssh_line(blob: bytes) -> str:
    """The OpenSSH public key line (no comment) of a wire-format blob, e.g. one read from the chain."""
    kind = _blob_type(blob)
    if kind not in FLOWER_KEY_TYPES:
        raise KeyFormatError("the blob is not the wire format of an ECDSA key Flower accepts")
    return f"{kind} {base64.b64encode(blob).decode('ascii')}"


def node_key_fingerprint(line: str | bytes) -> bytes:
    """The registry's ``nodeKeyFingerprint`` of an OpenSSH public key line: SHA-256 of its blob."""
    return hashlib.sha256(openssh_key_blob(line)).digest()


def certificate_der(data: bytes) -> bytes:
    """The DER of a certificate given as PEM or DER; :class:`KeyFormatError` if it is neither."""
    try:
        if data.lstrip().startswith(b"-----BEGIN"):
            certificate = x509.load_pem_x509_certificate(data)
        else:
            certificate = x509.load_der_x509_certificate(data)
    except ValueError as exc:
        raise KeyFormatError(
            "not an X.509 certificate (PEM or DER): give the SuperLink's certificate file"
        ) from exc
    return certificate.public_bytes(serialization.Encoding.DER)


def certificate_fingerprint(data: bytes) -> bytes:
    """The SHA-256 of a PEM or DER certificate's DER (``openssl x509 -fingerprint -sha256``)."""
    return hashlib.sha256(certificate_der(data)).digest()


def public_key_fingerprints(pem: bytes) -> frozenset[str]:
    """The 0x SHA-256 fingerprints a node's public key may be named by (PEM, as the SuperLink reports
    it): of the DER SubjectPublicKeyInfo, of the OpenSSH blob, and of the PEM bytes themselves."""
    found = {pem}
    try:
        key = serialization.load_pem_public_key(pem)
    except (ValueError, TypeError):
        key = None
    if key is not None:
        found.add(
            key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        )
        try:
            openssh = key.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
        except ValueError:  # a key type OpenSSH has no form for
            openssh = b""
        parts = openssh.split()
        if len(parts) >= 2:
            found.add(base64.b64decode(parts[1]))
    return frozenset("0x" + hashlib.sha256(blob).hexdigest() for blob in found)


def _blob_type(blob: bytes) -> str:
    """The key type a wire-format blob starts with (a length-prefixed string), or ``""``."""
    if len(blob) < 4:
        return ""
    (length,) = struct.unpack(">I", blob[:4])
    if length > 64 or len(blob) < 4 + length:
        return ""
    return blob[4 : 4 + length].decode("ascii", "replace")
