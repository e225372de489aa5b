"""A hospital node's resources, from its Flower node config: data, signing key, chain access."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from eth_account.signers.local import LocalAccount

from bcfl.chain.client import ChainClient
from bcfl.chain.consortium import Consortium
from bcfl.chain.keystore import load_keystore, read_password
from bcfl.chain.manifest import DeploymentManifest
from bcfl.learning.data.dataset import LocalDataset
from bcfl.learning.data.loader import load_local_dataset, load_schema
from hospital_node.errors import HospitalNodeError

logger = logging.getLogger(__name__)

#: Node-config keys (``flower-supernode --node-config``), kebab-case as in Flower's examples.
REQUIRED_KEYS = ("data-path", "schema-path", "keystore", "rpc-url", "manifest")


@dataclass(frozen=True)
class HospitalNode:
    """What a ClientApp needs to train, sign and verify."""

    data: LocalDataset
    account: LocalAccount
    consortium: Consortium
    member_id: int


def _config_value(config: dict[str, object], key: str) -> str:
    value = config.get(key)
    if not isinstance(value, str) or not value:
        raise HospitalNodeError(
            f"node config {key!r} is missing (set it with flower-supernode --node-config)"
        )
    return value


def load_node(node_config: dict[str, object]) -> HospitalNode:
    """Load and check everything a node needs; a clear error names the first thing that is wrong."""
    for key in REQUIRED_KEYS:
        _config_value(node_config, key)
    schema = load_schema(Path(_config_value(node_config, "schema-path")))
    seed = int(str(node_config.get("split-seed", 0)))
    data = load_local_dataset(Path(_config_value(node_config, "data-path")), schema, seed=seed)
    password_file = node_config.get("password-file")
    password = read_password(Path(str(password_file)) if password_file else None)
    account = load_keystore(Path(_config_value(node_config, "keystore")), password)
    manifest = DeploymentManifest.load(Path(_config_value(node_config, "manifest")))
    consortium = Consortium.connect(ChainClient(_config_value(node_config, "rpc-url")), manifest)
    member_id = consortium.registry.active_member_id_of(account.address)
    if member_id == 0:
        raise HospitalNodeError(f"this node's key {account.address} is not an active consortium member")
    logger.info(
        "hospital member %d ready: %d train / %d test examples", member_id, len(data.train), len(data.test)
    )
    return HospitalNode(data, account, consortium, member_id)
