"""Onboarding for the containerised demo (``docker compose up``), safe to run again on every start.

Each demo hospital has its own folder (its own Docker volume): its data and schema, its encrypted
key with the password file beside it, and its copy of the public deployment manifest. A real
hospital does these steps itself (``bcfl keys new``, ``bcfl member request``) and the admin
approves (``bcfl member approve``); the compose file's one-shot ``onboard`` service does them for
the demo hospitals. What already exists is reused: data, keystore, membership, approval.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from eth_account.signers.local import LocalAccount

from bcfl.chain.consortium import Consortium
from bcfl.chain.exceptions import ChainError
from bcfl.chain.keystore import load_keystore, read_password
from bcfl.chain.registry import MemberStatus
from bcfl.demo.heart import prepare_heart_hospitals
from bcfl.demo.onboarding import FUNDING_WEI, new_keystore

logger = logging.getLogger(__name__)

#: A key holding less than this is topped up before it sends its request.
MIN_BALANCE_WEI = FUNDING_WEI // 10
KEYSTORE = "keystore.json"
PASSWORD_FILE = "keystore.password"
MANIFEST = "deployment.json"


class OnboardingError(ChainError):
    """A demo hospital or the coordinator cannot be (re)onboarded as its folder and the chain stand."""


@dataclass(frozen=True)
class OnboardedSite:
    """What the onboarding found or did for one hospital."""

    name: str
    member_id: int
    address: str
    #: What changed this time: ``[]`` when everything already existed.
    actions: tuple[str, ...]


def unlock_or_create(folder: Path, private_key: bytes | None = None) -> tuple[LocalAccount, bool]:
    """The key in ``folder/keystore.json`` (created, with its password file, if missing)."""
    keystore = folder / KEYSTORE
    if keystore.exists():
        return load_keystore(keystore, read_password(folder / PASSWORD_FILE)), False
    return new_keystore(folder, private_key), True


def onboard_hospital(consortium: Consortium, admin: LocalAccount, root: Path, name: str) -> OnboardedSite:
    """Data, key, funding, membership request and approval of one demo hospital; each only if missing."""
    folder = root / name
    actions: list[str] = []
    if not (folder / "data.csv").exists() or not (folder / "schema.json").exists():
        (prepared,) = prepare_heart_hospitals(root, [name])
        actions.append(f"prepared {prepared.rows} records")
    account, created = unlock_or_create(folder)
    if created:
        actions.append("created its key")
    registry = consortium.registry
    member_id = registry.member_id_of(account.address)
    if member_id == 0:
        balance = consortium.client.retrying(
            "eth_getBalance", lambda: consortium.client.w3.eth.get_balance(account.address)
        )
        if balance < MIN_BALANCE_WEI:
            consortium.client.transfer(admin, account.address, FUNDING_WEI)
            actions.append("funded its key")
        member_id = registry.request_membership(account, name, metadata_uri=f"demo:{name}")
        actions.append(f"requested membership #{member_id}")
    status = registry.member(member_id).status
    if status is MemberStatus.PENDING:
        registry.approve(admin, member_id)
        actions.append("approved by the admin")
    elif status is not MemberStatus.ACTIVE:
        raise OnboardingError(
            f"{name}: member #{member_id} is {status.name.lower()}; an admin must resolve it "
            "(bcfl member reinstate), or reset the demo with `docker compose down -v`"
        )
    # The manifest is public: each site keeps its own copy, refreshed on every start.
    consortium.manifest.save(folder / MANIFEST)
    return OnboardedSite(name, member_id, account.address, tuple(actions))


def prepare_coordinator_key(consortium: Consortium, folder: Path, private_key: bytes) -> tuple[str, bool]:
    """The coordinator's keystore in ``folder`` (from ``private_key`` if missing); checks its role."""
    account, created = unlock_or_create(folder, private_key)
    if not consortium.registry.is_coordinator(account.address):
        raise OnboardingError(
            f"the key in {folder / KEYSTORE} ({account.address}) does not hold the coordinator role"
        )
    return account.address, created
