"""The consortium's contracts as one object, found through a deployment manifest."""

from __future__ import annotations

from dataclasses import dataclass

from bcfl.chain.client import ChainClient
from bcfl.chain.exceptions import ManifestError, redact_url
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


def check_deployment(client: ChainClient, manifest: DeploymentManifest) -> None:
    """Raise :class:`ManifestError` unless the manifest describes contracts this build can talk to."""
    if client.chain_id != manifest.chain_id:
        raise ManifestError(
            f"the manifest is for chain id {manifest.chain_id}, "
            f"but {redact_url(client.rpc_url)} is chain {client.chain_id}"
        )
    stale = manifest.stale_abis()
    if stale:
        raise ManifestError(
            f"the deployed ABI of {', '.join(stale)} differs from this build: redeploy or upgrade"
        )
    for name, record in manifest.contracts.items():
        code = client.retrying("eth_getCode", lambda a=record.address: client.w3.eth.get_code(a))  # type: ignore[misc]
        if not code:
            raise ManifestError(
                f"no contract code for {name} at {record.address} on {redact_url(client.rpc_url)}"
            )
