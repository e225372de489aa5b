"""How the API says no: every error is ``{"detail": "<one line>"}``, with a 4xx for a bad request and
a 503 while the ledger or the index cannot be read, never a traceback. A request FastAPI refuses
(a parameter out of range, a missing file) gets the first problem in one line, not a list."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from pydantic import BaseModel
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException

from bcfl.index.errors import EventIndexError
from bcfl.text import printable

logger = logging.getLogger(__name__)

#: Where the JSON API lives (errors elsewhere, the page's files, stay plain text).
API_PREFIX = "/api/v1"


class Problem(BaseModel):
    """Why the request failed, in one line."""

    detail: str


#: A route's documented answers beside its success, as FastAPI takes them.
Responses = dict[int | str, dict[str, Any]]


def problem(description: str) -> dict[str, Any]:
    """An OpenAPI ``responses`` entry for an error status."""
    return {"model": Problem, "description": description}


UNAVAILABLE: Responses = {503: problem("No view of the ledger yet, or the event index cannot be read")}


def _where(loc: tuple[Any, ...]) -> str:
    kind, *rest = loc or ("request",)
    name = ".".join(str(part) for part in rest)
    return f"{kind} parameter {name}" if name else str(kind)


def one_line(exc: RequestValidationError) -> str:
    """The first thing wrong with a request, e.g. ``query parameter limit: Input should be less than
    or equal to 500`` (the value itself is not echoed)."""
    errors = exc.errors()
    if not errors:
        return "the request is malformed"
    first = errors[0]
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return printable(f"{_where(tuple(first.get('loc', ())))}: {first.get('msg', 'invalid')}{more}", 300)


def _is_api(request: Request) -> bool:
    path = request.url.path
    return path == API_PREFIX or path.startswith(API_PREFIX + "/")


async def _validation(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    return JSONResponse({"detail": one_line(exc)}, status_code=422)


async def _http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
    if exc.status_code == 404 and _is_api(request) and detail == "Not Found":
        detail = f"no API route {printable(request.url.path, 120)}: see {API_PREFIX}/openapi.json"
    headers = dict(exc.headers or {})
    if not _is_api(request) and request.url.path not in ("/healthz", "/readyz"):
        return PlainTextResponse(detail, status_code=exc.status_code, headers=headers)
    return JSONResponse({"detail": detail}, status_code=exc.status_code, headers=headers)


async def _index(request: Request, exc: Exception) -> Response:
    reason = str(exc) if isinstance(exc, EventIndexError) else type(exc).__name__
    logger.warning("the event index could not be read for %s: %s", request.url.path, printable(reason, 300))
    return JSONResponse(
        {"detail": f"the event index cannot be read right now ({printable(reason, 200)}): retry shortly"},
        status_code=503,
    )


def install(app: FastAPI) -> None:
    """The handlers above, and the OpenAPI schema saying what they answer."""
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(HTTPException, _http)
    app.add_exception_handler(EventIndexError, _index)
    app.add_exception_handler(SQLAlchemyError, _index)
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _one_line_validation_errors(generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _one_line_validation_errors(schema: dict[str, Any]) -> dict[str, Any]:
    """FastAPI documents 422 as a list of errors; this API answers a :class:`Problem`."""
    schemas = schema.get("components", {}).get("schemas", {})
    schemas.pop("ValidationError", None)
    schemas.pop("HTTPValidationError", None)
    schemas["Problem"] = Problem.model_json_schema()
    for operation in (op for path in schema.get("paths", {}).values() for op in path.values()):
        response = operation.get("responses", {}).get("422")
        if response is not None:
            response["description"] = "A parameter is missing, malformed or out of range"
            response["content"] = {"application/json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    return schema
