"""Schemathesis over the dashboard's OpenAPI schema, against the app over a real run on a real Anvil:
generated requests, valid and not, never get a 5xx, and every answer conforms to the schema (status
code, content type, headers, body), with all of schemathesis' checks. The live feed never ends, so
its own tests (test_stream.py) cover it.

(schemathesis.pytest.from_fixture does not run under pytest 9, so each operation's cases come from
its Hypothesis strategy, the way schemathesis documents for tests outside its pytest plugin.)
"""

from __future__ import annotations

from typing import Any

import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis import Case, GenerationMode
from schemathesis.config import SchemathesisConfig
from schemathesis.core.result import Ok
from schemathesis.schemas import APIOperation

from tests.dashboard.conftest import watcher

#: Cases per operation and mode: enough to reach every parameter's edges, short enough for CI.
EXAMPLES = 40
#: Schema-valid requests may still be refused with a 400 the schema cannot express (events from a
#: block after their to_block, both cursors at once, a contract the manifest lacks, an uploaded file
#: that is no model): only routes that document a 400 answer one (the status code check).
CONFIG = SchemathesisConfig.from_dict(
    {"checks": {"positive_data_acceptance": {"expected-statuses": ["2xx", "400", "404"]}}}
)


def check_operation(operation: APIOperation[Any, Any, Any, Any], mode: GenerationMode) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    def check(case: Case[Any]) -> None:
        case.call_and_validate()

    check()


def test_no_request_gets_a_5xx_and_every_answer_matches_the_schema(api: TestClient) -> None:
    assert watcher(api).snapshot is not None
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", api.app, config=CONFIG).exclude(
        path="/api/v1/stream"
    )
    operations = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), f"the schema has an operation schemathesis cannot read: {result}"
        operations.append(result.ok())
    assert {op.label for op in operations} >= {
        "GET /api/v1/status",
        "GET /api/v1/events",
        "GET /api/v1/rounds/{round_number}",
        "GET /api/v1/models/{model_hash}",
        "POST /api/v1/models/verify",
        "GET /readyz",
    }
    failed = []
    for operation in operations:
        has_input = any(True for _ in operation.iter_parameters()) or bool(operation.body)
        modes = (
            (GenerationMode.POSITIVE, GenerationMode.NEGATIVE) if has_input else (GenerationMode.POSITIVE,)
        )
        for mode in modes:
            try:
                check_operation(operation, mode)
            except Exception as exc:  # collected, so that one run names every failure
                failed.append(f"{operation.label} ({mode.value}): {exc}")
    assert not failed, "\n\n".join(failed)
