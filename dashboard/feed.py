"""The live feed: what the watcher thread learns (new events, a new snapshot, the chain going down or
coming back), handed to every open stream's asyncio queue. A subscriber too slow to keep up is told
to reload rather than silently missing messages."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, field
from typing import Any

#: Messages a stream may hold before it is told it fell behind.
QUEUE_SIZE = 1_000


@dataclass(frozen=True)
class Message:
    """One server-sent event: its type, JSON-ready data and (for contract events) its cursor id."""

    kind: str
    data: Any
    id: str | None = None


LAGGED = Message("lagged", {"reason": "this stream fell behind: reload"})


@dataclass
class Subscription:
    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue[Message] = field(default_factory=lambda: asyncio.Queue(QUEUE_SIZE))
    lagged: bool = False

    def offer(self, message: Message) -> None:
        """Runs on the subscriber's loop."""
        if self.lagged:
            return
        if self.queue.qsize() >= QUEUE_SIZE - 1:
            self.lagged = True
            self.queue.put_nowait(LAGGED)
        else:
            self.queue.put_nowait(message)


class Feed:
    """Publish from any thread; subscribe from an event loop."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscriptions: list[Subscription] = []

    def subscribe(self) -> Subscription:
        subscription = Subscription(asyncio.get_running_loop())
        with self._lock:
            self._subscriptions.append(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        with self._lock:
            if subscription in self._subscriptions:
                self._subscriptions.remove(subscription)

    def publish(self, message: Message) -> None:
        with self._lock:
            subscriptions = list(self._subscriptions)
        for subscription in subscriptions:
            try:
                subscription.loop.call_soon_threadsafe(subscription.offer, message)
            except RuntimeError:  # its loop has closed
                self.unsubscribe(subscription)

    @property
    def subscribers(self) -> int:
        with self._lock:
            return len(self._subscriptions)
