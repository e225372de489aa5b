"""A JSON-RPC endpoint's URL, checked before anything dials it."""

from __future__ import annotations

from urllib.parse import urlsplit

from bcfl.chain.exceptions import RpcUrlError, redact_url

#: The schemes the client speaks (web3's HTTP provider).
RPC_SCHEMES = ("http", "https")


def check_rpc_url(url: str) -> str:
    """``url`` if it is an ``http(s)://host[:port][/path]`` URL, else a one-line :class:`RpcUrlError`
    that says what to write (``127.0.0.1:8545`` lacks its scheme: ``http://127.0.0.1:8545``). The
    message never repeats a path or credentials, where providers put API keys."""
    if "://" not in url:
        host = url.split("/", 1)[0].rsplit("@", 1)[-1]
        shown = host + ("/…" if "/" in url else "")
        raise RpcUrlError(f"RPC URL {shown!r} has no scheme: write it as http://{host or 'HOST:PORT'}")
    try:
        parts = urlsplit(url)
        _port = parts.port  # a port that is not a number raises here
    except ValueError:
        raise RpcUrlError("RPC URL is malformed: write it as http://HOST:PORT") from None
    if parts.scheme not in RPC_SCHEMES or not parts.hostname:
        raise RpcUrlError(
            f"RPC URL {redact_url(url)} must be http:// or https:// and name a host: http://HOST:PORT"
        )
    return url
