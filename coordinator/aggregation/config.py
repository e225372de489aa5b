"""The aggregation rule a run uses, as a frozen value and as the plain JSON document that goes into
each round's config document (whose hash the round is opened with on chain)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from coordinator.errors import CoordinatorError

DEFAULT_AGGREGATION = "trimmed-mean"
AGGREGATIONS = (DEFAULT_AGGREGATION, "reputation", "fedavg", "krum", "multikrum", "median", "bulyan")
#: The arithmetic of :mod:`coordinator.aggregation.rules`; bumped whenever a rule's result changes.
VERSION = 1
_KEYS = ("rule", "num-malicious", "version")


def check_aggregation(method: str) -> str:
    """``method`` if it is one of :data:`AGGREGATIONS`, else a clear error listing them."""
    if method not in AGGREGATIONS:
        raise CoordinatorError(f"unknown aggregation {method!r}; choose one of {', '.join(AGGREGATIONS)}")
    return method


@dataclass(frozen=True)
class AggregationConfig:
    """A rule (run config ``aggregation``) and the attackers the robust rules expect (``num-malicious``).

    How many updates a rule trims or selects follows from these and the number of candidates, as
    :mod:`coordinator.aggregation` documents; nothing else enters the result.
    """

    rule: str = DEFAULT_AGGREGATION
    num_malicious: int = 1

    def __post_init__(self) -> None:
        check_aggregation(self.rule)
        if type(self.num_malicious) is not int or self.num_malicious < 0:
            raise CoordinatorError(f"num-malicious is {self.num_malicious!r}: set it to a whole number >= 0")

    def to_document(self) -> dict[str, Any]:
        """The plain, JSON-able form stored in the round's config document."""
        return {"rule": self.rule, "num-malicious": self.num_malicious, "version": VERSION}

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> AggregationConfig:
        """The config a document of :meth:`to_document` describes; a clear error for any other."""
        if sorted(document) != sorted(_KEYS):
            raise CoordinatorError(
                f"aggregation document has keys {sorted(document)}, expected {sorted(_KEYS)}"
            )
        if document["version"] != VERSION:
            raise CoordinatorError(
                f"aggregation document version {document['version']!r}: this code computes version "
                f"{VERSION}; recompute with the coordinator release that wrote it"
            )
        return cls(rule=document["rule"], num_malicious=document["num-malicious"])
