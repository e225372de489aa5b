"""Retrying a chain read or write while the endpoint does not answer: bounded tries, exponential
back-off, then one line naming the endpoint (its credentials redacted) and the call. Shared by the
web3 client (:class:`bcfl.chain.client.ChainClient`) and the web3-free JSON-RPC client
(:class:`bcfl.chain.jsonrpc.JsonRpc`), so both fail the same way."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from bcfl.chain.exceptions import ChainUnreachableError, redact_url

logger = logging.getLogger(__name__)
T = TypeVar("T")


def retrying(
    rpc_url: str,
    what: str,
    fn: Callable[[], T],
    *,
    transient: tuple[type[BaseException], ...],
    retries: int,
    backoff_s: float,
) -> T:
    """``fn()``, called again after ``backoff_s``, twice that, ... while it raises one of ``transient``;
    :class:`ChainUnreachableError` after ``retries`` retries."""
    for attempt in range(retries + 1):
        try:
            return fn()
        except transient as exc:
            if attempt == retries:
                raise ChainUnreachableError(
                    f"the chain at {redact_url(rpc_url)} did not answer {what} after {retries + 1} tries "
                    f"({type(exc).__name__})"
                ) from exc
            delay = backoff_s * 2**attempt
            logger.warning(
                "chain unreachable during %s (try %d), retrying in %.1fs", what, attempt + 1, delay
            )
            time.sleep(delay)
    raise AssertionError("unreachable")
