"""The run's journal: what happened each round, written to ``<run-dir>/rounds.json`` as it happens."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bcfl.atomic import replace_atomically
from coordinator.errors import CoordinatorError


class JournalWriteError(CoordinatorError):
    """The journal could not be saved (its message says why and what to do)."""


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
        """Write the journal atomically: a failed write (a full disk) leaves the previous journal whole
        and says so in one line."""
        try:
            replace_atomically(self.path, json.dumps(self.rounds, indent=2).encode())
        except OSError as exc:
            raise JournalWriteError(
                f"cannot save the run's journal {self.path}: {exc.strerror or exc}: free space there and "
                "start the coordinator again (the journal keeps its last state; the chain holds the rounds)"
            ) from None


def hexed(value: bytes) -> str:
    """0x-hex of bytes, for the journal."""
    return "0x" + value.hex()
