"""Flower's object pulls, retried sooner when the other side does not hold an object yet.

A Flower message travels as a tree of objects; whoever receives it asks for each object and, when the
sender's store does not have it yet (``ObjectUnavailableError``), waits 1 s, then 2, 4, ... up to
10 s (``PULL_INITIAL_BACKOFF`` in ``flwr/supercore/constant.py``, the keyword default
``initial_backoff`` of the pull functions in ``flwr/supercore/inflatable/inflatable_utils.py``;
no flag or variable sets it). Inside one machine's round that first second is most of a message's
wait: a SuperNode offers a task before it has pulled the message's objects, so a prompt ClientApp
nearly always asks too early; a ServerApp can pull a reply whose objects are still being pushed.

:func:`prompt_object_pulls` sets that keyword default of Flower's pull functions in this process (the
ClientApp's children of the warm-start server, the ServerApp, ``bcfl-supernode``): the first retry
after :data:`BACKOFF`, then doubling to Flower's cap, as before. Nothing else of the pull changes
(tries, total time, errors). ``tests/flower/test_object_pulls.py`` fails if Flower moves the keyword.
"""

from __future__ import annotations

import logging

from flwr.supercore.inflatable import inflatable_utils

logger = logging.getLogger(__name__)
#: The keyword whose default is replaced.
KEYWORD = "initial_backoff"
#: Flower's functions that pull a message's objects: the ServerApp's and the SuperNode's pulls call
#: the first directly; the ClientApp's message pull calls the second (which passes its own default on).
FUNCTIONS = ("pull_objects", "pull_and_inflate_object_from_tree")
#: Seconds before the first retry of an object not there yet (Flower's: 1).
BACKOFF = 0.05


def prompt_object_pulls(backoff: float = BACKOFF) -> bool:
    """Set the first retry of Flower's object pulls in this process to ``backoff`` seconds; False,
    with a warning and nothing changed, if a Flower function no longer has that keyword default."""
    defaults = [getattr(getattr(inflatable_utils, name, None), "__kwdefaults__", None) for name in FUNCTIONS]
    if not all(isinstance(d, dict) and KEYWORD in d for d in defaults):
        logger.warning(
            "Flower's object pulls keep their own backoff: %s has no %s default", FUNCTIONS, KEYWORD
        )
        return False
    for kwdefaults in defaults:
        assert isinstance(kwdefaults, dict)
        kwdefaults[KEYWORD] = backoff
    return True
