"""The ServerApp's Grid pulls replies every PULL_INTERVAL_S instead of Flower's 3 s, and changes nothing
else."""

from __future__ import annotations

from collections.abc import Iterable
from types import SimpleNamespace
from typing import cast

from flwr.app import Message, RecordDict
from flwr.serverapp import Grid
from flwr.supercore.run import Run

from coordinator.prompt_grid import PromptGrid


class FakeGrid(Grid):
    """Replies to message ``i`` on the ``i``-th pull after the push; never to ``never``."""

    def __init__(self, never: set[str] = frozenset()) -> None:  # type: ignore[assignment]
        self.pulls: list[set[str]] = []
        self.never = never
        self.pushed: list[str] = []

    def set_run(self, run: Run) -> None:
        raise AssertionError("not used")

    @property
    def run(self) -> Run:
        raise AssertionError("not used")

    def create_message(
        self,
        content: RecordDict,
        message_type: str,
        dst_node_id: int,
        group_id: str,
        ttl: float | None = None,
    ) -> Message:
        raise AssertionError("not used")

    def get_node_ids(self) -> Iterable[int]:
        return [1, 2, 3]

    def push_messages(self, messages: Iterable[Message]) -> Iterable[str]:
        self.pushed = [f"m{i}" for i, _ in enumerate(messages, 1)]
        return list(self.pushed)

    def pull_messages(self, message_ids: Iterable[str]) -> Iterable[Message]:
        wanted = set(message_ids)
        self.pulls.append(wanted)
        ready = f"m{len(self.pulls)}"
        return [_reply(ready)] if ready in wanted and ready not in self.never else []

    def send_and_receive(
        self, messages: Iterable[Message], *, timeout: float | None = None
    ) -> Iterable[Message]:
        raise AssertionError("PromptGrid pulls itself")


def _reply(to: str) -> Message:
    """A stand-in for a reply: the grid reads its ``metadata.reply_to_message_id`` only."""
    return cast(Message, SimpleNamespace(metadata=SimpleNamespace(reply_to_message_id=to)))


def _messages(n: int) -> list[Message]:
    """Stand-ins for instructions: the grid passes them on to ``push_messages`` only."""
    return [cast(Message, SimpleNamespace(dst_node_id=i)) for i in range(1, n + 1)]


def test_it_pulls_until_every_reply_came_asking_only_for_those_missing() -> None:
    fake = FakeGrid()
    replies = list(PromptGrid(fake, interval_s=0.0).send_and_receive(_messages(3)))
    assert sorted(r.metadata.reply_to_message_id for r in replies) == ["m1", "m2", "m3"]
    assert fake.pulls == [{"m1", "m2", "m3"}, {"m2", "m3"}, {"m3"}]


def test_it_gives_up_at_the_timeout_with_the_replies_it_has() -> None:
    fake = FakeGrid(never={"m2"})
    replies = list(PromptGrid(fake, interval_s=0.01).send_and_receive(_messages(2), timeout=0.05))
    assert [r.metadata.reply_to_message_id for r in replies] == ["m1"]
    assert all("m2" in pulled for pulled in fake.pulls)


def test_everything_else_is_the_runs_own_grid() -> None:
    assert list(PromptGrid(FakeGrid()).get_node_ids()) == [1, 2, 3]
