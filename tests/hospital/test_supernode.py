"""``bcfl-supernode``: the Flower internals it relies on (these tests fail first if Flower changes
them), the waits it shortens, and its command line.

Every federation test runs its SuperNodes with it (bcfl.demo.topology); what it saves a round is
measured by ``make bench`` (scripts/bench_round.py), not here.
"""

from __future__ import annotations

import inspect
import re
import subprocess
import sys
import time

import pytest
from flwr.supernode import start_client_internal

from hospital_node.supernode import (
    CLOCK_ATTRIBUTE,
    FLOWER_MESSAGE_POLL,
    FLOWER_REPLY_POLL,
    PollClock,
    install_clock,
)


def test_flowers_supernode_loop_still_waits_where_bcfl_supernode_shortens_it() -> None:
    assert getattr(start_client_internal, CLOCK_ATTRIBUTE) is time
    loop = inspect.getsource(start_client_internal.start_client_internal)
    push = inspect.getsource(start_client_internal._push_messages)
    assert loop.count(f"time.sleep({FLOWER_MESSAGE_POLL:g})") == 1  # no message came: ask again later
    assert push.count(f"time.sleep({FLOWER_REPLY_POLL:g})") == 2  # the reply, then its objects' contents
    module = inspect.getsource(start_client_internal)
    calls = re.findall(r"\btime\.\w+\(", module)
    assert len(calls) == 3, "Flower's SuperNode loop uses time otherwise now: review PollClock"


def test_the_clock_shortens_flowers_two_waits_and_passes_every_other(monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []
    monkeypatch.setattr(time, "sleep", slept.append)
    clock = PollClock(message_poll=0.4, reply_poll=0.05)
    clock.sleep(FLOWER_MESSAGE_POLL)
    clock.sleep(FLOWER_REPLY_POLL)
    clock.sleep(1.25)
    assert slept == [0.4, 0.05, 1.25]
    assert clock.monotonic is time.monotonic


def test_the_clock_is_installed_and_a_changed_flower_fails_with_one_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(start_client_internal, CLOCK_ATTRIBUTE, time)  # restored afterwards
    clock = PollClock(message_poll=0.5, reply_poll=0.1)
    install_clock(clock)
    assert getattr(start_client_internal, CLOCK_ATTRIBUTE) is clock
    monkeypatch.delattr(start_client_internal, CLOCK_ATTRIBUTE)
    with pytest.raises(SystemExit, match=r"does not wait with start_client_internal\.time"):
        install_clock(clock)


@pytest.mark.parametrize(
    ("argument", "problem"),
    [
        ("--message-poll-interval=9", "9 s is outside 0.05 to 3 s"),
        ("--reply-poll-interval=soon", "'soon' is not"),
    ],
)
def test_a_bad_interval_is_one_line_and_starts_nothing(argument: str, problem: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "hospital_node.supernode", argument, "--insecure"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("bcfl-supernode: error: ") and problem in last
    assert "Traceback" not in done.stderr and done.stdout == ""
