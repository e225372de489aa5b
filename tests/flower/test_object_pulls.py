"""The first retry of Flower's object pulls (bcfl.flower.object_pulls): the Flower internals it relies
on (these tests fail first if Flower changes them) and what it changes. The ClientApps of every
federation test pull with it (the warm-start server sets it before forking them), as do the
ServerApp and bcfl-supernode."""

from __future__ import annotations

import inspect
from collections.abc import Iterator

import pytest
from flwr.supercore.constant import PULL_INITIAL_BACKOFF
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
    assert PULL_INITIAL_BACKOFF == 1
    for name in object_pulls.FUNCTIONS:
        assert getattr(inflatable_utils, name).__kwdefaults__[object_pulls.KEYWORD] == PULL_INITIAL_BACKOFF
    # The ClientApp's message pull and the SuperNode's pull from the SuperLink pass no backoff of theirs.
    clientapp = inspect.getsource(run_clientapp.pull_task_input)
    supernode = inspect.getsource(start_client_internal._pull_and_store_message)
    assert "pull_and_inflate_object_from_tree(" in clientapp and object_pulls.KEYWORD not in clientapp
    assert "pull_objects(" in supernode and object_pulls.KEYWORD not in supernode
    # The ClientApp's pull hands its own default on to pull_objects.
    inflate = inspect.getsource(inflatable_utils.pull_and_inflate_object_from_tree)
    assert f"{object_pulls.KEYWORD}={object_pulls.KEYWORD}" in inflate


def test_the_first_retry_is_set_and_a_changed_flower_changes_nothing(
    flowers_defaults: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert object_pulls.prompt_object_pulls(0.05)
    for name in object_pulls.FUNCTIONS:
        defaults = getattr(inflatable_utils, name).__kwdefaults__
        assert defaults[object_pulls.KEYWORD] == 0.05 and defaults["backoff_cap"] == 10
    monkeypatch.setattr(inflatable_utils.pull_objects, "__kwdefaults__", {"backoff_cap": 10})
    assert not object_pulls.prompt_object_pulls(0.5)
    untouched = inflatable_utils.pull_and_inflate_object_from_tree.__kwdefaults__
    assert untouched is not None and untouched[object_pulls.KEYWORD] == 0.05  # all or nothing
