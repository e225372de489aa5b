"""The one check that a manifest describes contracts this build can talk to, for the web3 client
(:class:`~bcfl.chain.client.ChainClient`) and the ClientApp's plain JSON-RPC one
(:class:`~bcfl.chain.jsonrpc.JsonRpc`) alike: it imports neither."""

from __future__ import annotations

from typing import Protocol

from bcfl.chain.exceptions import ManifestError, redact_url
from bcfl.chain.manifest import DeploymentManifest


class CodeReader(Protocol):
    """What the check reads from a chain."""

    @property
    def rpc_url(self) -> str: ...

    @property
    def chain_id(self) -> int: ...

    def get_code(self, address: str) -> bytes: ...


def check_deployment(chain: CodeReader, manifest: DeploymentManifest) -> None:
    """Raise :class:`ManifestError` unless the manifest describes contracts this build can talk to."""
    if chain.chain_id != manifest.chain_id:
        raise ManifestError(
            f"the manifest is for chain id {manifest.chain_id}, "
            f"but {redact_url(chain.rpc_url)} is chain {chain.chain_id}"
        )
    stale = manifest.stale_abis()
    if stale:
        raise ManifestError(
            f"the deployed ABI of {', '.join(stale)} differs from this build: redeploy or upgrade"
        )
    for name, record in manifest.contracts.items():
        if not chain.get_code(record.address):
            raise ManifestError(
                f"no contract code for {name} at {record.address} on {redact_url(chain.rpc_url)}"
            )
