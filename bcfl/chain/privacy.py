"""The RoundLedger's fixed-point privacy units: each update's ε and δ, and the consortium's budget.

ε counts in millionths and δ in 1e-18ths, as unsigned 64-bit integers; ``NOT_PRIVATE`` (the largest) is
the ε of an update trained without differential privacy, and a budget's "no bound". A hospital rounds
the ε it spent *up* to the unit, so the sum the ledger keeps is never below what its accountant spent.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

#: ``RoundLedger.EPSILON_UNIT``: an ε of 1 is 1,000,000 units.
EPSILON_UNIT = 10**6
#: ``RoundLedger.DELTA_UNIT``: a δ of 1 is 10**18 units.
DELTA_UNIT = 10**18
#: ``RoundLedger.NOT_PRIVATE``: no differential privacy (an update's ε) or no bound (a budget's).
NOT_PRIVATE = 2**64 - 1
#: The δ a budget holds each update to unless told otherwise (``bcfl chain deploy --privacy-delta``).
DEFAULT_BUDGET_DELTA = 1e-5


def epsilon_units(epsilon: float) -> int:
    """``epsilon`` in the ledger's units, rounded up; ``NOT_PRIVATE`` for an infinite or too large ε.
    ValueError for a negative or NaN ε."""
    if math.isnan(epsilon) or epsilon < 0:
        raise ValueError(f"ε must be a non-negative number, got {epsilon}")
    if math.isinf(epsilon) or epsilon * EPSILON_UNIT >= NOT_PRIVATE:
        return NOT_PRIVATE
    return math.ceil(round(epsilon * EPSILON_UNIT, 6))


def delta_units(delta: float) -> int:
    """``delta`` (0 to 1) in the ledger's units, rounded up; ValueError outside [0, 1]."""
    if math.isnan(delta) or not 0 <= delta <= 1:
        raise ValueError(f"δ must lie in [0, 1], got {delta}")
    return math.ceil(round(delta * DELTA_UNIT, 6))


def epsilon_value(units: int) -> float:
    """The ε ``units`` stand for (``math.inf`` for ``NOT_PRIVATE``)."""
    return math.inf if units >= NOT_PRIVATE else units / EPSILON_UNIT


def delta_value(units: int) -> float:
    """The δ ``units`` stand for."""
    return units / DELTA_UNIT


@dataclass(frozen=True)
class PrivacyBudget:
    """What each member may spend per lineage, in the ledger's units: cumulative ε at most ``epsilon``
    (``NOT_PRIVATE``: no bound) and each update's δ at most ``delta``."""

    epsilon: int
    delta: int

    @classmethod
    def of(cls, epsilon: float, delta: float) -> PrivacyBudget:
        """The budget of ``epsilon`` and ``delta`` as numbers (``math.inf``: no bound on ε)."""
        return cls(epsilon_units(epsilon), delta_units(delta) if delta < 1 else NOT_PRIVATE)

    @property
    def bounded(self) -> bool:
        """Whether the budget bounds ε."""
        return self.epsilon < NOT_PRIVATE

    def as_tuple(self) -> tuple[int, int]:
        """The ``PrivacyBudget`` struct the RoundLedger takes."""
        return (self.epsilon, self.delta)

    def describe(self) -> str:
        """ "ε ≤ 4 at δ ≤ 1e-05", or "no bound"."""
        if not self.bounded:
            return "no bound"
        return f"ε ≤ {epsilon_value(self.epsilon):g} at δ ≤ {delta_value(self.delta):.0e}"


#: A budget that bounds nothing (the deployment default while the consortium sets none).
NO_BUDGET = PrivacyBudget(NOT_PRIVATE, NOT_PRIVATE)
