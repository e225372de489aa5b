"""The Flower Apps a consortium approved: an app's hash, exactly as ``flwr run`` sends it, and its
approval on chain (``RoundLedger.approveApp``).

``flwr run DIR`` bundles DIR into a FAB with Flower's own builder (``flwr.cli.build``: the files its
include rules and ``.gitignore`` keep, sorted, with a fixed zip date) and the SuperLink and every
SuperNode know the run's app by the SHA-256 of those bytes. :func:`app_hash` builds the same bundle
with the same function, so the hash an admin approves is the one each hospital's SuperExec checks
before it starts any process of the app (``hospital_node.superexec``).
"""

from __future__ import annotations

import hashlib
import logging
import re
from pathlib import Path

from eth_account.signers.local import LocalAccount
from flwr.cli.build import build_fab_from_disk

from bcfl.chain.consortium import Consortium
from bcfl.chain.exceptions import ChainError
from bcfl.chain.ledger import Ledger

logger = logging.getLogger(__name__)

_HEX_HASH = re.compile(r"(0x)?[0-9a-fA-F]{64}")


class AppBundleError(ChainError):
    """A folder cannot be bundled as a Flower App, or a value is neither an app folder nor a hash."""


def app_hash(app_dir: Path) -> bytes:
    """The SHA-256 of the FAB ``flwr run app_dir`` would send (32 bytes)."""
    if not (app_dir / "pyproject.toml").is_file():
        raise AppBundleError(f"{app_dir} is not a Flower App: it has no pyproject.toml")
    try:
        fab = build_fab_from_disk(app_dir)
    except (ValueError, OSError) as exc:  # Flower's build errors are ValueErrors (AppPathDepthError too)
        reason = " ".join(str(exc).split())
        raise AppBundleError(f"{app_dir} cannot be bundled as a Flower App: {reason}") from None
    return hashlib.sha256(fab).digest()


def hash_text(digest: bytes) -> str:
    """How an app hash is shown: ``0x`` and 64 hex digits (Flower prints the same digits without 0x)."""
    return "0x" + digest.hex()


def resolve_app(value: str) -> bytes:
    """An app hash from a Flower App folder or from its hash (64 hex digits, with or without 0x)."""
    path = Path(value)
    if path.is_dir():
        return app_hash(path)
    if _HEX_HASH.fullmatch(value):
        return bytes.fromhex(value.removeprefix("0x"))
    raise AppBundleError(f"{value!r} is neither a Flower App folder nor an app hash (64 hex digits)")


def approve_app(ledger: Ledger, sender: LocalAccount, digest: bytes) -> bool:
    """Approve an app on chain unless it already is (the admin, or anyone once the members decided);
    True when this call approved it."""
    if ledger.is_app_approved(digest):
        return False
    ledger.approve_app(sender, digest)
    logger.info("approved app %s on chain", hash_text(digest))
    return True


def approve_or_vote(consortium: Consortium, account: LocalAccount, digest: bytes) -> tuple[bool, str]:
    """Approve an app as the admin, or, in governance mode, add ``account``'s member approval to the
    decision and carry it out once it has the quorum; whether it is approved now, and what happened."""
    ledger, registry = consortium.ledger, consortium.registry
    if not ledger.is_app_approved(digest):
        short = registry.shortfall(account, lambda: ledger.app_decision(digest, True))
        if short is not None:
            return False, f"{short[0]} of {short[1]} member approvals"
    return True, "approved now" if approve_app(ledger, account, digest) else "already"
