"""The ``bcfl`` commands' settings: one name (``BCFL_*``) and one default per setting.

Typer options take their environment variable and default from here (:func:`envvar`, ``DEFAULTS``);
the same names are those the coordinator reads (coordinator/settings.py) and docker-compose.yml sets.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from bcfl import defaults
from bcfl.chain.keystore import PASSWORD_ENV

ENV_PREFIX = "BCFL_"


class CliSettings(BaseSettings):
    """What every command may read from the environment."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, frozen=True)

    #: JSON-RPC URL of the chain.
    rpc_url: str = defaults.RPC_URL
    #: The deployment manifest written by ``bcfl chain deploy`` (no default: every command names it).
    manifest: Path | None = None
    #: The audit's event index: a SQLite file path, or a database URL (``postgresql://…``) to share one.
    audit_index: str = defaults.AUDIT_INDEX
    #: The SuperLink's address for ``flwr run`` (Flower 1.41 serves all its APIs on this one port).
    superlink: str = defaults.SUPERLINK
    #: The keystore password when no ``--password-file`` is given (read by bcfl.chain.keystore).
    keystore_password: str | None = Field(default=None, validation_alias=PASSWORD_ENV, repr=False)


#: The defaults, without reading the environment (Typer reads the variables itself).
DEFAULTS = CliSettings.model_construct()


def envvar(field: str) -> str:
    """The environment variable of a setting, e.g. ``rpc_url`` -> ``BCFL_RPC_URL``."""
    if field not in CliSettings.model_fields:
        raise KeyError(field)
    alias = CliSettings.model_fields[field].validation_alias
    return alias if isinstance(alias, str) else ENV_PREFIX + field.upper()
