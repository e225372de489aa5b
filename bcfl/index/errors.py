"""The event index's one error, a :class:`ChainError` so every command reports it in one line."""

from __future__ import annotations

from bcfl.chain.exceptions import ChainError


class EventIndexError(ChainError):
    """The index cannot be opened, belongs to another deployment, or cannot follow the chain."""
