"""The consortium's TLS files, made with ``cryptography``: a CA and the SuperLink's server certificate.

The SuperLink serves its Fleet, Control and Runtime APIs on one HTTPS socket (Flower 1.41), and the
Fleet gateway (bcfl.flower.gateway) serves hospitals with the same certificate. Hostname checks are
on and ignore the CN, so the certificate names in its SANs every name and IP the nodes dial, and
IP:127.0.0.1, which the SuperLink's own SuperExec dials. Private keys are EC, mode 0600, and never
overwritten; the server certificate is issued again (same key) when it lacks a name asked for.
Hospitals pin the server certificate by its SHA-256 fingerprint over DER.
"""

from __future__ import annotations

import datetime
import ipaddress
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from bcfl.chain.fingerprints import certificate_fingerprint
from bcfl.flower.files import KeyFileError, write_private, write_public

logger = logging.getLogger(__name__)

CA_CERT = "ca.crt"
CA_KEY = "ca.key"
SERVER_CERT = "server.pem"
SERVER_KEY = "server.key"
#: Always in the server certificate: the SuperLink's own SuperExec dials 127.0.0.1.
LOOPBACK_NAMES = ("localhost", "127.0.0.1")
CA_DAYS = 3650
SERVER_DAYS = 825


@dataclass(frozen=True)
class TlsFiles:
    """The CA certificate (public: every party gets a copy) and the server's certificate and key."""

    folder: Path

    @property
    def ca_cert(self) -> Path:
        return self.folder / CA_CERT

    @property
    def ca_key(self) -> Path:
        return self.folder / CA_KEY

    @property
    def server_cert(self) -> Path:
        return self.folder / SERVER_CERT

    @property
    def server_key(self) -> Path:
        return self.folder / SERVER_KEY

    def fingerprint(self) -> str:
        """The server certificate's ``0x`` SHA-256 fingerprint over DER (what hospitals pin; the registry's
        ``setSuperLinkCertificate`` takes its bytes): bcfl.chain.fingerprints."""
        return "0x" + certificate_fingerprint(self.server_cert.read_bytes()).hex()


def certificate_names(pem: bytes) -> set[str]:
    """The DNS names and IP addresses in a PEM certificate's SANs."""
    certificate = x509.load_pem_x509_certificate(pem)
    try:
        sans = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return set()
    return {*sans.get_values_for_type(x509.DNSName), *map(str, sans.get_values_for_type(x509.IPAddress))}


def ensure_tls(folder: Path, names: Iterable[str], consortium: str = "BCFL consortium") -> TlsFiles:
    """The CA and a server certificate for ``names`` (and localhost, 127.0.0.1) in ``folder``; what
    exists is reused, keys are never overwritten."""
    files = TlsFiles(folder)
    wanted = sorted({*LOOPBACK_NAMES, *names})
    ca_key = _ensure_key(files.ca_key)
    ca_cert = _ensure_ca(files, ca_key, consortium)
    server_key = _ensure_key(files.server_key)
    if files.server_cert.exists():
        current = x509.load_pem_x509_certificate(files.server_cert.read_bytes())
        if (
            current.public_key() == server_key.public_key()
            and _issued_by(current, ca_cert)
            and set(wanted) <= certificate_names(files.server_cert.read_bytes())
        ):
            return files
    write_public(files.server_cert, _server_certificate(ca_cert, ca_key, server_key, wanted))
    logger.info("issued %s for %s", files.server_cert, ", ".join(wanted))
    return files


def _issued_by(cert: x509.Certificate, ca: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(ca)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _ensure_key(path: Path) -> ec.EllipticCurvePrivateKey:
    if path.exists():
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise KeyFileError(f"{path} is not an EC private key; move it away to make a new one")
        return key
    key = ec.generate_private_key(ec.SECP256R1())
    write_private(
        path,
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ),
    )
    return key


def _ensure_ca(files: TlsFiles, key: ec.EllipticCurvePrivateKey, consortium: str) -> x509.Certificate:
    if files.ca_cert.exists():
        cert = x509.load_pem_x509_certificate(files.ca_cert.read_bytes())
        if cert.public_key() == key.public_key():
            return cert
    now = datetime.datetime.now(datetime.UTC)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{consortium} CA")])
    cert = (
        _builder(name, name, key.public_key(), now, CA_DAYS)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(cert_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    write_public(files.ca_cert, cert.public_bytes(serialization.Encoding.PEM))
    logger.info("made the consortium CA %s", files.ca_cert)
    return cert


def _server_certificate(
    ca_cert: x509.Certificate,
    ca_key: ec.EllipticCurvePrivateKey,
    key: ec.EllipticCurvePrivateKey,
    names: list[str],
) -> bytes:
    now = datetime.datetime.now(datetime.UTC)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])])
    cert = (
        _builder(subject, ca_cert.subject, key.public_key(), now, SERVER_DAYS)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(cert_sign=False), critical=True)
        .add_extension(x509.SubjectAlternativeName([_general_name(n) for n in names]), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM)


def _builder(
    subject: x509.Name, issuer: x509.Name, key: ec.EllipticCurvePublicKey, now: datetime.datetime, days: int
) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=days))
    )


def _key_usage(*, cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


def _general_name(name: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)
