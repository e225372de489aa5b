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
from typing import BinaryIO

import pytest

from bcfl.atomic import replace_atomically
from bcfl.chain.anvil import AnvilError, AnvilNode, check_state_file, free_port
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
            for _ in range(chance.randint(20, 120)):
                rpc.request("anvil_mine", [hex(5)])
                check_state_file(state)
                reads += 1
        finally:
            _kill(process)
        check_state_file(state)  # whole: parses, with a block and accounts
        assert _saved_block(state) >= saved
    assert saved > 1000 and reads >= 160


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


def test_a_killed_anvil_node_starts_again_on_its_port_from_the_state_saved_last(tmp_path: Path) -> None:
    """kill() is a crash: nothing saved on the way down (blocks after the last save are gone, which is
    why the keeper saves every second), and start() brings the node back at the same address."""
    state = tmp_path / "state.json"
    node = AnvilNode(state_path=state, state_interval_s=3600, log_path=tmp_path / "anvil.log").start()
    try:
        rpc = JsonRpc(node.rpc_url)
        rpc.request("anvil_mine", [hex(5)])
        node.kill()
        assert not node.running and _saved_block(state) == 0  # saved at start only
        node.start()
        assert _block(JsonRpc(node.rpc_url)) == 0
        rpc.request("anvil_mine", [hex(2)])
    finally:
        node.stop()
    assert _saved_block(state) == 2


def test_a_cut_state_file_is_refused_in_one_line(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    state.write_bytes(b'{"block": {"number": "0x')
    with pytest.raises(Exception, match="is not an Anvil state file") as refused:
        AnvilNode(state_path=state, log_path=tmp_path / "anvil.log").start()
    assert "\n" not in str(refused.value)


class _HalfWriter:
    """A file object whose write stops half-way, says so, and waits there to be killed."""

    def __init__(self, handle: BinaryIO, parked: Callable[[], None]) -> None:
        self.handle, self.parked = handle, parked

    def __enter__(self) -> _HalfWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.handle.close()

    def write(self, data: bytes) -> None:
        self.handle.write(data[: len(data) // 2])
        self.handle.flush()
        self.parked()


@pytest.mark.parametrize("stop_at", ["write", "replace"])
def test_the_replace_killed_mid_write_leaves_the_old_file_whole(tmp_path: Path, stop_at: str) -> None:
    """The writer is killed at a known point: half-way through writing the temporary (``write``), or
    with the temporary whole and flushed, just before the rename (``replace``)."""
    target = tmp_path / "state.json"
    old, new = b"o" * 1_000_000, b"n" * 4_000_000
    target.write_bytes(old)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the writer: it says where it is, then waits there for its kill
        os.close(read)

        def parked(*args: object) -> None:
            os.write(write, b"x")
            time.sleep(3600)

        if stop_at == "write":
            real_fdopen = os.fdopen
            os.fdopen = lambda fd, mode: _HalfWriter(real_fdopen(fd, mode), parked)  # type: ignore[assignment,arg-type]
        else:
            os.replace = parked  # type: ignore[assignment]
        replace_atomically(target, new)
        os._exit(0)
    os.close(write)
    assert os.read(read, 1) == b"x"  # the writer reached that point
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    os.close(read)
    assert target.read_bytes() == old  # untouched: the rename never happened
    (stray,) = tmp_path.glob(".state.json.*.tmp")
    assert stray.stat().st_size == (len(new) // 2 if stop_at == "write" else len(new))
    replace_atomically(target, new)  # the same write, not killed, replaces the file whole
    assert target.read_bytes() == new


def test_a_state_that_cannot_be_saved_stops_the_chain_with_one_line(tmp_path: Path) -> None:
    disk = tmp_path / "disk"
    disk.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16k", "tmpfs", str(disk)], check=True)
    try:
        fd = os.open(disk / "filler", os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            while os.write(fd, b"\0" * 1024):  # until the disk is full: ENOSPC ends it
                pass
        except OSError:
            pass
        finally:
            os.close(fd)
        node = AnvilNode(state_path=disk / "state.json", log_path=tmp_path / "anvil.log")
        with pytest.raises(AnvilError) as refused:
            node.start()
        assert "cannot save the chain's state" in str(refused.value) and "No space left" in str(refused.value)
        assert "\n" not in str(refused.value) and not node.running  # no anvil left behind
        assert not list(disk.glob("*state.json*"))
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=True)
