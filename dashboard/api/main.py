"""Every API route, under one router (mounted at ``/api/v1``)."""

from __future__ import annotations

from fastapi import APIRouter

from dashboard.api.routes import charts, checks, events, members, models, rounds, status, stream

api_router = APIRouter()
for module in (status, members, rounds, charts, events, models, checks, stream):
    api_router.include_router(module.router)
