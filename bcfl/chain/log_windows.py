"""How big a block window eth_getLogs is asked for, and how a node refuses one that is too big."""

from __future__ import annotations

#: Largest block span asked of the node in one eth_getLogs call.
DEFAULT_CHUNK = 10_000
#: How nodes and providers word a refusal of a too-large eth_getLogs range or result.
_RANGE_LIMIT_MARKERS = ("range", "too many", "limit", "exceed", "10000 results", "query returned more than")


def is_range_limit(message: str) -> bool:
    """Whether a node's error message refuses an eth_getLogs range or result as too large."""
    text = message.lower()
    return any(marker in text for marker in _RANGE_LIMIT_MARKERS)
