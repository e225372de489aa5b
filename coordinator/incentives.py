"""Split a round's reward budget: in proportion to each aggregated member's weight, never above it.

A member's weight is ``examples x score x reputation`` (the score and the reputation after this
round's score, both in basis points): the same weight reputation-weighted aggregation gives its
update. Members that did not submit, or were excluded, have no weight and get nothing.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import TypeVar

Member = TypeVar("Member", bound=Hashable)


def member_weight(examples: int, score_bps: int, reputation_bps: int) -> int:
    """The integer weight both the payout and reputation-weighted aggregation use."""
    return examples * score_bps * reputation_bps


def good_standing_weights(
    examples: Mapping[Member, int],
    scores: Mapping[Member, int],
    before: Mapping[Member, int],
    after: Mapping[Member, int],
    threshold: int,
) -> dict[Member, int]:
    """:func:`member_weight` of each member whose reputation before the round (``before``) was at
    least ``threshold``: the members aggregated and paid. Excluded members get no entry."""
    return {m: member_weight(examples[m], scores[m], after[m]) for m in scores if before[m] >= threshold}


def split_budget(budget: int, weights: Mapping[Member, int]) -> dict[Member, int]:
    """``budget * w_i // sum(w)`` for each member (rounded down, so the sum never exceeds ``budget``)."""
    if budget < 0 or any(w < 0 for w in weights.values()):
        raise ValueError("budget and weights must be non-negative")
    total = sum(weights.values())
    if total == 0:
        return dict.fromkeys(weights, 0)
    return {member: budget * weight // total for member, weight in weights.items()}
