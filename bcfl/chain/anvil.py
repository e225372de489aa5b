"""Start and stop a local Anvil node (npm ``@foundry-rs/anvil``) for the demo and the tests."""

from __future__ import annotations

import json
import logging
import signal
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import requests

from bcfl.chain.exceptions import ChainError
from bcfl.chain.state_keeper import StateKeeper
from bcfl.paths import node_bin

logger = logging.getLogger(__name__)


class AnvilError(ChainError):
    """Anvil could not be started or did not answer."""


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


#: What to do about a live chain's state file that is not a whole state.
LIVE_STATE_FIX = "restore it from a copy, or move it away to start a new chain"


def check_state_file(path: Path, fix: str = "give the chain/state.json a run left") -> None:
    """Refuse, in one line ending with ``fix``, a path that is not an Anvil state file."""
    try:
        with path.open("rb") as file:
            state = json.load(file)
    except FileNotFoundError:
        raise AnvilError(f"no state file at {path}: {fix}") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise AnvilError(f"{path} is not an Anvil state file ({type(exc).__name__}): {fix}") from None
    if not isinstance(state, dict) or not {"block", "accounts"} <= state.keys():
        raise AnvilError(f"{path} is not an Anvil state file (no block and accounts): {fix}")


class AnvilNode:
    """An Anvil process on a free loopback port, optionally persisting its state to a file.

    With ``state_path``, Anvil loads the file at start (when present), and the node's state is saved
    to it every ``state_interval_s`` seconds while it changes and once more when stopped, so a
    restarted node keeps its history. The saving is the project's (:mod:`bcfl.chain.state_keeper`:
    dumped over JSON-RPC, replaced atomically), not Anvil's ``--state``, which rewrites the file in
    place: a kill during that write left it empty.
    With ``load_state`` instead, Anvil starts from a saved state file and never writes it (Anvil's
    ``--load-state``): the way to reopen a finished run's chain, which is evidence. What happens on
    such a node is lost when it stops. ``gas_limit`` sets the block gas limit (Anvil's default is
    30,000,000): the scale benchmark's thousand-member rounds need more.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int | None = None,
        chain_id: int = 31337,
        state_path: Path | None = None,
        load_state: Path | None = None,
        state_interval_s: int = 1,
        block_time_s: float | None = None,
        gas_limit: int | None = None,
        log_path: Path | None = None,
        startup_timeout_s: float = 30.0,
    ) -> None:
        self.host = host
        self.port = port or free_port(host)
        self.chain_id = chain_id
        if state_path is not None and load_state is not None:
            raise AnvilError("give a state file to keep (state_path) or one to read (load_state), not both")
        self.state_path = state_path
        self.load_state = load_state
        self.state_interval_s = state_interval_s
        self.block_time_s = block_time_s
        self.gas_limit = gas_limit
        self.log_path = log_path
        self.startup_timeout_s = startup_timeout_s
        self._process: subprocess.Popen[bytes] | None = None
        self._keeper: StateKeeper | None = None

    @property
    def rpc_url(self) -> str:
        """HTTP JSON-RPC URL of the node."""
        return f"http://{self.host}:{self.port}"

    def command(self) -> list[str]:
        """The anvil command line."""
        cmd = [
            str(node_bin("anvil")),
            "--host",
            self.host,
            "--port",
            str(self.port),
            "--chain-id",
            str(self.chain_id),
            # Old blocks' states are never written to disk (~/.foundry/anvil/tmp): a long run (the
            # robustness benchmark's tens of thousands of blocks) filled 67 GB there. Nothing here
            # reads state at an old block; events, receipts and the latest state are all kept.
            "--max-persisted-states",
            "0",
        ]
        if self.state_path is not None and self.state_path.exists():
            cmd += ["--load-state", str(self.state_path)]  # saved by this node's StateKeeper, not by Anvil
        if self.load_state is not None:
            cmd += ["--load-state", str(self.load_state)]
        if self.block_time_s is not None:
            cmd += ["--block-time", str(self.block_time_s)]
        if self.gas_limit is not None:
            cmd += ["--gas-limit", str(self.gas_limit)]
        return cmd

    def start(self) -> AnvilNode:
        """Start anvil and wait until it answers ``eth_chainId``."""
        binary = node_bin("anvil")
        if not binary.exists():
            raise AnvilError(f"anvil not found at {binary}: run `make setup` (npm ci) first")
        if self.state_path is not None:
            self.state_path.parent.mkdir(parents=True, exist_ok=True)
            if self.state_path.exists():
                check_state_file(self.state_path, LIVE_STATE_FIX)
        if self.load_state is not None:
            check_state_file(self.load_state)
        log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        self._process = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + self.startup_timeout_s
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise AnvilError(f"anvil exited with code {self._process.returncode} (see {self.log_path})")
            if self._answers():
                logger.info("anvil answering at %s (chain id %d)", self.rpc_url, self.chain_id)
                if self.state_path is not None:
                    self._start_keeper(self.state_path)
                return self
            time.sleep(0.05)
        self.stop()
        raise AnvilError(f"anvil did not answer at {self.rpc_url} within {self.startup_timeout_s}s")

    def _start_keeper(self, state_path: Path) -> None:
        """Save the state now and every interval; if even the first save fails, stop anvil (nothing
        left running) and say why in one line."""
        try:
            self._keeper = StateKeeper(self.rpc_url, state_path, self.state_interval_s).start()
        except (ChainError, OSError) as exc:
            self.stop()
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise AnvilError(f"cannot save the chain's state to {state_path}: {reason}") from None

    def _answers(self) -> bool:
        body: dict[str, Any] = {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}
        try:
            return requests.post(self.rpc_url, json=body, timeout=1).ok
        except requests.RequestException:
            return False

    def stop(self, timeout_s: float = 15.0) -> bool:
        """Save the state a last time (with ``state_path``), then stop anvil gracefully (SIGINT), killing
        it after ``timeout_s``. Whether the last state was saved (True without ``state_path``)."""
        keeper, self._keeper = self._keeper, None
        saved = keeper.stop() if keeper is not None else True
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return saved
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            logger.warning("anvil did not stop within %ss; killing it", timeout_s)
            process.kill()
            process.wait()
        return saved

    def kill(self) -> None:
        """SIGKILL anvil, as a crash or a power cut would (the fault tests and the soak): nothing is
        saved on the way down, so the state file holds the last state the keeper saved (at most
        ``state_interval_s`` old), and :meth:`start` brings the node back from it."""
        keeper, self._keeper = self._keeper, None
        process, self._process = self._process, None
        if process is not None:
            process.kill()
            process.wait()
        if keeper is not None:
            keeper.stop(last_save=False)

    def hold_state(self) -> bool:
        """Save the state a last time and leave the file as it is from then on, the node running on: a
        kill then loses all the chain does after this call, as a kill right after a save loses up to
        an interval (the fault tests' way to lose a known stretch). Whether the last save was written;
        :meth:`start` after a kill saves again."""
        keeper, self._keeper = self._keeper, None
        return keeper.stop() if keeper is not None else False

    @property
    def running(self) -> bool:
        """Whether the process is alive."""
        return self._process is not None and self._process.poll() is None

    def __enter__(self) -> AnvilNode:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
