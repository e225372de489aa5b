"""Onboard the demo hospitals and the coordinator, safe to run again on every start.

Each demo hospital has its own folder (its own Docker volume in compose): its data and schema, its
encrypted key with the password file beside it in the folder's ``key/`` (a volume of its own in
compose, which only the hospital's signing agent mounts), its SuperNode's key (bcfl.flower.node_keys: the key
whose fingerprint its membership request publishes on chain), and its copy of the public deployment
manifest. A real hospital does these steps itself (``bcfl keys new``, ``bcfl member request``) and
the admin approves (``bcfl member approve``); for the demo, ``bcfl demo``, the test federations and
the compose file's one-shot ``onboard`` service all run :func:`onboard_consortium`. It also approves
the demo's Flower App on chain (its hash as ``flwr run`` sends it), since each hospital's SuperExec
starts no other app (``bcfl app approve`` for a real consortium). Each hospital publishes its node
key on chain (``publishNodeKey``), which is what the node sync (``bcfl superlink sync-nodes``) registers
with the SuperLink once the member is active. What already exists (data,
keystore, node key, funding, membership, approval, the coordinator's keystore, the app's approval)
is reused.
"""

from __future__ import annotations

import logging
import os
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path

from eth_account.signers.local import LocalAccount

from bcfl.apps import app_hash, approve_app
from bcfl.chain.consortium import Consortium
from bcfl.chain.exceptions import ChainError
from bcfl.chain.fingerprints import openssh_key_blob
from bcfl.chain.funding import fund_if_low
from bcfl.chain.keystore import create_keystore, load_keystore, read_password
from bcfl.chain.registry import MemberStatus
from bcfl.demo.consortia import DemoConsortium
from bcfl.demo.lineage import start_demo_lineage
from bcfl.flower.node_keys import NODE_KEY, ensure_node_key
from bcfl.paths import REPO_ROOT

logger = logging.getLogger(__name__)

#: Ether sent to each new hospital key for its own transactions (membership request).
FUNDING_WEI = 10**18
#: A key holding less than this is topped up before it sends its request.
MIN_BALANCE_WEI = FUNDING_WEI // 10
KEYSTORE = "keystore.json"
PASSWORD_FILE = "keystore.password"
MANIFEST = "deployment.json"
SCHEMA = "schema.json"
#: The hospital's keystore and password file, in a subfolder only its signing agent is given.
KEY_DIR = "key"


class OnboardingError(ChainError):
    """A demo hospital or the coordinator cannot be (re)onboarded as its folder and the chain stand."""


@dataclass(frozen=True)
class DemoHospital:
    """A demo hospital's folder (data, schema, key, manifest) and its membership."""

    name: str
    member_id: int
    address: str
    folder: Path
    #: The hospital's EHR extract or image folder.
    data: Path
    #: What changed this time: ``()`` when everything already existed.
    actions: tuple[str, ...] = ()

    @property
    def schema(self) -> Path:
        """The consortium schema, as the hospital holds it."""
        return self.folder / SCHEMA

    @property
    def key_folder(self) -> Path:
        """The hospital's keystore and its password: only its signing agent reads them."""
        return self.folder / KEY_DIR

    @property
    def keystore(self) -> Path:
        """The hospital's encrypted signing key."""
        return self.key_folder / KEYSTORE

    @property
    def password_file(self) -> Path:
        """The keystore password (mode 0600)."""
        return self.key_folder / PASSWORD_FILE

    @property
    def manifest(self) -> Path:
        """The hospital's own copy of the public deployment manifest."""
        return self.folder / MANIFEST

    @property
    def node_key(self) -> Path:
        """The private key its SuperNode authenticates with (OpenSSH, mode 0600)."""
        return self.folder / NODE_KEY


@dataclass(frozen=True)
class OnboardedConsortium:
    """The demo hospitals and the coordinator's key, as found or made."""

    hospitals: tuple[DemoHospital, ...]
    coordinator: str
    #: Whether the coordinator's keystore was created this time.
    coordinator_created: bool
    #: The demo Flower App's hash (what ``flwr run`` sends), approved on chain.
    app_hash: bytes
    #: Whether the app was approved this time.
    app_approved: bool


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
    write_secret(folder / PASSWORD_FILE, password)
    return create_keystore(folder / KEYSTORE, password, private_key)


def unlock_or_create(folder: Path, private_key: bytes | None = None) -> tuple[LocalAccount, bool]:
    """The key in ``folder/keystore.json`` (created, with its password file, if missing)."""
    keystore = folder / KEYSTORE
    if keystore.exists():
        return load_keystore(keystore, read_password(folder / PASSWORD_FILE)), False
    return new_keystore(folder, private_key), True


def hospital_key_folder(folder: Path) -> Path:
    """``folder/key``, where a hospital's keystore and password are; those of a site made before they
    moved there (beside the data) are moved in."""
    keys = folder / KEY_DIR
    keys.mkdir(mode=0o700, parents=True, exist_ok=True)
    for name in (KEYSTORE, PASSWORD_FILE):
        if (folder / name).exists() and not (keys / name).exists():
            shutil.move(folder / name, keys / name)
    return keys


def onboard_hospital(
    consortium: Consortium, admin: LocalAccount, root: Path, name: str, demo: DemoConsortium
) -> DemoHospital:
    """Data, key, funding, membership request and approval of one demo hospital; each only if missing."""
    folder = root / name
    data = folder / demo.data_name
    actions: list[str] = []
    if not data.exists() or not (folder / SCHEMA).exists():
        (prepared,) = demo.prepare(root, [name])
        data = prepared.data
        actions.append(f"prepared {prepared.rows} records")
    account, created = unlock_or_create(hospital_key_folder(folder))
    if created:
        actions.append("created its key")
    fresh_node_key = not (folder / NODE_KEY).exists()
    node_key = ensure_node_key(folder / NODE_KEY)
    if fresh_node_key:
        actions.append("created its node key")
    registry = consortium.registry
    member_id = registry.member_id_of(account.address)
    if member_id == 0:
        if fund_if_low(consortium.client, admin, account.address, FUNDING_WEI, MIN_BALANCE_WEI):
            actions.append("funded its key")
        member_id = registry.request_membership(
            account, name, node_key.fingerprint, metadata_uri=f"demo:{name}"
        )
        actions.append(f"requested membership #{member_id}")
    member = registry.member(member_id)
    if member.status is MemberStatus.PENDING:
        registry.approve(admin, member_id)
        actions.append("approved by the admin")
    elif member.status is not MemberStatus.ACTIVE:
        raise OnboardingError(
            f"{name}: member #{member_id} is {member.status.name.lower()}; an admin must resolve it "
            "(bcfl member reinstate), or reset the demo (a new run directory; `docker compose down -v`)"
        )
    if member.node_key_fingerprint != node_key.fingerprint:  # a new node key: its fingerprint on chain
        registry.update_node_key(account, node_key.fingerprint)
        actions.append("published its node key's fingerprint")
    # The key itself on chain, so that the consortium's node sync registers it with the SuperLink.
    blob = openssh_key_blob(node_key.openssh)
    if registry.published_node_key(member_id) != blob:
        registry.publish_node_key(account, blob)
        actions.append("published its node key")
    # The manifest is public: each site keeps its own copy, refreshed on every start.
    consortium.manifest.save(folder / MANIFEST)
    return DemoHospital(name, member_id, account.address, folder, data, tuple(actions))


def prepare_coordinator_key(consortium: Consortium, folder: Path, private_key: bytes) -> tuple[str, bool]:
    """The coordinator's keystore in ``folder`` (from ``private_key`` if missing); checks its role."""
    account, created = unlock_or_create(folder, private_key)
    if not consortium.registry.is_coordinator(account.address):
        raise OnboardingError(
            f"the key in {folder / KEYSTORE} ({account.address}) does not hold the coordinator role"
        )
    return account.address, created


def onboard_consortium(
    consortium: Consortium,
    admin: LocalAccount,
    demo: DemoConsortium,
    hospitals_dir: Path,
    names: list[str],
    coordinator_dir: Path,
    coordinator_key: bytes,
    app_dir: Path = REPO_ROOT,
) -> OnboardedConsortium:
    """Every named demo hospital of ``demo`` onboarded, the coordinator's keystore in place, and the
    consortium's model lineage started (on a chain without one), and the Flower App in ``app_dir``
    approved on chain."""
    unknown = sorted(set(names) - set(demo.hospitals))
    if unknown:
        raise OnboardingError(
            f"{', '.join(unknown)}: not a hospital of the {demo.name} demo ({', '.join(demo.hospitals)})"
        )
    hospitals = tuple(onboard_hospital(consortium, admin, hospitals_dir, name, demo) for name in names)
    address, created = prepare_coordinator_key(consortium, coordinator_dir, coordinator_key)
    start_demo_lineage(consortium, admin, demo.schema_name)
    digest = app_hash(app_dir)
    approved = approve_app(consortium.ledger, admin, digest)
    return OnboardedConsortium(hospitals, address, created, digest, approved)
