"""The demo consortium's TLS files: the CA and the SuperLink's certificate (bcfl.flower.certs), and the
CA certificate copied to every party that dials the SuperLink (the coordinator's side and each
hospital's folder). Part of onboarding; what exists is reused, keys are never overwritten. The admin
then pins that certificate on chain with the address hospitals dial (the Fleet gateway, which serves
the same certificate): hospitals check the SuperLink against the chain, not a second channel."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

from eth_account.signers.local import LocalAccount

from bcfl.chain.registry import Registry
from bcfl.flower.certs import CA_CERT, TlsFiles, ensure_tls
from bcfl.flower.files import write_public

logger = logging.getLogger(__name__)


def prepare_tls(
    tls_dir: Path, names: Iterable[str], ca_dir: Path, hospital_folders: Iterable[Path], consortium: str
) -> TlsFiles:
    """The CA and a server certificate for ``names`` in ``tls_dir``; ``ca.crt`` in ``ca_dir`` and in
    each hospital's folder."""
    files = ensure_tls(tls_dir, names, consortium=f"BCFL {consortium} consortium")
    ca = files.ca_cert.read_bytes()
    for folder in (ca_dir, *hospital_folders):
        target = folder / CA_CERT
        if not target.exists() or target.read_bytes() != ca:
            write_public(target, ca)
    logger.info("TLS ready: server certificate %s (SHA-256 %s)", files.server_cert, files.fingerprint())
    return files


def publish_superlink_certificate(
    registry: Registry, admin: LocalAccount, files: TlsFiles, endpoint: str
) -> bool:
    """Pin the server certificate (its SHA-256 over DER) and ``endpoint`` (``host:port`` the SuperNodes
    dial) on chain as the admin, unless they are pinned already; whether it sent the transaction."""
    fingerprint = bytes.fromhex(files.fingerprint().removeprefix("0x"))
    if registry.superlink_certificate() == (fingerprint, endpoint):
        return False
    registry.set_superlink_certificate(admin, fingerprint, endpoint)
    logger.info("pinned the SuperLink certificate %s for %s on chain", files.fingerprint(), endpoint)
    return True
