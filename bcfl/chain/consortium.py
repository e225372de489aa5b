"""The consortium's contracts as one object, found through a deployment manifest."""

from __future__ import annotations

from dataclasses import dataclass

from bcfl.chain.client import ChainClient
from bcfl.chain.deployment import check_deployment
from bcfl.chain.ledger import Ledger
from bcfl.chain.manifest import DeploymentManifest
from bcfl.chain.registry import Registry
from bcfl.chain.reputation import Reputation
from bcfl.chain.rewards import Distributor, Token


@dataclass(frozen=True)
class Consortium:
    """Typed handles on every consortium contract."""

    client: ChainClient
    manifest: DeploymentManifest
    registry: Registry
    ledger: Ledger
    reputation: Reputation
    token: Token
    distributor: Distributor

    @classmethod
    def connect(cls, client: ChainClient, manifest: DeploymentManifest, *, verify: bool = True) -> Consortium:
        """Bind to a deployment; with ``verify``, check chain id, code and ABI hashes first."""
        if verify:
            check_deployment(client, manifest)
        block = manifest.deployment_block
        return cls(
            client=client,
            manifest=manifest,
            registry=Registry(client, manifest.address("ConsortiumRegistry"), block),
            ledger=Ledger(client, manifest.address("RoundLedger"), block),
            reputation=Reputation(client, manifest.address("ReputationLedger"), block),
            token=Token(client, manifest.address("RewardToken"), block),
            distributor=Distributor(client, manifest.address("RewardDistributor"), block),
        )
