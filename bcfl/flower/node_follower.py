"""Follow the registry and keep the SuperLink's node registrations in step (bcfl.flower.node_sync).

It reconciles on start, then whenever a new block holds an event of the registry (an approval, a
suspension, a rotation, a published key), and every ``resync_s`` seconds anyway (the SuperLink may
have been restarted, or a registration may have failed). A chain or SuperLink that cannot be reached
is logged and tried again at the next tick; the loop ends when ``stop`` is set.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass

from web3.types import FilterParams

from bcfl.chain.exceptions import ChainError
from bcfl.chain.registry import Registry
from bcfl.flower.node_sync import NodeControl, SyncResult, read_registry, sync_nodes

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class FollowSettings:
    """How often the follower looks at the chain, and how often it reconciles regardless."""

    interval_s: float = 2.0
    resync_s: float = 30.0


def reconcile(registry: Registry, connect: Callable[[], AbstractContextManager[NodeControl]]) -> SyncResult:
    """One reconciliation: the registry as of its latest block, applied to the SuperLink."""
    view = read_registry(registry)
    with connect() as control:
        return sync_nodes(view, control)


def registry_changed(registry: Registry, from_block: int, to_block: int) -> bool:
    """Whether any block in [from_block, to_block] holds an event of the registry."""
    params: FilterParams = {"address": registry.address, "fromBlock": from_block, "toBlock": to_block}
    logs = registry.client.retrying("eth_getLogs registry", lambda: registry.client.w3.eth.get_logs(params))
    return bool(logs)


def follow(
    registry: Registry,
    connect: Callable[[], AbstractContextManager[NodeControl]],
    stop: threading.Event,
    on_result: Callable[[SyncResult], None],
    settings: FollowSettings = FollowSettings(),
) -> None:
    """Reconcile on start, on each new block with registry events and every ``resync_s``; each
    result goes to ``on_result``; returns once ``stop`` is set."""
    seen = -1  # the last block looked at; -1: reconcile now
    last_sync = 0.0
    while not stop.is_set():
        try:
            head = registry.client.block_number()
            due = seen < 0 or time.monotonic() - last_sync >= settings.resync_s
            if not due and head > seen:
                due = registry_changed(registry, seen + 1, head)
            if due:
                result = reconcile(registry, connect)
                seen, last_sync = result.block, time.monotonic()
                on_result(result)
            else:
                seen = max(seen, head)
        except ChainError as exc:  # the chain or the SuperLink is down: next tick
            logger.warning("node sync: %s; trying again in %.0fs", exc, settings.interval_s)
        stop.wait(settings.interval_s)
