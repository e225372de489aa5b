"""The dashboard's FastAPI app: the JSON API under ``/api/v1`` (its OpenAPI schema at
``/api/v1/openapi.json``), health at ``/healthz`` and ``/readyz``, Prometheus metrics at ``/metrics``,
and the page (static files, served by the app: nothing comes from another origin)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from prometheus_client import CollectorRegistry, GCCollector, PlatformCollector, ProcessCollector
from prometheus_fastapi_instrumentator import Instrumentator
from starlette.routing import Match, Mount
from starlette.types import Scope

from dashboard.api import errors
from dashboard.api.errors import API_PREFIX
from dashboard.api.main import api_router
from dashboard.api.routes import health
from dashboard.feed import Feed
from dashboard.limits import UploadLimit
from dashboard.security import SecurityHeaders
from dashboard.settings import DashboardSettings
from dashboard.watcher import LedgerWatcher

__all__ = ["API_PREFIX", "create_app", "web_dir"]


def web_dir() -> Path:
    return Path(str(resources.files("dashboard") / "web"))


def metrics_registry() -> CollectorRegistry:
    """The app's own Prometheus registry (its request metrics, and the process's), so that each app
    counts its own requests even where a process holds several (the tests)."""
    registry = CollectorRegistry()
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)
    return registry


class WebMount(Mount):
    """The page's files at ``/``, everywhere but under the API: there, a path no route takes is a
    JSON 404 and a method a route does not take is a 405 naming the ones it does (a mount at ``/``
    would otherwise answer both as a missing file)."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        path = str(scope.get("path", ""))
        if path == API_PREFIX or path.startswith(API_PREFIX + "/"):
            return Match.NONE, {}
        return super().matches(scope)


def create_app(settings: DashboardSettings, *, watch: bool = True) -> FastAPI:
    """The app over ``settings``' ledger; ``watch`` starts the watcher thread with the app (tests
    may drive :meth:`LedgerWatcher.step` themselves instead)."""
    watcher = LedgerWatcher(settings, Feed())

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if watch:
            watcher.start()
        try:
            yield
        finally:
            watcher.stop()

    app = FastAPI(
        title="BCFL consortium dashboard",
        summary="The consortium's ledger and learning, read only: members, rounds, events, provenance.",
        version="1",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=None,  # Swagger UI and ReDoc load from a CDN: the page allows no other origin
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.watcher = watcher
    errors.install(app)
    app.add_middleware(UploadLimit)
    app.add_middleware(SecurityHeaders)  # added last: outermost, so every answer has the headers
    app.include_router(health.router)
    app.include_router(api_router, prefix=API_PREFIX)
    Instrumentator(
        excluded_handlers=["/metrics", f"{API_PREFIX}/stream"], registry=metrics_registry()
    ).instrument(app).expose(app, include_in_schema=False)
    app.router.routes.append(WebMount("/", app=StaticFiles(directory=web_dir(), html=True), name="web"))
    return app
