"""The deployment manifest: chain id, contract addresses, deployment block and ABI hashes.

Every component finds the consortium through this one file.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from bcfl.chain.artifacts import abi_hash
from bcfl.chain.exceptions import ManifestError
from bcfl.chain.privacy import NOT_PRIVATE, PrivacyBudget

#: 2: the parameters gained ``exclusion_threshold`` (the ReputationLedger's third parameter).
#: 3: the admin transfer delay and the minting rule (fewest participants, window, limit).
#: 4: the RoundLedger's privacy budget (ε and δ, in the ledger's fixed-point units).
SCHEMA_VERSION = 4


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
    exclusion_threshold: int = Field(
        ge=0, le=10_000, description="reputation below which a member's updates are not aggregated (bps)"
    )
    token_name: str
    token_symbol: str
    admin_delay_s: int = Field(ge=0, lt=2**48, description="seconds before a new admin may accept the role")
    min_participants: int = Field(ge=1, description="fewest participants a paid round needs")
    mint_window_blocks: int = Field(ge=1, description="blocks in one minting window")
    mint_limit: int = Field(ge=1, description="most tokens minted in one window")
    privacy_epsilon: int = Field(
        ge=0,
        le=NOT_PRIVATE,
        description="each member's cumulative ε per lineage, in 1e-6 units (NOT_PRIVATE: no bound)",
    )
    privacy_delta: int = Field(ge=0, le=NOT_PRIVATE, description="each update's δ at most, in 1e-18 units")

    @property
    def privacy_budget(self) -> PrivacyBudget:
        """The privacy budget the RoundLedger was deployed with."""
        return PrivacyBudget(self.privacy_epsilon, self.privacy_delta)

    @model_validator(mode="after")
    def _new_members_start_included(self) -> DeploymentParameters:
        if self.initial_reputation < self.exclusion_threshold:
            raise ValueError(
                f"initial_reputation ({self.initial_reputation}) must be at least exclusion_threshold "
                f"({self.exclusion_threshold}), or new members would start excluded"
            )
        return self


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
        except UnicodeDecodeError:
            raise ManifestError(
                f"deployment manifest {path} is not a JSON text file: give the one `bcfl chain deploy` wrote"
            ) from None
        # The schema version first, so that a manifest of an older deployment is named as such
        # rather than as malformed: its contracts differ too, so it has to be redeployed.
        try:
            version = json.loads(text).get("schema_version", SCHEMA_VERSION)
        except (ValueError, AttributeError):
            version = SCHEMA_VERSION  # reported as malformed below
        if version != SCHEMA_VERSION:
            raise ManifestError(
                f"manifest {path} has schema {version}, expected {SCHEMA_VERSION}: it describes a "
                "deployment of older contracts; deploy again (bcfl chain deploy) to get a current one"
            )
        try:
            return cls.model_validate_json(text)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(map(str, e['loc'])) or 'file'}: {e['msg']}" for e in exc.errors()[:3]
            )
            raise ManifestError(f"deployment manifest {path} is malformed: {problems}") from exc

    def stale_abis(self) -> list[str]:
        """Contracts whose ABI hash differs from this build's artifacts."""
        return [name for name, rec in self.contracts.items() if rec.abi_hash != abi_hash(name)]
