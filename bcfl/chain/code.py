"""Whether the code deployed at a manifest's addresses is this build's contracts.

A contract's runtime code is its artifact's ``deployedBytecode`` with the values of its immutables
(set by the constructor: the registry's address, the minting rule) written into slots the compiler
leaves as zeros. The code on chain matches when it has the same length and differs only where the
artifact has zero bytes; anything else (another contract, another compiler, a proxy) does not.
"""

from __future__ import annotations

from bcfl.chain.artifacts import load_artifact
from bcfl.chain.client import ChainClient
from bcfl.chain.manifest import DeploymentManifest


def runtime_matches(deployed: bytes, expected: bytes) -> bool:
    """Whether ``deployed`` is ``expected`` with only zero bytes (immutables' slots) filled in."""
    if len(deployed) != len(expected):
        return False
    return all(a == b or b == 0 for a, b in zip(deployed, expected, strict=True))


def code_mismatches(client: ChainClient, manifest: DeploymentManifest) -> list[str]:
    """The manifest's contracts whose code on chain is not this build's (empty when all match)."""
    wrong = []
    for name, record in manifest.contracts.items():
        code = client.retrying("eth_getCode", lambda a=record.address: client.w3.eth.get_code(a))  # type: ignore[misc]
        expected = bytes.fromhex(load_artifact(name)["deployedBytecode"].removeprefix("0x"))
        if not runtime_matches(bytes(code), expected):
            wrong.append(name)
    return wrong
