"""The Fleet gateway: hospitals' SuperNodes reach the SuperLink's Fleet API through it, and nothing else.

Flower 1.41's SuperLink serves its Fleet, Control and Runtime APIs on one HTTP(S) socket, and the
Control API (submit runs, register and unregister nodes) has no authentication in open-source Flower.
So the SuperLink listens on loopback (or an internal network) only, and this small reverse proxy,
served over TLS with the consortium's certificate, forwards ``/v1/fleet/<call>`` to it and answers
404 to every other path. The SuperNode's authentication headers (its public key, a timestamp and its
signature) are ordinary headers: they pass through unchanged, and the SuperLink checks them.
"""

from __future__ import annotations

import logging
import re
import ssl
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import httpx

logger = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

#: The only paths forwarded: one Fleet call each (``/v1/fleet/pull-messages``, ...).
FLEET_PATH = re.compile(r"/v1/fleet/[a-z][a-z0-9-]*")
#: Headers that belong to one connection, not to the request (RFC 9110 7.6.1), and the Host.
HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
     "transfer-encoding", "upgrade", "host"}
)  # fmt: skip
#: Seconds the SuperLink may take to answer one Fleet call (model transfers included).
UPSTREAM_TIMEOUT_S = 120.0


class FleetGateway:
    """An ASGI app forwarding Fleet calls to ``upstream`` (``https://127.0.0.1:PORT``), whose
    certificate is checked with ``verify``."""

    def __init__(
        self, upstream: str, verify: ssl.SSLContext | bool, timeout_s: float = UPSTREAM_TIMEOUT_S
    ) -> None:
        self.upstream = upstream.rstrip("/")
        self.verify = verify
        self.timeout_s = timeout_s
        self._client: httpx.AsyncClient | None = None

    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(
                verify=self.verify, timeout=self.timeout_s, follow_redirects=False
            )
        return self._client

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "http":
            await self._http(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self.client()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self._client is not None:
                    await self._client.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope["path"]
        if not FLEET_PATH.fullmatch(path) or scope.get("query_string"):
            await _reply(send, 404, b'{"detail":"Not Found"}')
            return
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body.extend(message.get("body", b""))
            if not message.get("more_body"):
                break
        headers = [
            (name, value)
            for name, value in scope["headers"]
            if name.decode("latin-1").lower() not in HOP_BY_HOP
        ]
        client = self.client()
        request = client.build_request(
            scope["method"], self.upstream + path, headers=headers, content=bytes(body)
        )
        try:
            response = await client.send(request, stream=True)
        except httpx.HTTPError as exc:
            logger.warning("the SuperLink did not answer %s: %s: %s", path, type(exc).__name__, exc)
            await _reply(send, 502, b'{"detail":"the SuperLink is not reachable"}')
            return
        try:
            await send(
                {
                    "type": "http.response.start",
                    "status": response.status_code,
                    "headers": [
                        (name, value)
                        for name, value in response.headers.raw
                        if name.decode("latin-1").lower() not in HOP_BY_HOP
                    ],
                }
            )
            async for chunk in response.aiter_raw():
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            await response.aclose()
        logger.debug("%s %s -> %d", scope["method"], path, response.status_code)


async def _reply(send: Send, status: int, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body, "more_body": False})


def upstream_verify(ca_cert: str | None) -> ssl.SSLContext | bool:
    """How the SuperLink's certificate is checked: against the consortium's CA."""
    return ssl.create_default_context(cafile=ca_cert) if ca_cert else True


def serve_gateway(
    host: str,
    port: int,
    upstream: str,
    certfile: str,
    keyfile: str,
    ca_cert: str,
) -> None:
    """Serve the gateway over TLS (uvicorn) until stopped."""
    import uvicorn

    gateway = FleetGateway(upstream, upstream_verify(ca_cert))
    logger.info("Fleet gateway on https://%s:%d -> %s (only /v1/fleet/*)", host, port, upstream)
    uvicorn.run(
        gateway,
        host=host,
        port=port,
        ssl_certfile=certfile,
        ssl_keyfile=keyfile,
        # The CA in the context's store makes OpenSSL send it after the server certificate, so a new
        # hospital pins it from the handshake against the fingerprint on chain (bcfl node init).
        ssl_ca_certs=ca_cert,
        log_level="warning",
        access_log=False,
        server_header=False,
    )
