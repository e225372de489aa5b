"""The warm-start server: a process that has imported the ClientApp's libraries once and forks a fresh
child for every ClientApp message, which then runs Flower's own ``flwr-clientapp`` entry point.

Flower 1.41 starts one ``flwr-clientapp`` process per message; most of its start-up is importing
torch, numpy and Flower itself. This server pays that once, when the hospital's SuperExec starts it.
Each task is still a process of its own (a fork: its own memory, its exit ends it), and it still
loads the app's code from the bundle (FAB) the SuperNode checked: the server imports no module of
this project's packages that the child could reuse; the few the server itself runs on are dropped from
the child's ``sys.modules`` before Flower loads the app, so the app's modules come from the bundle,
as in a cold start.

Protocol: one JSON object per line on the server's stdin, ``{"argv": [...], "quiet": bool}``:
``argv`` is ``flwr-clientapp``'s command line (the SubprocessExecutor's), ``quiet`` sends the child's
output to /dev/null. End of input (the SuperExec gone) stops the server; children it started go on
(each watches the SuperExec's pid, ``--parent-pid``, as Flower's own do).
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import signal
import sys
from collections.abc import Sequence
from types import FrameType

from bcfl.flower.object_pulls import prompt_object_pulls

logger = logging.getLogger(__name__)
#: What the server imports once: the project's ClientApp (its own copy, which pulls in every library the
#: app imports: torch, numpy, pydantic, eth_*, Flower's client side) and Flower's ClientApp entry point
#: with the HTTP client it talks to the SuperNode through. The project's own modules among them are
#: dropped in each child (:func:`forget_project_modules`), so what stays warm is third-party code only,
#: and the list need not be kept by hand beside the app's imports. A module that fails to import is
#: skipped with a warning.
PRELOAD = (
    "hospital_node.client_app",
    "flwr.supernode.cli.flwr_clientapp",
    "httpx",
)
#: Top-level packages of this project: whatever of them the server loaded is dropped in each child.
PROJECT_PACKAGES = frozenset({"bcfl", "coordinator", "dashboard", "hospital_node", "benchmarks"})


def preload(modules: Sequence[str]) -> list[str]:
    """Import ``modules``; the names of those that could not be imported."""
    failed = []
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception as exc:
            logger.warning("warm start: could not preload %s: %s", name, exc)
            failed.append(name)
    return failed


def forget_project_modules() -> None:
    """Drop this project's modules from ``sys.modules``, so the app's come from its bundle."""
    for name in [name for name in sys.modules if name.partition(".")[0] in PROJECT_PACKAGES]:
        del sys.modules[name]


def run_child(argv: list[str], quiet: bool) -> int:
    """In the forked child: ``flwr-clientapp`` with ``argv``; the exit code."""
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    if quiet:
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
    os.close(devnull)
    logger.handlers.clear()
    forget_project_modules()
    sys.argv = ["flwr-clientapp", *argv[1:]]
    from flwr.supernode.cli.flwr_clientapp import flwr_clientapp

    try:
        flwr_clientapp()
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:
        logger.exception("warm start: flwr-clientapp failed")
        return 1
    return 0


def _reap(signum: int, frame: FrameType | None) -> None:
    del signum, frame
    try:
        while os.waitpid(-1, os.WNOHANG)[0] > 0:
            pass
    except ChildProcessError:
        pass


def parse_request(line: str) -> tuple[list[str], bool]:
    """A request line's ``argv`` and ``quiet``; ValueError if it is not one."""
    request = json.loads(line)
    argv = request.get("argv") if isinstance(request, dict) else None
    quiet = request.get("quiet", False) if isinstance(request, dict) else None
    if not (isinstance(argv, list) and argv and all(isinstance(a, str) for a in argv)):
        raise ValueError("'argv' must be a non-empty list of strings")
    if not isinstance(quiet, bool):
        raise ValueError("'quiet' must be true or false")
    return argv, quiet


def serve(lines: Sequence[str] | None = None) -> None:
    """Fork a ``flwr-clientapp`` child for each request line on stdin, until end of input."""
    signal.signal(signal.SIGCHLD, _reap)
    for line in lines if lines is not None else sys.stdin:
        try:
            argv, quiet = parse_request(line)
        except ValueError as exc:
            logger.error("warm start: ignoring a malformed request: %s", exc)
            continue
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                code = run_child(argv, quiet)
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        logger.debug("warm start: task process %d started", pid)


def main() -> None:
    """``python -m hospital_node.warm.server``: preload, then serve stdin (requests written meanwhile
    wait in the pipe, so the first task costs what a cold start does)."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(levelname)s hospital_node.warm: %(message)s"))
    logger.addHandler(handler)  # this module's lines only: a child's logging is Flower's and the app's
    logger.setLevel(logging.INFO)
    logger.propagate = False
    failed = preload(PRELOAD)
    prompt_object_pulls()  # inherited by every child: its message's objects are asked for again sooner
    logger.info("warm start: %d of %d modules preloaded", len(PRELOAD) - len(failed), len(PRELOAD))
    serve()


if __name__ == "__main__":
    main()
