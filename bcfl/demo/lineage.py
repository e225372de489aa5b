"""The demo consortium's model lineage: the first run starts one, through the approved path (the
admin's ``startLineage``, with its reason on chain), from the fresh model the ServerApp builds; every
later run on the same chain continues it from the previous round's aggregate."""

from __future__ import annotations

import logging
import tomllib

from eth_account.signers.local import LocalAccount

from bcfl.chain.consortium import Consortium
from bcfl.learning.initial import fresh_model
from bcfl.models.canonical import model_hash
from bcfl.paths import REPO_ROOT

logger = logging.getLogger(__name__)


def app_default(key: str) -> str | int | float | bool:
    """A run setting's default, as the Flower App declares it in ``[tool.flwr.app.config]``."""
    with (REPO_ROOT / "pyproject.toml").open("rb") as file:
        value: str | int | float | bool = tomllib.load(file)["tool"]["flwr"]["app"]["config"][key]
    return value


def start_demo_lineage(consortium: Consortium, admin: LocalAccount, schema_name: str) -> bytes | None:
    """Start the consortium's first lineage from the demo's fresh model (the admin approves it); the
    model hash, or None when a lineage exists already (a later run continues it)."""
    if consortium.ledger.lineage_head().lineage != 0:
        return None
    seed = int(app_default("seed"))
    start = model_hash(fresh_model(schema_name, seed))  # the model the ServerApp starts from
    consortium.ledger.start_lineage(admin, start, f"demo: fresh {schema_name} model, seed {seed}")
    logger.info("started the consortium's lineage from model 0x%s", start.hex())
    return start
