"""The SuperExec's side of the warm start: a Flower ``Executor`` that hands each ClientApp task to the
warm-start server (:mod:`hospital_node.warm.server`) instead of starting a cold ``flwr-clientapp``.

It starts the server when the SuperExec starts (so the libraries are imported before the first
round), and sends it the command line Flower's ``SubprocessExecutor`` would run. Any other task type,
and every task once the server cannot be reached, goes to Flower's ``SubprocessExecutor`` unchanged:
a warm start is only ever faster, never a reason for a task to fail.
"""

from __future__ import annotations

import contextlib
import json
import logging
import subprocess
import sys
from typing import IO

from flwr.supercore.constant import TASK_TYPE_TO_APPIO_API_ADDRESS_ARG, TASK_TYPE_TO_COMMAND, TaskType
from flwr.supercore.superexec.executor import ExecutionSpec, LaunchResult, SubprocessExecutor

logger = logging.getLogger(__name__)
SERVER_MODULE = "hospital_node.warm.server"


def command_line(spec: ExecutionSpec) -> list[str]:
    """The task's command line, as Flower 1.41's ``SubprocessExecutor`` builds it (a test checks)."""
    argv = [
        TASK_TYPE_TO_COMMAND[spec.task_type],
        TASK_TYPE_TO_APPIO_API_ADDRESS_ARG[spec.task_type],
        spec.runtime_api_address,
        "--token",
        spec.token,
    ]
    if spec.insecure:
        argv.append("--insecure")
    elif spec.root_certificates_path is not None:
        argv.extend(["--root-certificates", spec.root_certificates_path])
    if spec.parent_pid is not None:
        argv.extend(["--parent-pid", str(spec.parent_pid)])
    if spec.runtime_dependency_install:
        argv.append("--allow-runtime-dependency-installation")
    return argv


class WarmExecutor(SubprocessExecutor):
    """Flower's ``SubprocessExecutor``, with ClientApp tasks forked from a warm-start server."""

    def __init__(self) -> None:
        self._server: subprocess.Popen[str] | None = None
        self._start_server()

    def _start_server(self) -> None:
        try:
            self._server = subprocess.Popen(
                [sys.executable, "-m", SERVER_MODULE], stdin=subprocess.PIPE, text=True
            )
        except OSError as exc:
            logger.warning("warm start unavailable (%s): ClientApps start cold", exc)
            self._server = None
            return
        logger.info("warm-start server started (pid %d)", self._server.pid)

    def _requests(self) -> IO[str] | None:
        """The server's request pipe, if it is still running."""
        server = self._server
        if server is None or server.stdin is None or server.poll() is not None:
            return None
        return server.stdin

    def launch(self, spec: ExecutionSpec) -> LaunchResult:
        """Fork a ClientApp task from the warm server; anything else as Flower does."""
        requests = self._requests()
        if spec.task_type is not TaskType.CLIENT_APP or requests is None:
            if spec.task_type is TaskType.CLIENT_APP:
                logger.warning("warm-start server not running: task %d starts cold", spec.task_id)
            return super().launch(spec)
        line = json.dumps({"argv": command_line(spec), "quiet": spec.suppress_output})
        try:
            requests.write(line + "\n")
            requests.flush()
        except (BrokenPipeError, ValueError, OSError) as exc:
            logger.warning("warm-start server unreachable (%s): task %d starts cold", exc, spec.task_id)
            self._server = None
            return super().launch(spec)
        return LaunchResult.accepted()

    def close(self) -> None:
        """Stop the server (its running children go on, each watching the SuperExec's pid)."""
        server, self._server = self._server, None
        if server is None:
            return
        if server.stdin is not None:
            with contextlib.suppress(OSError):
                server.stdin.close()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
