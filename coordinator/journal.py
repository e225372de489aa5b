"""The run's journal: what happened each round, written to ``<run-dir>/rounds.json`` as it happens."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any


class RunJournal:
    """An append-and-update list of round records, saved atomically after every change."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self.rounds: list[dict[str, Any]] = json.loads(path.read_text()) if path.exists() else []

    def round(self, chain_round: int) -> dict[str, Any]:
        """The record of ``chain_round`` (created empty if new)."""
        for existing in self.rounds:
            if existing["chain_round"] == chain_round:
                return existing
        record: dict[str, Any] = {"chain_round": chain_round, "timings_s": {}}
        self.rounds.append(record)
        return record

    def save(self) -> None:
        """Write the journal atomically."""
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, suffix=".tmp")
        with os.fdopen(fd, "w") as handle:
            json.dump(self.rounds, handle, indent=2)
        os.replace(tmp, self.path)


def hexed(value: bytes) -> str:
    """0x-hex of bytes, for the journal."""
    return "0x" + value.hex()
