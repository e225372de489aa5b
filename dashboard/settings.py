"""The dashboard's settings: one pydantic-settings class, read from ``BCFL_*`` variables.

The chain, the manifest and the event index have the names every ``bcfl`` command and the
coordinator use (``BCFL_RPC_URL``, ``BCFL_MANIFEST``, ``BCFL_AUDIT_INDEX``); the dashboard's own
settings are ``BCFL_DASHBOARD_*``.
"""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bcfl import defaults

#: Where the dashboard listens unless told otherwise: this machine only.
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8600
#: ``host:port`` or ``http(s)://host:port`` (a host name, an IPv4 address or a bracketed IPv6 one).
SUPERLINK = re.compile(
    r"(?:https?://)?(?:[A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\]):[0-9]{1,5}/?", re.ASCII
)


class DashboardSettings(BaseSettings):
    """Where the ledger is, and how the dashboard serves it. It holds no key: it only reads."""

    model_config = SettingsConfigDict(env_prefix="BCFL_DASHBOARD_", frozen=True)

    #: JSON-RPC URL of the chain.
    rpc_url: str = Field(default=defaults.RPC_URL, validation_alias="BCFL_RPC_URL")
    #: The deployment manifest (``bcfl chain deploy`` wrote it).
    manifest: Path = Field(validation_alias="BCFL_MANIFEST")
    #: The event index the dashboard keeps up to date and reads: a SQLite file or a ``postgresql://`` URL.
    audit_index: str = Field(default=defaults.AUDIT_INDEX, validation_alias="BCFL_AUDIT_INDEX")
    #: The run's model store (read only): per-hospital evaluations and the store checks need it.
    store: Path | None = None
    #: The SuperLink's address, to ask which SuperNodes are online (none: their status is unknown):
    #: ``host:port`` (HTTPS with root certificates, else plain HTTP as ``bcfl demo --insecure``'s
    #: SuperLink) or an ``http(s)://`` URL.
    superlink: str | None = Field(default=None, validation_alias="BCFL_SUPERLINK")
    #: The CA certificate (PEM) the SuperLink's TLS certificate is checked against (TLS if given).
    superlink_root_certificates: Path | None = None
    #: Address and port to listen on (localhost unless configured).
    host: str = DEFAULT_HOST
    port: int = Field(default=DEFAULT_PORT, ge=1, le=65535)
    #: Seconds between two syncs of the index with the chain (and retries while it is unreachable).
    poll_s: float = Field(default=1.0, gt=0, le=60)

    @field_validator("superlink")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        if not value:
            return None
        if not SUPERLINK.fullmatch(value):
            raise ValueError(
                f"{value[:80]!r} is not a SuperLink address: give host:port or http(s)://host:port"
            )
        return value

    @field_validator("superlink_root_certificates")
    @classmethod
    def _certificates(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_file():
            raise ValueError(f"no CA certificate file at {value}")
        return value
