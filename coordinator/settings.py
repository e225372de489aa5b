"""The coordinator's settings: BCFL_RPC_URL and BCFL_MANIFEST (the names every bcfl command reads),
and its secrets and run folder from BCFL_COORDINATOR_* variables, which no hospital process gets."""

from __future__ import annotations

from pathlib import Path

from eth_account.signers.local import LocalAccount
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from bcfl.chain.keystore import load_keystore, read_password
from coordinator.errors import CoordinatorError

#: The coordinator's keystore password when no password file is given.
PASSWORD_ENV = "BCFL_COORDINATOR_PASSWORD"


class CoordinatorSettings(BaseSettings):
    """Where the chain and the deployment are, the coordinator's key, and where to keep the run."""

    model_config = SettingsConfigDict(env_prefix="BCFL_COORDINATOR_")

    rpc_url: str = Field(validation_alias="BCFL_RPC_URL")
    manifest: Path = Field(validation_alias="BCFL_MANIFEST")
    keystore: Path
    password_file: Path | None = None
    run_dir: Path

    def account(self) -> LocalAccount:
        """The coordinator's signing key, unlocked from its keystore with the password from
        ``password_file``, else from ``$BCFL_COORDINATOR_PASSWORD`` (never a hospital's variable)."""
        return load_keystore(self.keystore, read_password(self.password_file, PASSWORD_ENV))


def load_settings() -> CoordinatorSettings:
    """Settings from the environment, with a clear error naming what is missing."""
    try:
        return CoordinatorSettings()  # type: ignore[call-arg]
    except ValueError as exc:
        raise CoordinatorError(
            f"coordinator settings incomplete (BCFL_RPC_URL, BCFL_MANIFEST, BCFL_COORDINATOR_*): {exc}"
        ) from exc
