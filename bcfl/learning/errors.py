"""The learning task's errors: a hospital's data that the consortium's schema cannot train on."""

from __future__ import annotations


class LearningError(Exception):
    """Base of every error the shared task and data loaders raise on purpose."""


class DataValidationError(LearningError):
    """The hospital's data does not satisfy the consortium's schema; ``problems`` lists why.

    Messages name columns and row numbers only, never values, so no patient data reaches a log.
    """

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        listed = "\n".join(f"  - {problem}" for problem in problems)
        super().__init__(f"{source} cannot be used for training:\n{listed}")
