"""The largest upload the dashboard takes, refused before a byte of it is read: Starlette's form
parser would otherwise spool any size to disk before the route could say no."""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Receive, Scope, Send

from dashboard.api.errors import API_PREFIX

#: The largest model file the dashboard hashes (the demo's models are a few hundred kB).
MAX_UPLOAD_BYTES = 64 * 1024 * 1024
#: Room for the multipart envelope around the file.
ENVELOPE_BYTES = 64 * 1024
#: The routes that take an upload (POST), by path.
UPLOAD_PATHS = frozenset({f"{API_PREFIX}/models/verify"})


class UploadLimit:
    """Pure ASGI middleware: a POST to an upload route needs a ``Content-Length`` (411 without one,
    for a chunked body) within the limit (413 above it)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" and scope["path"] in UPLOAD_PATHS:
            headers = {k.lower(): v for k, v in scope["headers"]}
            length = headers.get(b"content-length")
            refusal: tuple[int, str] | None = None
            if length is None:
                if b"transfer-encoding" in headers:
                    refusal = (411, "send the file with a Content-Length header (no chunked upload)")
            elif not length.isdigit():
                refusal = (400, "the Content-Length header is not a number")
            elif int(length) > MAX_UPLOAD_BYTES + ENVELOPE_BYTES:
                refusal = (
                    413,
                    f"the upload is over {MAX_UPLOAD_BYTES // 2**20} MiB: no model here is that large",
                )
            if refusal is not None:
                await _refuse(send, *refusal)
                return
        await self.app(scope, receive, send)


async def _refuse(send: Send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
