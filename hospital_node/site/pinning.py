"""Pin the SuperLink's certificate through the chain: no second channel to trust.

The admin publishes the SHA-256 of the SuperLink's certificate (and the ``host:port`` hospitals dial)
on chain (``ConsortiumRegistry.setSuperLinkCertificate``). :func:`fetch_presented_chain` opens a TLS
connection without trusting anything yet and reads the certificates the server presents;
:func:`pin` accepts them only if the leaf's fingerprint is the published one, then keeps the CA
certificate in that chain that signed the leaf: the ``--root-certificates`` the SuperNode verifies
the SuperLink with from then on. A server that presents its own certificate only (no CA after it)
cannot be pinned this way; the message says what the admin changes.
"""

from __future__ import annotations

import socket
import ssl
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization

from bcfl.chain.fingerprints import certificate_fingerprint
from bcfl.flower import address as flower_address
from bcfl.flower.address import AddressError
from hospital_node.errors import HospitalNodeError

CONNECT_TIMEOUT_S = 10.0
#: ``_ssl.ENCODING_DER``: the format argument of ``_ssl.Certificate.public_bytes``.
DER = 2


class PinningError(HospitalNodeError):
    """The SuperLink's certificate cannot be fetched, does not match the chain, or has no CA with it."""


class CertificateMismatchError(PinningError):
    """The server's certificate is not the one the consortium published: never connect to it."""


class SuperLinkUnreachableError(PinningError):
    """Nothing answers TLS at the SuperLink's address."""


@dataclass(frozen=True)
class PinnedCertificate:
    """The SuperLink's checked certificate and the CA certificate (PEM) that signed it."""

    fingerprint: bytes
    ca_pem: bytes
    subject: str


def split_address(address: str) -> tuple[str, int]:
    """``host:port`` (IPv6 in brackets) as a host and a port; a one-line error otherwise."""
    try:
        return flower_address.split_address(address)
    except AddressError as exc:
        raise PinningError(f"SuperLink address {exc}") from None


def fetch_presented_chain(address: str, timeout_s: float = CONNECT_TIMEOUT_S) -> list[bytes]:
    """The DER certificates the TLS server at ``address`` presents, leaf first (nothing is trusted yet:
    the caller checks them against the chain)."""
    host, port = split_address(address)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        with (
            socket.create_connection((host, port), timeout=timeout_s) as raw,
            context.wrap_socket(raw, server_hostname=host) as tls,
        ):
            # SSLSocket.get_unverified_chain() is public from Python 3.13; 3.11 has it on _sslobj.
            chain = tls._sslobj.get_unverified_chain()  # type: ignore[attr-defined]
    except (OSError, ssl.SSLError) as exc:
        raise SuperLinkUnreachableError(
            f"cannot open a TLS connection to the SuperLink at {address}: {exc}"
        ) from None
    return [cert.public_bytes(DER) for cert in chain or []]


def pin(presented: list[bytes], published: bytes, address: str) -> PinnedCertificate:
    """The leaf checked against the ``published`` fingerprint and the CA in ``presented`` that signed it."""
    if published == bytes(32):
        raise PinningError(
            "the consortium has not published its SuperLink certificate on chain yet: "
            "ask the admin to run `bcfl superlink publish-certificate server.pem --endpoint HOST:PORT`, "
            "then run this again"
        )
    if not presented:
        raise PinningError(f"the server at {address} presented no certificate")
    leaf_der = presented[0]
    found = certificate_fingerprint(leaf_der)
    if found != published:
        raise CertificateMismatchError(
            f"the SuperLink at {address} presents certificate 0x{found.hex()}, but the consortium published "
            f"0x{published.hex()} on chain: this is not the consortium's SuperLink (or the admin changed the "
            "certificate without publishing it); do not connect, and tell the admin"
        )
    leaf = x509.load_der_x509_certificate(leaf_der)
    for der in presented[1:]:
        issuer = x509.load_der_x509_certificate(der)
        if _signed_by(leaf, issuer):
            return PinnedCertificate(
                found, issuer.public_bytes(serialization.Encoding.PEM), leaf.subject.rfc4514_string()
            )
    raise PinningError(
        f"the SuperLink at {address} presents its certificate without the CA certificate that signed it, "
        "so the CA cannot be pinned from the chain: ask the admin to serve the full chain (server "
        "certificate, then the CA's), or pass the CA file they give you with --ca-cert"
    )


def pin_with_ca(presented: list[bytes], published: bytes, address: str, ca_pem: bytes) -> PinnedCertificate:
    """As :func:`pin`, with the CA certificate given by the admin instead of taken from the handshake."""
    try:
        ca = x509.load_pem_x509_certificate(ca_pem)
    except ValueError:
        raise PinningError("--ca-cert is not a PEM certificate") from None
    return pin([*presented[:1], ca.public_bytes(serialization.Encoding.DER)], published, address)


def _signed_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        constraints = issuer.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        return False
    if not constraints.ca:
        return False
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True
