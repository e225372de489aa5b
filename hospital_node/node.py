"""A hospital node's resources, from its Flower node config: data, signing agent, chain access.

The node never holds the hospital's key: its signing agent (hospital_node.signer, which
``bcfl node start`` runs) signs for it, over the socket the node config names. This module imports
no keystore code.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from eth_typing import ChecksumAddress

from bcfl.chain.eip712 import EvaluationReport, LedgerDomain, ModelUpdate, SignedModelUpdate
from bcfl.chain.jsonrpc import JsonRpc
from bcfl.chain.manifest import DeploymentManifest
from bcfl.chain.view import ConsortiumView
from bcfl.learning.data.cache import load_prepared_dataset
from bcfl.learning.data.dataset import LocalDataset
from bcfl.learning.data.loader import load_schema
from bcfl.learning.task import use_threads
from hospital_node.errors import HospitalNodeError
from hospital_node.settings import parse_node_config
from hospital_node.signer.client import SignerClient

logger = logging.getLogger(__name__)


class UpdateSigner(Protocol):
    """What signs for the node: its signing agent's client (:class:`SignerClient`) in a deployment."""

    def sign_update(self, domain: LedgerDomain, update: ModelUpdate) -> SignedModelUpdate: ...

    def sign_evaluation(self, domain: LedgerDomain, report: EvaluationReport) -> bytes: ...


@dataclass(frozen=True)
class HospitalNode:
    """What a ClientApp needs to train, sign and verify."""

    data: LocalDataset
    #: The hospital's signing agent, and the address it signs with.
    signer: UpdateSigner
    address: ChecksumAddress
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
    signer = SignerClient(settings.signer_socket)
    agent = signer.identity()
    manifest = DeploymentManifest.load(settings.manifest)
    consortium = ConsortiumView.connect(JsonRpc(settings.rpc_url), manifest)
    ledger = consortium.ledger.domain()
    if (agent.domain.chain_id, agent.domain.verifying_contract.lower()) != (
        ledger.chain_id,
        ledger.verifying_contract.lower(),
    ):
        raise HospitalNodeError(
            f"the signing agent at {settings.signer_socket} signs for chain {agent.domain.chain_id}, "
            f"ledger {agent.domain.verifying_contract}, not this node's consortium (chain "
            f"{ledger.chain_id}, ledger {ledger.verifying_contract}): restart it with the "
            "node's manifest"
        )
    member_id = consortium.registry.active_member_id_of(agent.address)
    if member_id == 0:
        raise HospitalNodeError(f"this node's key {agent.address} is not an active consortium member")
    logger.info(
        "hospital member %d ready: %d train / %d test examples", member_id, len(data.train), len(data.test)
    )
    return HospitalNode(data, signer, agent.address, consortium, member_id, settings.proofs_folder())
