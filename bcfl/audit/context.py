"""What one audit works over: the source, the history its events make, and the optional model
store; the costly findings (signatures) are computed once and kept."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from bcfl.audit.history import History
from bcfl.audit.signatures import SignatureFinding, find_signatures
from bcfl.audit.source import AuditSource
from bcfl.models.store import ModelStore


class AuditError(ValueError):
    """Bad input to an audit (an unknown round or member, a file that is not a model), in one line."""


@dataclass
class AuditContext:
    source: AuditSource
    history: History
    store: ModelStore | None = None
    #: Signature findings of an earlier context over the same chain, to reuse (see find_signatures).
    known_signatures: Mapping[tuple[str, int], SignatureFinding] | None = None
    _signatures: dict[tuple[str, int], SignatureFinding] | None = field(default=None, repr=False)

    @classmethod
    def load(
        cls,
        source: AuditSource,
        store: ModelStore | None = None,
        known_signatures: Mapping[tuple[str, int], SignatureFinding] | None = None,
    ) -> AuditContext:
        return cls(source, History.of(source.events()), store, known_signatures)

    def signatures(self) -> dict[tuple[str, int], SignatureFinding]:
        """A finding for every registered update, by (transaction hash, log index)."""
        if self._signatures is None:
            self._signatures = find_signatures(self.source, self.history, self.known_signatures)
        return self._signatures
