"""A hospital's node folder and its config file (``node.json``), written atomically.

``bcfl node init DIR`` makes the folder: the encrypted keystore, the Flower node key pair, a copy of
the deployment manifest, the consortium CA (pinned through the chain, bcfl node's ``pinning``) and
``node.json``, written last, so a folder with a ``node.json`` is a complete one. Every later command
(``join``, ``doctor``, ``start``, ``stop``) takes only the folder.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from bcfl.atomic import replace_atomically
from bcfl.flower.certs import CA_CERT
from bcfl.flower.node_keys import NODE_KEY
from hospital_node.errors import HospitalNodeError

CONFIG = "node.json"
KEYSTORE = "keystore.json"
MANIFEST = "deployment.json"
LOGS = "logs"
#: The secret the SuperNode and its SuperExec share (bcfl.demo.topology.NODE_SECRET's name).
SECRET = "superexec.secret"


class NodeConfigError(HospitalNodeError):
    """A node folder is missing, incomplete or its config cannot be read (the message says what to do)."""


class NodeConfig(BaseModel):
    """What ``node.json`` holds: where the chain, the SuperLink and the data are."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    rpc_url: str
    superlink: str
    data: Path
    schema_path: Path
    #: The keystore password's file, if init was given one (else $BCFL_KEYSTORE_PASSWORD or a prompt).
    password_file: Path | None = None


class NodeFolder:
    """The files of one node folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder.absolute()

    @property
    def config_path(self) -> Path:
        return self.folder / CONFIG

    @property
    def keystore(self) -> Path:
        return self.folder / KEYSTORE

    @property
    def manifest(self) -> Path:
        return self.folder / MANIFEST

    @property
    def node_key(self) -> Path:
        return self.folder / NODE_KEY

    @property
    def ca_cert(self) -> Path:
        return self.folder / CA_CERT

    @property
    def logs(self) -> Path:
        return self.folder / LOGS

    @property
    def secret(self) -> Path:
        return self.folder / SECRET

    def pid_file(self, process: str) -> Path:
        return self.folder / f"{process}.pid"

    def load(self) -> NodeConfig:
        """The folder's config; a one-line error says to run ``bcfl node init`` when it is not there."""
        try:
            text = self.config_path.read_text()
        except FileNotFoundError:
            raise NodeConfigError(
                f"{self.folder} is not a node folder (no {CONFIG}): "
                f"make it with `bcfl node init {self.folder} ...`"
            ) from None
        except OSError as exc:
            raise NodeConfigError(f"cannot read {self.config_path}: {exc.strerror}") from None
        try:
            return NodeConfig.model_validate(json.loads(text))
        except (ValueError, ValidationError) as exc:
            reason = str(exc).splitlines()[0]
            raise NodeConfigError(
                f"{self.config_path} is damaged ({reason}): run `bcfl node init` on the folder again"
            ) from None

    def save(self, config: NodeConfig) -> None:
        """Write ``node.json`` atomically."""
        write_atomic(self.config_path, (config.model_dump_json(indent=2) + "\n").encode())


def write_atomic(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Write ``path`` whole or not at all (:func:`bcfl.atomic.replace_atomically`), mode ``mode``."""
    replace_atomically(path, data, mode)
