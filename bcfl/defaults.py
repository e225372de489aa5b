"""Defaults shared by several services' settings, defined once: each service's pydantic-settings
class (the ``bcfl`` commands', the dashboard's) takes its default from here, under the same
``BCFL_*`` name."""

from __future__ import annotations

#: JSON-RPC URL of the chain (``BCFL_RPC_URL``): the demo's Anvil on this machine.
RPC_URL = "http://127.0.0.1:8545"
#: The audit's event index (``BCFL_AUDIT_INDEX``): a SQLite file path, or a database URL.
AUDIT_INDEX = "bcfl-audit.sqlite"
#: The SuperLink's address (``BCFL_SUPERLINK``): Flower 1.41 serves all its APIs on this one port.
SUPERLINK = "127.0.0.1:9092"
