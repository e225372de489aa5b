"""The deployment manifest: chain id, contract addresses, deployment block and ABI hashes.

Every component finds the consortium through this one file.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bcfl.chain.artifacts import abi_hash
from bcfl.chain.exceptions import ManifestError

SCHEMA_VERSION = 1


class ContractRecord(BaseModel):
    """One deployed contract."""

    model_config = ConfigDict(frozen=True)

    address: str
    abi_hash: str
    tx_hash: str


class DeploymentParameters(BaseModel):
    """Settings the contracts were deployed with."""

    model_config = ConfigDict(frozen=True)

    round_budget: int = Field(ge=0, description="reward tokens (base units) paid at most per round")
    initial_reputation: int = Field(ge=0, le=10_000, description="reputation of a new member (bps)")
    smoothing: int = Field(ge=1, le=10_000, description="weight of a new score in the reputation EMA (bps)")
    token_name: str
    token_symbol: str


class DeploymentManifest(BaseModel):
    """Where the consortium lives on chain."""

    model_config = ConfigDict(frozen=True)

    schema_version: int = SCHEMA_VERSION
    chain_id: int
    deployment_block: int
    deployer: str
    admin: str
    coordinator: str | None
    solc_version: str
    parameters: DeploymentParameters
    contracts: dict[str, ContractRecord]

    def address(self, name: str) -> str:
        """Address of contract ``name``."""
        try:
            return self.contracts[name].address
        except KeyError:
            raise ManifestError(f"the manifest lists no contract {name!r}") from None

    def save(self, path: Path) -> None:
        """Write the manifest as JSON."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.model_dump_json(indent=2) + "\n")

    @classmethod
    def load(cls, path: Path) -> DeploymentManifest:
        """Read a manifest, with a clear error for a missing or malformed file."""
        try:
            text = path.read_text()
        except OSError as exc:
            raise ManifestError(f"cannot read deployment manifest {path}: {exc.strerror}") from exc
        try:
            manifest = cls.model_validate_json(text)
        except ValidationError as exc:
            raise ManifestError(f"deployment manifest {path} is malformed: {exc}") from exc
        if manifest.schema_version != SCHEMA_VERSION:
            raise ManifestError(
                f"manifest {path} has schema {manifest.schema_version}, expected {SCHEMA_VERSION}"
            )
        return manifest

    def stale_abis(self) -> list[str]:
        """Contracts whose ABI hash differs from this build's artifacts."""
        return [name for name, rec in self.contracts.items() if rec.abi_hash != abi_hash(name)]
