"""One indexed contract event, as the index stores it and every reader (audit, dashboard) sees it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

#: ``IndexedEvent.contract`` of a log whose topic is one of the consortium's events but whose
#: address is not in the manifest (an impostor or another deployment's contract).
OUTSIDE_MANIFEST = ""


@dataclass(frozen=True)
class IndexedEvent:
    """A decoded contract event. ``args`` is JSON-ready: bytes as ``0x`` hex, addresses
    checksummed, integers as ``int``, arrays as lists. Ordered by ``(block_number, log_index)``."""

    contract: str
    address: str
    name: str
    args: Mapping[str, Any]
    block_number: int
    block_hash: str
    timestamp: int
    tx_hash: str
    log_index: int

    @property
    def in_manifest(self) -> bool:
        return self.contract != OUTSIDE_MANIFEST
