"""``bcfl-supernode``: Flower's ``flower-supernode`` asking the SuperLink for messages more often.

Flower 1.41's SuperNode waits a fixed 3 s before asking the SuperLink again when no message came,
and 0.5 s between looks for the ClientApp's reply (``time.sleep(3)`` and ``time.sleep(0.5)`` in
``flwr/supernode/start_client_internal.py``; no flag or variable sets either). A round sends each
hospital two messages, each of which waits for that poll: on average 1.5 s, and for the last of
four hospitals about 2.4 s, twice a round, which is most of what a small round waits for
(docs/benchmarks.md). This command is ``flower-supernode`` with its command line unchanged and
those two intervals set by ``--message-poll-interval`` and ``--reply-poll-interval``; an object
of a message the SuperLink does not hold yet is asked for again after 0.05 s instead of 1 s, and
then at most 0.2 s apart (:mod:`bcfl.flower.object_pulls`).

The one use of Flower internals, kept in this module: the loop calls the ``sleep`` of the module
attribute ``flwr.supernode.start_client_internal.time``. :func:`install_clock` replaces that
attribute with a :class:`PollClock`, which sleeps the configured interval where Flower asked for 3 s
or 0.5 s and passes every other call to :mod:`time`. ``tests/hospital/test_supernode.py`` fails if
Flower's source no longer waits with those calls.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
from flwr.supernode import start_client_internal
from flwr.supernode.cli import flower_supernode

from bcfl.flower.object_pulls import prompt_object_pulls
from hospital_node.site.admission import wait_until_activatable

logger = logging.getLogger(__name__)

#: The attribute of ``flwr.supernode.start_client_internal`` replaced by :func:`install_clock`.
CLOCK_ATTRIBUTE = "time"
#: Flower's fixed wait before asking the SuperLink again when no message came, seconds.
FLOWER_MESSAGE_POLL = 3.0
#: Flower's fixed wait between looks for a ClientApp's reply (and a reply object's content), seconds.
FLOWER_REPLY_POLL = 0.5
#: This command's defaults: a hospital asks the SuperLink twice a second when idle.
MESSAGE_POLL = 0.5
REPLY_POLL = 0.1
#: The shortest interval accepted: polling faster only loads the SuperLink.
MINIMUM_POLL = 0.05


class PollClock:
    """Stands in for :mod:`time` in Flower's SuperNode loop, with shorter fixed waits."""

    def __init__(self, message_poll: float, reply_poll: float) -> None:
        self.intervals = {FLOWER_MESSAGE_POLL: message_poll, FLOWER_REPLY_POLL: reply_poll}

    def sleep(self, seconds: float) -> None:
        """Sleep the configured interval for one of Flower's fixed waits, else ``seconds``."""
        time.sleep(self.intervals.get(seconds, seconds))

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)


def install_clock(clock: PollClock) -> None:
    """Make Flower's SuperNode loop wait with ``clock`` (fails if Flower no longer uses ``time``)."""
    current = getattr(start_client_internal, CLOCK_ATTRIBUTE, None)
    if current is not time and not isinstance(current, PollClock):
        raise SystemExit(
            "bcfl-supernode: error: this Flower version's SuperNode loop does not wait with "
            f"start_client_internal.{CLOCK_ATTRIBUTE}: run flower-supernode instead "
            "(or install the Flower version of requirements.lock)"
        )
    setattr(start_client_internal, CLOCK_ATTRIBUTE, clock)


def _interval(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not MINIMUM_POLL <= value <= FLOWER_MESSAGE_POLL:
        raise argparse.ArgumentTypeError(
            f"{value:g} s is outside {MINIMUM_POLL:g} to {FLOWER_MESSAGE_POLL:g} s: pick an interval in it"
        )
    return value


def _take_over(flower_args: list[str]) -> None:
    """Over TLS with a node key: wait until the SuperLink lets a crashed earlier run of this node go
    (:func:`hospital_node.site.admission.wait_until_activatable`), so a restart right after a crash
    does not exit at once. Anything unexpected is left for Flower's SuperNode to report."""
    link = argparse.ArgumentParser(add_help=False)
    link.add_argument("--superlink")
    link.add_argument("--root-certificates", type=Path)
    link.add_argument("--auth-supernode-private-key", type=Path)
    given, _ = link.parse_known_args(flower_args)
    if not (given.superlink and given.root_certificates and given.auth_supernode_private_key):
        return
    try:
        waited = wait_until_activatable(
            given.superlink, given.root_certificates, given.auth_supernode_private_key
        )
    except (httpx.HTTPError, OSError, ValueError) as exc:
        logger.debug("could not ask the SuperLink before starting: %s", exc)
        return
    if waited > 0.5:
        logger.warning("took over from the earlier run of this node after %.0f s", waited)


def main(argv: Sequence[str] | None = None) -> None:
    """``bcfl-supernode [--message-poll-interval S] [--reply-poll-interval S] FLOWER_SUPERNODE_ARGS...``."""
    parser = argparse.ArgumentParser(
        prog="bcfl-supernode",
        description="flower-supernode asking the SuperLink for messages every --message-poll-interval "
        "seconds instead of Flower's fixed 3 s; every other argument is flower-supernode's "
        "(flower-supernode --help).",
    )
    parser.add_argument(
        "--message-poll-interval",
        type=_interval,
        default=MESSAGE_POLL,
        help=f"Seconds between asks for a message when none came (default {MESSAGE_POLL:g}; Flower's 3).",
    )
    parser.add_argument(
        "--reply-poll-interval",
        type=_interval,
        default=REPLY_POLL,
        help=f"Seconds between looks for the ClientApp's reply (default {REPLY_POLL:g}; Flower's 0.5).",
    )
    args, flower_args = parser.parse_known_args(argv)
    install_clock(PollClock(args.message_poll_interval, args.reply_poll_interval))
    _take_over(flower_args)
    prompt_object_pulls()  # a message's objects the SuperLink does not hold yet: asked again sooner
    sys.argv = ["flower-supernode", *flower_args]  # flower-supernode parses sys.argv
    flower_supernode()


if __name__ == "__main__":
    main()
