"""``bcfl node init``'s work: check everything first, then write the node folder.

Nothing is written until the manifest, the chain (chain id and contract code), the data (against the
schema), an existing keystore's password and the SuperLink's certificate (against the fingerprint on
chain) were checked, so a failed init leaves the folder as it was. An existing keystore or node key
is reused, never overwritten; the config file is written last.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bcfl.chain.client import ChainClient
from bcfl.chain.consortium import Consortium
from bcfl.chain.keystore import create_keystore, load_keystore
from bcfl.chain.manifest import DeploymentManifest
from bcfl.flower.node_keys import ensure_node_key, load_node_key
from hospital_node.site.config import NodeConfig, NodeConfigError, NodeFolder, write_atomic
from hospital_node.site.data import data_report
from hospital_node.site.pinning import (
    CertificateMismatchError,
    PinnedCertificate,
    PinningError,
    fetch_presented_chain,
    pin,
    pin_with_ca,
    split_address,
)

MIN_PASSWORD = 8


@dataclass(frozen=True)
class InitRequest:
    """What the hospital IT gives ``bcfl node init``."""

    folder: Path
    manifest: Path
    rpc_url: str
    data: Path
    schema: Path
    password: str
    name: str | None = None
    superlink: str | None = None
    password_file: Path | None = None
    ca_cert: Path | None = None


@dataclass
class InitResult:
    """What init found, made and reused, and what comes next."""

    folder: Path
    name: str
    address: str
    node_key_fingerprint: str
    superlink: str
    data: dict[str, Any]
    pinned: str | None
    done: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    next_step: str = ""


def init_node(request: InitRequest) -> InitResult:
    """Check, then make (or complete) the node folder."""
    node = NodeFolder(request.folder)
    if node.folder.exists() and not node.folder.is_dir():
        raise NodeConfigError(f"{node.folder} exists and is not a folder")
    if not request.rpc_url.startswith(("http://", "https://")):
        raise NodeConfigError(
            f"--rpc-url {request.rpc_url[:80]!r} must be a URL with its scheme, e.g. http://127.0.0.1:8545"
        )
    manifest = DeploymentManifest.load(request.manifest)
    report = data_report(request.data, request.schema)
    consortium = Consortium.connect(ChainClient(request.rpc_url, retries=1), manifest)
    published, endpoint = consortium.registry.superlink_certificate()
    superlink = request.superlink or endpoint
    if not superlink:
        raise PinningError(
            "no SuperLink address: the consortium published none on chain yet, so give --superlink HOST:PORT"
        )
    split_address(superlink)  # a malformed address is the IT's typo, not something to fix later
    warnings: list[str] = []
    pinned = _pin(request, published, superlink, warnings)
    existing = node.keystore.exists()
    if existing:
        account = load_keystore(node.keystore, request.password)
    elif len(request.password) < MIN_PASSWORD:
        raise NodeConfigError(f"the keystore password must have at least {MIN_PASSWORD} characters")
    if node.node_key.exists():
        load_node_key(node.node_key)  # a key Flower cannot use is refused before anything is written
    done: list[str] = []
    if existing:
        done.append(f"reused the existing keystore {node.keystore} (never overwritten)")
    else:
        account = create_keystore(node.keystore, request.password)
        done.append(f"made the hospital's key {account.address} in {node.keystore} (encrypted, mode 0600)")
    had_key = node.node_key.exists()
    key = ensure_node_key(node.node_key)
    done.append(
        f"{'reused' if had_key else 'made'} the Flower node key {node.node_key} "
        f"(fingerprint 0x{key.fingerprint.hex()})"
    )
    write_atomic(node.manifest, request.manifest.read_bytes())
    done.append(f"copied the deployment manifest to {node.manifest}")
    if pinned is not None:
        write_atomic(node.ca_cert, pinned.ca_pem)
        done.append(
            f"pinned the SuperLink certificate 0x{pinned.fingerprint.hex()} (as published on chain) "
            f"and saved its CA as {node.ca_cert}"
        )
    name = request.name or node.folder.name
    node.save(
        NodeConfig(
            name=name,
            rpc_url=request.rpc_url,
            superlink=superlink,
            data=request.data.absolute(),
            schema_path=request.schema.absolute(),
            password_file=request.password_file.absolute() if request.password_file else None,
        )
    )
    done.append(f"wrote the node config {node.config_path}")
    next_step = f"bcfl node join {node.folder}"
    if pinned is None:
        next_step = f"once the SuperLink certificate can be pinned, run this init again; then {next_step}"
    return InitResult(
        folder=node.folder,
        name=name,
        address=account.address,
        node_key_fingerprint="0x" + key.fingerprint.hex(),
        superlink=superlink,
        data=report,
        pinned=None if pinned is None else "0x" + pinned.fingerprint.hex(),
        done=done,
        warnings=warnings,
        next_step=next_step,
    )


def _pin(
    request: InitRequest, published: bytes, superlink: str, warnings: list[str]
) -> PinnedCertificate | None:
    """The pinned certificate; a mismatch stops init, what can be fixed later is a warning."""
    try:
        presented = [] if published == bytes(32) else fetch_presented_chain(superlink)
        if request.ca_cert is not None:
            return pin_with_ca(presented, published, superlink, _read(request.ca_cert))
        return pin(presented, published, superlink)
    except CertificateMismatchError:
        raise
    except PinningError as exc:
        warnings.append(f"SuperLink certificate not pinned yet: {exc}")
        return None


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise PinningError(f"cannot read {path}: {exc.strerror}") from None
