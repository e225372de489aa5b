"""The demo consortium's TLS files: the CA and the SuperLink's certificate (bcfl.flower.certs), and the
CA certificate copied to every party that dials the SuperLink (the coordinator's side and each
hospital's folder). Part of onboarding; what exists is reused, keys are never overwritten."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

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
