"""The model a run starts from when the consortium has no lineage to continue: the schema's model,
initialised from the run's seed. The ServerApp builds it, and the demo starts the consortium's first
lineage from its hash, so both take it from here."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np

from bcfl.learning.data.loader import load_schema, shared_schema_path
from bcfl.learning.task import build_model, get_arrays


def fresh_model(schema_name: str, seed: int) -> OrderedDict[str, np.ndarray]:
    """The arrays of a fresh model for the shipped schema ``schema_name`` and ``seed``."""
    schema = load_schema(shared_schema_path(schema_name))
    return get_arrays(build_model(schema.model_spec(), seed=seed))
