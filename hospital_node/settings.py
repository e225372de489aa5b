"""A hospital node's settings: the one definition of its Flower node config (``--node-config``).

The launcher and the compose file render it with :meth:`NodeSettings.node_config` and give the same
value to the hospital's SuperNode and to its SuperExec: the ClientApp parses it back with
:func:`parse_node_config`, the SuperExec reads only the chain's keys (:func:`parse_chain_settings`).
Keys are kebab-case, as in Flower's examples.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from hospital_node.errors import HospitalNodeError

#: PyTorch threads per ClientApp unless ``torch-threads`` says otherwise: several hospitals sharing a
#: few cores train fastest with one thread each (docs/benchmarks.md, client start).
DEFAULT_TORCH_THREADS = 1
#: How often a SuperExec (the coordinator's, and each hospital's) asks its SuperLink or SuperNode for
#: work: Flower's default is 1 s, added to every message's latency. Set by the launcher, the compose
#: files and ``bcfl node start`` alike.
SUPEREXEC_POLL = {"FLWR_SUPEREXEC_TASK_POLL_INTERVAL": "0.2"}


class ChainSettings(BaseModel):
    """Where a hospital reaches the chain: what its SuperExec needs (from the same node config) to
    check each app against the consortium's approvals. Other keys are ignored."""

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    rpc_url: str = Field(alias="rpc-url")
    manifest: Path


class NodeSettings(ChainSettings):
    """Where a hospital's data, schema, signing agent and chain are. Unknown keys (test-only switches
    such as ``test-forge-signature``) are kept and passed through to the ClientApp; the keystore and
    its password are not node config: only the signing agent holds them (:data:`AGENT_ONLY`)."""

    model_config = ConfigDict(frozen=True, extra="allow", populate_by_name=True)

    data_path: Path = Field(alias="data-path")
    schema_path: Path = Field(alias="schema-path")
    #: The Unix socket of the hospital's signing agent (hospital_node.signer), which signs for it.
    signer_socket: Path = Field(alias="signer-socket")
    #: Where the node keeps the signed proof of every update it sends.
    proofs_dir: Path = Field(alias="proofs-dir")
    #: Seed of the local train/test split (0 when unset).
    split_seed: int | None = Field(default=None, alias="split-seed")
    #: Where the node keeps its prepared dataset (else ``cache`` beside the proofs folder).
    cache_dir: Path | None = Field(default=None, alias="cache-dir")
    #: Threads PyTorch trains and evaluates with in the ClientApp (else :data:`DEFAULT_TORCH_THREADS`).
    torch_threads: int | None = Field(default=None, ge=1, alias="torch-threads")

    @field_validator("split_seed", "cache_dir", "torch_threads", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if value == "" else value

    def proofs_folder(self) -> Path:
        """The folder of the node's update proofs (``bcfl update register --proof`` reads them)."""
        return self.proofs_dir

    def threads(self) -> int:
        """The ClientApp's PyTorch threads."""
        return self.torch_threads or DEFAULT_TORCH_THREADS

    def cache_folder(self) -> Path:
        """The folder of the node's prepared dataset (:mod:`bcfl.learning.data.cache`)."""
        return self.cache_dir or self.proofs_folder().parent / "cache"

    def node_config(self) -> dict[str, str]:
        """The node config as ``key -> value`` strings, kebab-case keys, unset options left out."""
        values = self.model_dump(by_alias=True, exclude_none=True)
        return {key: str(value) for key, value in values.items()}

    def node_config_arg(self) -> str:
        """The ``--node-config`` value: space-separated ``key="value"`` pairs."""
        return node_config_arg(self.node_config())


def _required(model: type[BaseModel]) -> tuple[str, ...]:
    return tuple(field.alias or name for name, field in model.model_fields.items() if field.is_required())


#: Keys that belong to the signing agent, never to the node config the ClientApp sees.
AGENT_ONLY = ("keystore", "password-file")
#: The keys a node cannot start without.
REQUIRED = _required(NodeSettings)
#: The keys a node's SuperExec cannot start without.
CHAIN_REQUIRED = _required(ChainSettings)
Settings = TypeVar("Settings", bound=ChainSettings)


def parse_node_config(node_config: Mapping[str, object]) -> NodeSettings:
    """The node's settings from Flower's node config; a one-line error names the first bad key."""
    for key in AGENT_ONLY:
        if key in node_config:
            raise HospitalNodeError(
                f"node config {key!r} is not a node setting: the key and its password belong to the "
                "hospital's signing agent (`bcfl node start` runs it); set 'signer-socket' instead"
            )
    return _parse(NodeSettings, REQUIRED, node_config)


def parse_chain_settings(node_config: Mapping[str, object]) -> ChainSettings:
    """The node's chain access from the same node config (its SuperExec reads only these keys)."""
    return _parse(ChainSettings, CHAIN_REQUIRED, node_config)


def _parse(model: type[Settings], required: tuple[str, ...], node_config: Mapping[str, object]) -> Settings:
    for key in required:
        value = node_config.get(key)
        if not isinstance(value, str) or not value:
            raise HospitalNodeError(f"node config {key!r} is missing (set it in the node's --node-config)")
    try:
        return model.model_validate(dict(node_config))
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(part) for part in first["loc"])
        raise HospitalNodeError(
            f"node config {key!r} is invalid: {first['msg']} (fix it in the node's --node-config)"
        ) from None


def node_config_arg(node_config: Mapping[str, str]) -> str:
    """A ``--node-config`` value: space-separated ``key="value"`` pairs."""
    return " ".join(f'{key}="{value}"' for key, value in node_config.items())
