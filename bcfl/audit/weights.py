"""A round's members' weights (``examples x score x reputation`` of those in good standing), from
its events alone: what the payouts and the aggregation must follow."""

from __future__ import annotations

from bcfl.audit.history import History, position
from coordinator.incentives import good_standing_weights


def round_weights(history: History, number: int, *, participants_only: bool = True) -> dict[int, int]:
    """The good-standing weights of round ``number``'s participants (or, not ``participants_only``,
    of every scored member in good standing), from its events alone."""
    chain_round = history.rounds[number]
    examples = {int(e.args["memberId"]): int(e.args["numExamples"]) for e in chain_round.updates}
    scores = {int(e.args["memberId"]): e for e in chain_round.scores if int(e.args["memberId"]) in examples}
    if not scores:
        return {}
    threshold = int(history.parameters_at(position(next(iter(scores.values()))))["exclusionThreshold"])
    weights = good_standing_weights(
        {m: examples[m] for m in scores},
        {m: int(e.args["contribution"]) for m, e in scores.items()},
        {m: int(e.args["previous"]) for m, e in scores.items()},
        {m: int(e.args["current"]) for m, e in scores.items()},
        threshold,
    )
    if not participants_only:
        return weights
    return {m: w for m, w in weights.items() if m in chain_round.weights}
