"""Flower's object pulls, retried sooner and more often when the other side does not hold an object yet.

A Flower message travels as a tree of objects; whoever receives it asks for each object and, when the
sender's store does not have it yet (``ObjectUnavailableError``), waits 1 s, then 2, 4, ... up to
10 s, for at most 500 tries or 7,200 s (``PULL_INITIAL_BACKOFF``, ``PULL_BACKOFF_CAP``,
``PULL_MAX_TRIES_PER_OBJECT`` and ``PULL_MAX_TIME`` in ``flwr/supercore/constant.py``, the keyword
defaults of the pull functions in ``flwr/supercore/inflatable/inflatable_utils.py``; no flag or
variable sets them). Inside one machine's round those waits are most of a message's: a SuperNode
offers a task before it has pulled the message's objects, so a prompt ClientApp nearly always asks
too early, and an object that arrives just after a retry waits for the next, twice as late.

:func:`prompt_object_pulls` sets those keyword defaults of Flower's pull functions in this process
(the ClientApp's children of the warm-start server, the ServerApp, ``bcfl-supernode``): the first
retry after :data:`BACKOFF`, doubling up to :data:`BACKOFF_CAP`, and enough tries that Flower's
``max_time`` (unchanged) is what ends a wait for an object that never comes, as it nearly is with
Flower's own defaults (500 tries take about 4,975 s). Nothing else of the pull changes (errors,
concurrency). ``tests/flower/test_object_pulls.py`` fails if Flower moves a keyword.
"""

from __future__ import annotations

import logging
import math

from flwr.supercore.inflatable import inflatable_utils

logger = logging.getLogger(__name__)
#: The keyword whose default is the first retry's wait.
KEYWORD = "initial_backoff"
#: The keyword whose default is the longest wait between two tries.
CAP_KEYWORD = "backoff_cap"
#: The keyword whose default is the most tries for one object.
TRIES_KEYWORD = "max_tries_per_object"
#: The keyword whose default is the most seconds a pull waits in all (left as Flower sets it).
TIME_KEYWORD = "max_time"
#: Flower's functions that pull a message's objects: the ServerApp's and the SuperNode's pulls call
#: the first directly; the ClientApp's message pull calls the second (which passes its own defaults on).
FUNCTIONS = ("pull_objects", "pull_and_inflate_object_from_tree")
#: Seconds before the first retry of an object not there yet (Flower's: 1).
BACKOFF = 0.05
#: The longest wait between two tries, seconds (Flower's: 10).
BACKOFF_CAP = 0.2
#: Flower's jitter on each wait (plus or minus this fraction), so the shortest wait is (1 - JITTER) x.
JITTER = 0.2


def prompt_object_pulls(backoff: float = BACKOFF, cap: float = BACKOFF_CAP) -> bool:
    """Retry Flower's object pulls in this process after ``backoff`` seconds, doubling up to ``cap``,
    until Flower's ``max_time``; False, with a warning and nothing changed, if a Flower function no
    longer has one of those keyword defaults."""
    keywords = (KEYWORD, CAP_KEYWORD, TRIES_KEYWORD, TIME_KEYWORD)
    defaults = [getattr(getattr(inflatable_utils, name, None), "__kwdefaults__", None) for name in FUNCTIONS]
    if not all(isinstance(d, dict) and all(k in d for k in keywords) for d in defaults):
        logger.warning("Flower's object pulls keep their own backoff: %s lack one of %s", FUNCTIONS, keywords)
        return False
    for kwdefaults in defaults:
        assert isinstance(kwdefaults, dict)
        max_time = kwdefaults[TIME_KEYWORD]
        kwdefaults[KEYWORD] = backoff
        kwdefaults[CAP_KEYWORD] = cap
        if isinstance(max_time, (int, float)):
            shortest = (1 - JITTER) * min(backoff, cap)
            kwdefaults[TRIES_KEYWORD] = max(kwdefaults[TRIES_KEYWORD] or 0, math.ceil(max_time / shortest))
    return True
