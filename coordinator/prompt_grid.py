"""The ServerApp's Grid, pulling replies sooner: Flower 1.41's ``send_and_receive`` waits 3 s between
two pulls of the replies (``flwr.superlink.grid.HttpGrid``), so a round's every message waits up to
3 s, 1.5 s on average, after its last reply came in. :class:`PromptGrid` sends through the run's own
Grid and pulls with Flower's public ``pull_messages`` every :data:`PULL_INTERVAL_S` instead; the
rest is the run's Grid's, unchanged."""

from __future__ import annotations

import time
from collections.abc import Iterable

from flwr.app import Message, RecordDict
from flwr.proto.node_pb2 import NodeInfo
from flwr.serverapp import Grid
from flwr.supercore.run import Run

#: Between two pulls of a round's replies (Flower's own: 3 s).
PULL_INTERVAL_S = 0.2


class PromptGrid(Grid):
    """``grid``, with ``send_and_receive`` pulling the replies every ``interval_s``."""

    def __init__(self, grid: Grid, interval_s: float = PULL_INTERVAL_S) -> None:
        self._grid = grid
        self.interval_s = interval_s

    def set_run(self, run: Run) -> None:
        self._grid.set_run(run)

    @property
    def run(self) -> Run:
        return self._grid.run

    def create_message(
        self,
        content: RecordDict,
        message_type: str,
        dst_node_id: int,
        group_id: str,
        ttl: float | None = None,
    ) -> Message:
        return self._grid.create_message(content, message_type, dst_node_id, group_id, ttl)

    def get_node_ids(self) -> Iterable[int]:
        return self._grid.get_node_ids()

    def get_nodes(self) -> Iterable[NodeInfo]:
        return self._grid.get_nodes()

    def push_messages(self, messages: Iterable[Message]) -> Iterable[str]:
        return self._grid.push_messages(messages)

    def pull_messages(self, message_ids: Iterable[str]) -> Iterable[Message]:
        return self._grid.pull_messages(message_ids)

    def send_and_receive(
        self, messages: Iterable[Message], *, timeout: float | None = None
    ) -> Iterable[Message]:
        """Push ``messages``, then pull their replies until all came or ``timeout`` passed."""
        pending = set(self.push_messages(messages))
        deadline = None if timeout is None else time.monotonic() + timeout
        replies: list[Message] = []
        while pending:
            pulled = list(self.pull_messages(pending))
            replies.extend(pulled)
            pending.difference_update(m.metadata.reply_to_message_id for m in pulled)
            if not pending or (deadline is not None and time.monotonic() >= deadline):
                break
            time.sleep(self.interval_s)
        return replies
