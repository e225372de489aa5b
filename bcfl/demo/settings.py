"""The demo consortium's settings, from the repository's ``.env`` (which docker compose reads too).

Every value is defined in ``.env`` alone; the environment overrides it (``BCFL_ROUNDS=5``).
"""

from __future__ import annotations

from pydantic import ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from bcfl.chain.exceptions import ChainError
from bcfl.paths import REPO_ROOT

#: The settings file shared by docker-compose.yml and the launcher.
ENV_FILE = REPO_ROOT / ".env"


class DemoSettingsError(ChainError):
    """The demo's settings file is missing or holds a bad value."""


class DemoSettings(BaseSettings):
    """Ports, rounds, the consortium and its hospitals, and the demo roles' PUBLIC dev keys."""

    model_config = SettingsConfigDict(env_prefix="BCFL_", env_file=ENV_FILE, extra="ignore", frozen=True)

    #: The chain's JSON-RPC port (0: any free port, launcher only).
    chain_port: int
    #: The SuperLink's one port (0: any free port, launcher only).
    superlink_port: int
    #: The dashboard's port on the host (0: any free port, launcher only).
    dashboard_port: int
    rounds: int
    consortium: str
    #: Comma-separated hospital names.
    hospitals: str
    #: Anvil dev-account indices of the admin and the coordinator (PUBLIC keys: demo only).
    demo_admin_key: int
    demo_coordinator_key: int

    @property
    def hospital_names(self) -> list[str]:
        """The hospitals, in order."""
        return [name.strip() for name in self.hospitals.split(",") if name.strip()]


def load_demo_settings() -> DemoSettings:
    """The demo settings, with a one-line error naming what is missing or wrong."""
    try:
        return DemoSettings()  # type: ignore[call-arg]
    except ValidationError as exc:
        first = exc.errors()[0]
        name = "BCFL_" + "_".join(str(part) for part in first["loc"]).upper()
        raise DemoSettingsError(f"{name}: {first['msg']} (set it in {ENV_FILE} or the environment)") from None
