"""The hospital node's one base exception; data errors come from the shared task's LearningError."""

from __future__ import annotations


class HospitalNodeError(Exception):
    """Base of every error the hospital node raises on purpose."""
