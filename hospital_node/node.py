"""A hospital node's resources, from its Flower node config: data, signing key, chain access."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from eth_account.signers.local import LocalAccount

from bcfl.chain.jsonrpc import JsonRpc
from bcfl.chain.keystore import load_keystore, read_password
from bcfl.chain.manifest import DeploymentManifest
from bcfl.chain.view import ConsortiumView
from bcfl.learning.data.cache import load_prepared_dataset
from bcfl.learning.data.dataset import LocalDataset
from bcfl.learning.data.loader import load_schema
from bcfl.learning.task import use_threads
from hospital_node.errors import HospitalNodeError
from hospital_node.settings import parse_node_config

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class HospitalNode:
    """What a ClientApp needs to train, sign and verify."""

    data: LocalDataset
    account: LocalAccount
    #: The chain reads the node makes, over plain JSON-RPC (no web3 in the ClientApp's process).
    consortium: ConsortiumView
    member_id: int
    #: Where the node keeps the signed proof of every update it sends.
    proofs: Path


def load_node(node_config: dict[str, object]) -> HospitalNode:
    """Load and check everything a node needs; a clear error names the first thing that is wrong."""
    settings = parse_node_config(node_config)
    schema = load_schema(settings.schema_path)
    use_threads(settings.threads())
    seed = settings.split_seed or 0
    data = load_prepared_dataset(
        settings.data_path, settings.schema_path, schema, seed, settings.cache_folder()
    )
    account = load_keystore(settings.keystore, read_password(settings.password_file))
    manifest = DeploymentManifest.load(settings.manifest)
    consortium = ConsortiumView.connect(JsonRpc(settings.rpc_url), manifest)
    member_id = consortium.registry.active_member_id_of(account.address)
    if member_id == 0:
        raise HospitalNodeError(f"this node's key {account.address} is not an active consortium member")
    logger.info(
        "hospital member %d ready: %d train / %d test examples", member_id, len(data.train), len(data.test)
    )
    return HospitalNode(data, account, consortium, member_id, settings.proofs_folder())
