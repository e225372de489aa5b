"""A hospital node's settings: the one definition of its Flower node config (``--node-config``).

The launcher and the compose file render it with :meth:`NodeSettings.node_config`; the ClientApp
parses it back with :func:`parse_node_config`. Keys are kebab-case, as in Flower's examples.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from hospital_node.errors import HospitalNodeError


class NodeSettings(BaseModel):
    """Where a hospital's data, schema, key and chain are. Unknown keys (test-only switches such as
    ``test-forge-signature``) are kept and passed through to the ClientApp."""

    model_config = ConfigDict(frozen=True, extra="allow", populate_by_name=True)

    data_path: Path = Field(alias="data-path")
    schema_path: Path = Field(alias="schema-path")
    keystore: Path
    #: The keystore password's file (else $BCFL_KEYSTORE_PASSWORD).
    password_file: Path | None = Field(default=None, alias="password-file")
    rpc_url: str = Field(alias="rpc-url")
    manifest: Path
    #: Seed of the local train/test split (0 when unset).
    split_seed: int | None = Field(default=None, alias="split-seed")
    #: Where the node keeps the signed proof of every update it sends (else ``proofs`` beside the
    #: keystore, in the hospital's own state folder).
    proofs_dir: Path | None = Field(default=None, alias="proofs-dir")

    @field_validator("password_file", "split_seed", "proofs_dir", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if value == "" else value

    def proofs_folder(self) -> Path:
        """The folder of the node's update proofs (``bcfl update register --proof`` reads them)."""
        return self.proofs_dir or self.keystore.parent / "proofs"

    def node_config(self) -> dict[str, str]:
        """The node config as ``key -> value`` strings, kebab-case keys, unset options left out."""
        values = self.model_dump(by_alias=True, exclude_none=True)
        return {key: str(value) for key, value in values.items()}

    def node_config_arg(self) -> str:
        """The ``--node-config`` value: space-separated ``key="value"`` pairs."""
        return node_config_arg(self.node_config())


#: The keys a node cannot start without.
REQUIRED = tuple(
    field.alias or name for name, field in NodeSettings.model_fields.items() if field.is_required()
)


def parse_node_config(node_config: Mapping[str, object]) -> NodeSettings:
    """The node's settings from Flower's node config; a one-line error names the first bad key."""
    for key in REQUIRED:
        value = node_config.get(key)
        if not isinstance(value, str) or not value:
            raise HospitalNodeError(
                f"node config {key!r} is missing (set it with flower-supernode --node-config)"
            )
    try:
        return NodeSettings.model_validate(dict(node_config))
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(part) for part in first["loc"])
        raise HospitalNodeError(
            f"node config {key!r} is invalid: {first['msg']} (fix it in flower-supernode --node-config)"
        ) from None


def node_config_arg(node_config: Mapping[str, str]) -> str:
    """A ``--node-config`` value: space-separated ``key="value"`` pairs."""
    return " ".join(f'{key}="{value}"' for key, value in node_config.items())
