"""Onboard the demo hospitals as a real consortium would: own keys, own data folders, admin approval."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from eth_account.signers.local import LocalAccount

from bcfl.chain.consortium import Consortium
from bcfl.chain.keystore import create_keystore
from bcfl.demo.consortia import HEART, DemoConsortium

#: Ether sent to each new hospital key for its own transactions (membership request).
FUNDING_WEI = 10**18


@dataclass(frozen=True)
class DemoHospital:
    """A demo hospital's folder: data, schema, keystore and its password file, and its member id."""

    name: str
    member_id: int
    address: str
    folder: Path
    #: The hospital's EHR extract or image folder.
    data: Path

    @property
    def schema(self) -> Path:
        """The consortium schema, as the hospital holds it."""
        return self.folder / "schema.json"

    @property
    def keystore(self) -> Path:
        """The hospital's encrypted signing key."""
        return self.folder / "keystore.json"

    @property
    def password_file(self) -> Path:
        """The keystore password (mode 0600)."""
        return self.folder / "keystore.password"


def write_secret(path: Path, text: str) -> None:
    """Write a file only its owner can read."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # also when the file existed with wider permissions
    with os.fdopen(fd, "w") as handle:
        handle.write(text)


def new_keystore(folder: Path, private_key: bytes | None = None) -> LocalAccount:
    """A keystore in ``folder`` with a random password in ``keystore.password`` beside it."""
    password = secrets.token_urlsafe(24)
    folder.mkdir(parents=True, exist_ok=True)
    write_secret(folder / "keystore.password", password)
    return create_keystore(folder / "keystore.json", password, private_key)


def onboard_demo_hospitals(
    consortium: Consortium,
    admin: LocalAccount,
    root: Path,
    names: list[str],
    demo: DemoConsortium = HEART,
) -> list[DemoHospital]:
    """Prepare each hospital's data and key, fund the key, request membership and approve it."""
    hospitals = []
    for prepared in demo.prepare(root, names):
        folder = prepared.schema.parent
        account = new_keystore(folder)
        consortium.client.transfer(admin, account.address, FUNDING_WEI)
        member_id = consortium.registry.request_membership(
            account, prepared.name, metadata_uri=f"demo:{prepared.name}"
        )
        consortium.registry.approve(admin, member_id)
        hospitals.append(DemoHospital(prepared.name, member_id, account.address, folder, prepared.data))
    return hospitals
