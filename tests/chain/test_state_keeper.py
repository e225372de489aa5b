"""The chain's state file survives kills (bcfl.chain.state_keeper): through ``bcfl chain start`` (the
compose ``chain`` service's command; the launcher's AnvilNode saves the same way) killed with SIGKILL,
process group and all, at random moments while blocks are being made, and the atomic replace itself
killed mid-write. Anvil's own ``--state`` rewrote the file in place, and was seen at 0 bytes."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from bcfl.atomic import replace_atomically
from bcfl.chain.anvil import AnvilNode, check_state_file, free_port
from bcfl.chain.jsonrpc import JsonRpc

#: Generous for a loaded machine: a chain start, or a save to show up in the file.
WAIT_S = 60.0


def _block(rpc: JsonRpc) -> int:
    return int(rpc.request("eth_blockNumber", []), 16)


def _saved_block(state: Path) -> int:
    return int(json.loads(state.read_bytes())["best_block_number"])


def _until(what: str, check: Callable[[], bool]) -> None:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except (OSError, ValueError, KeyError):
            pass
        time.sleep(0.05)
    raise AssertionError(f"not within {WAIT_S} s: {what}")


def _saved_block_is(state: Path, block: int) -> Callable[[], bool]:
    return lambda: _saved_block(state) == block


def _start_chain(state: Path, port: int) -> subprocess.Popen[bytes]:
    """``bcfl chain start --state`` in a session of its own (the keeper and its anvil, as a container)."""
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "bcfl"), "chain", "start", f"--state={state}", f"--port={port}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    rpc = JsonRpc(f"http://127.0.0.1:{port}", retries=0)

    def answers() -> bool:
        try:
            _block(rpc)
        except Exception:
            return False
        return True

    _until("the chain answers", answers)
    return process


def _kill(process: subprocess.Popen[bytes]) -> None:
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=WAIT_S)


def test_a_chain_killed_at_random_moments_restarts_from_a_whole_state_with_what_was_saved(
    tmp_path: Path,
) -> None:
    state = tmp_path / "chain" / "state.json"
    state.parent.mkdir()
    port = free_port()
    rpc = JsonRpc(f"http://127.0.0.1:{port}", retries=0)
    chance = random.Random(7)
    saved = reads = 0
    for _ in range(8):
        process = _start_chain(state, port)
        try:
            restarted = _block(rpc)
            assert restarted >= saved  # nothing that was in the file is lost
            rpc.request("anvil_mine", [hex(200)])  # a bigger state each time: longer writes
            saved = _block(rpc)
            _until("the keeper saved the new blocks", _saved_block_is(state, saved))
            # Blocks keep coming (so saves keep happening) and the file is read all along: every read
            # finds a whole state, never one cut by a write; then the kill lands at a random moment.
            deadline = time.monotonic() + chance.uniform(0.5, 2.0)
            while time.monotonic() < deadline:
                rpc.request("anvil_mine", [hex(5)])
                check_state_file(state)
                reads += 1
        finally:
            _kill(process)
        check_state_file(state)  # whole: parses, with a block and accounts
        assert _saved_block(state) >= saved
    assert saved > 1000 and reads > 50


def test_an_anvil_node_saves_its_last_state_when_stopped_and_starts_from_it(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    with AnvilNode(state_path=state, state_interval_s=3600, log_path=tmp_path / "anvil.log") as node:
        rpc = JsonRpc(node.rpc_url)
        rpc.request("anvil_mine", [hex(5)])
        assert _saved_block(state) == 0  # saved once at start; the next save is an hour away
    assert _saved_block(state) == 5  # the last save, at stop
    assert "--load-state" in AnvilNode(state_path=state).command()
    with AnvilNode(state_path=state, log_path=tmp_path / "anvil-2.log") as node:
        assert _block(JsonRpc(node.rpc_url)) == 5


def test_a_cut_state_file_is_refused_in_one_line(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    state.write_bytes(b'{"block": {"number": "0x')
    with pytest.raises(Exception, match="is not an Anvil state file") as refused:
        AnvilNode(state_path=state, log_path=tmp_path / "anvil.log").start()
    assert "\n" not in str(refused.value)


def test_the_replace_killed_mid_write_leaves_the_old_file_or_the_new_one_whole(tmp_path: Path) -> None:
    target = tmp_path / "state.json"
    old, new = b"o" * 4_000_000, b"n" * 40_000_000
    chance = random.Random(11)
    outcomes = set()
    for _ in range(12):
        target.write_bytes(old)
        pid = os.fork()
        if pid == 0:  # the writer, killed at a random moment of its write
            replace_atomically(target, new)
            os._exit(0)
        time.sleep(chance.uniform(0.0, 0.08))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        content = target.read_bytes()
        assert content in (old, new)
        outcomes.add(content == new)
        for stray in tmp_path.glob(".state.json.*.tmp"):
            stray.unlink()
    assert outcomes  # each kill left one of the two whole files
