"""The first retry of Flower's object pulls (bcfl.flower.object_pulls): the Flower internals it relies
on (these tests fail first if Flower changes them) and what it changes. The ClientApps of every
federation test pull with it (the warm-start server sets it before forking them), as do the
ServerApp and bcfl-supernode."""

from __future__ import annotations

import inspect
import random
import threading
from collections.abc import Iterator
from types import SimpleNamespace
from typing import ClassVar

import pytest
from flwr.supercore.constant import (
    PULL_BACKOFF_CAP,
    PULL_INITIAL_BACKOFF,
    PULL_MAX_TIME,
    PULL_MAX_TRIES_PER_OBJECT,
)
from flwr.supercore.inflatable import inflatable_utils
from flwr.supernode import start_client_internal
from flwr.supernode.runtime import run_clientapp

from bcfl.flower import object_pulls


@pytest.fixture
def flowers_defaults(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each pull function's keyword defaults as a copy, put back afterwards."""
    for name in object_pulls.FUNCTIONS:
        function = getattr(inflatable_utils, name)
        monkeypatch.setattr(function, "__kwdefaults__", dict(function.__kwdefaults__))
    yield


def test_flowers_pulls_retry_after_their_keyword_default_and_its_callers_leave_it(
    flowers_defaults: None,
) -> None:
    flowers = (PULL_INITIAL_BACKOFF, PULL_BACKOFF_CAP, PULL_MAX_TRIES_PER_OBJECT, PULL_MAX_TIME)
    assert flowers == (1, 10, 500, 7200)
    for name in object_pulls.FUNCTIONS:
        defaults = getattr(inflatable_utils, name).__kwdefaults__
        assert defaults[object_pulls.KEYWORD] == PULL_INITIAL_BACKOFF
        assert defaults[object_pulls.CAP_KEYWORD] == PULL_BACKOFF_CAP
        assert defaults[object_pulls.TRIES_KEYWORD] == PULL_MAX_TRIES_PER_OBJECT
        assert defaults[object_pulls.TIME_KEYWORD] == PULL_MAX_TIME
    # Flower's wait between tries: the delay with a jitter of object_pulls.JITTER, doubled up to the cap.
    retries = inspect.getsource(inflatable_utils.pull_objects)
    assert f"delay * (1 + random.uniform(-{object_pulls.JITTER}, {object_pulls.JITTER}))" in retries
    assert "delay = min(delay * 2, backoff_cap)" in retries
    # The ClientApp's message pull and the SuperNode's pull from the SuperLink pass no backoff of theirs.
    clientapp = inspect.getsource(run_clientapp.pull_task_input)
    supernode = inspect.getsource(start_client_internal._pull_and_store_message)
    assert "pull_and_inflate_object_from_tree(" in clientapp and object_pulls.KEYWORD not in clientapp
    assert "pull_objects(" in supernode and object_pulls.KEYWORD not in supernode
    # The ClientApp's pull hands its own default on to pull_objects.
    inflate = inspect.getsource(inflatable_utils.pull_and_inflate_object_from_tree)
    for keyword in (object_pulls.KEYWORD, object_pulls.CAP_KEYWORD, object_pulls.TRIES_KEYWORD):
        assert f"{keyword}={keyword}" in inflate


def test_the_first_retry_is_set_and_a_changed_flower_changes_nothing(
    flowers_defaults: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert object_pulls.prompt_object_pulls(0.05, 0.2)
    for name in object_pulls.FUNCTIONS:
        defaults = getattr(inflatable_utils, name).__kwdefaults__
        assert defaults[object_pulls.KEYWORD] == 0.05 and defaults[object_pulls.CAP_KEYWORD] == 0.2
        # Flower's max_time still ends the wait: even the shortest waits cannot use up the tries first.
        assert defaults[object_pulls.TIME_KEYWORD] == PULL_MAX_TIME
        assert defaults[object_pulls.TRIES_KEYWORD] * 0.05 * (1 - object_pulls.JITTER) >= PULL_MAX_TIME
    monkeypatch.setattr(inflatable_utils.pull_objects, "__kwdefaults__", {"backoff_cap": 10})
    assert not object_pulls.prompt_object_pulls(0.5)
    untouched = inflatable_utils.pull_and_inflate_object_from_tree.__kwdefaults__
    assert untouched is not None and untouched[object_pulls.KEYWORD] == 0.05  # all or nothing


class RecordingEvent(threading.Event):
    """Flower's stop event whose waits are recorded and return at once (no test waits on a clock)."""

    waits: ClassVar[list[float]] = []

    def wait(self, timeout: float | None = None) -> bool:
        if timeout is not None:
            RecordingEvent.waits.append(timeout)
        return self.is_set()


def test_a_late_object_is_asked_for_again_within_the_cap_until_it_comes(
    flowers_defaults: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Flower's real pull loop, with its waits recorded: the first after the set backoff, doubling,
    never longer than the cap, for as many tries as the object takes to come."""
    # Only the pull functions' view of threading changes (the thread pool keeps the real Event).
    flowers_threading = SimpleNamespace(Event=RecordingEvent, Lock=threading.Lock)
    monkeypatch.setattr(inflatable_utils, "threading", flowers_threading)
    monkeypatch.setattr(RecordingEvent, "waits", [])
    monkeypatch.setattr(random, "uniform", lambda low, high: 0.0)  # Flower's jitter: none
    assert object_pulls.prompt_object_pulls(0.05, 0.2)
    asked: list[str] = []

    def pull(object_id: str) -> bytes:
        asked.append(object_id)
        if len(asked) <= 40:  # not there yet
            raise inflatable_utils.ObjectUnavailableError(object_id)
        return b"content"

    assert inflatable_utils.pull_objects(["a" * 64], pull) == {"a" * 64: b"content"}
    assert len(asked) == 41
    assert RecordingEvent.waits == pytest.approx([0.05, 0.1] + [0.2] * 38)
