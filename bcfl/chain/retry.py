"""Retrying a chain read or write while the endpoint does not answer, then one line naming the
endpoint (its credentials redacted) and the call. Shared by the web3 client
(:class:`bcfl.chain.client.ChainClient`) and the web3-free JSON-RPC client
(:class:`bcfl.chain.jsonrpc.JsonRpc`), so both fail the same way.

Two budgets: an endpoint that never answered gets a few quick tries (a mistyped URL is named within
seconds); one that has answered before is waited for up to ``outage_s`` (:data:`OUTAGE_S` by
default: a node restarting, a network blip), trying again every :data:`BACKOFF_CAP_S` at most."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from bcfl.chain.exceptions import ChainUnreachableError, redact_url

logger = logging.getLogger(__name__)
T = TypeVar("T")

#: Seconds a client waits for an endpoint that has answered before, across an outage.
OUTAGE_S = 60.0
#: The longest wait between two tries, seconds.
BACKOFF_CAP_S = 2.0


def retrying(
    rpc_url: str,
    what: str,
    fn: Callable[[], T],
    *,
    transient: tuple[type[BaseException], ...],
    retries: int,
    backoff_s: float,
    outage_s: float = 0.0,
) -> T:
    """``fn()``, called again after ``backoff_s``, twice that, ... (at most :data:`BACKOFF_CAP_S`) while
    it raises one of ``transient``; :class:`ChainUnreachableError` once ``retries`` retries are done
    and ``outage_s`` seconds have passed since the first failure (0: the retries alone)."""
    first_failure: float | None = None
    attempt = 0
    while True:
        try:
            return fn()
        except transient as exc:
            now = time.monotonic()
            first_failure = now if first_failure is None else first_failure
            waited = now - first_failure
            if attempt >= retries and waited >= outage_s:
                raise ChainUnreachableError(_gave_up(rpc_url, what, attempt + 1, outage_s, exc)) from exc
            delay = min(backoff_s * 2**attempt, BACKOFF_CAP_S)
            if attempt >= retries:
                delay = min(delay, max(outage_s - waited, 0.0))
            logger.warning(
                "chain unreachable during %s (try %d), retrying in %.1fs", what, attempt + 1, delay
            )
            time.sleep(delay)
            attempt += 1


def _gave_up(rpc_url: str, what: str, tries: int, outage_s: float, exc: BaseException) -> str:
    where = f"the chain at {redact_url(rpc_url)} did not answer {what}"
    if outage_s > 0:
        return f"{where} for {outage_s:g} s ({tries} tries, {type(exc).__name__}): is the node running?"
    return f"{where} after {tries} tries ({type(exc).__name__})"


@dataclass
class Retrier:
    """One client's :func:`retrying`: ``retries`` tries while its endpoint never answered, then, once
    it has, patience for ``outage_s`` seconds (0: the retries alone, always)."""

    rpc_url: str
    transient: tuple[type[BaseException], ...]
    retries: int
    backoff_s: float
    outage_s: float = OUTAGE_S
    answered: bool = False

    def __call__(self, what: str, fn: Callable[[], T]) -> T:
        result = retrying(
            self.rpc_url,
            what,
            fn,
            transient=self.transient,
            retries=self.retries,
            backoff_s=self.backoff_s,
            outage_s=self.outage_s if self.answered else 0.0,
        )
        self.answered = True
        return result
