"""The hospital node's one base exception."""

from __future__ import annotations


class HospitalNodeError(Exception):
    """Base of every error the hospital node raises on purpose."""


class DataValidationError(HospitalNodeError):
    """The hospital's data does not satisfy the consortium's schema; ``problems`` lists why.

    Messages name columns and row numbers only, never values, so no patient data reaches a log.
    """

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        listed = "\n".join(f"  - {problem}" for problem in problems)
        super().__init__(f"{source} cannot be used for training:\n{listed}")
