"""A full disk under the model store and the journal (a real tmpfs of a few hundred KiB, filled up):
one clear error, no file cut short, no stray temporary, and what was there before still whole."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from bcfl.models.store import ModelStore, ModelStoreError
from coordinator.journal import JournalWriteError, RunJournal


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 256 KiB tmpfs, unmounted afterwards."""
    mount = tmp_path / "disk"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount)], check=True)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=True)


def _fill(disk: Path, leave: int) -> None:
    """Fill ``disk`` until about ``leave`` bytes are free."""
    filler = disk / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        while True:
            try:
                os.write(fd, b"\0" * 4096)
            except OSError:
                break
        os.ftruncate(fd, max(os.fstat(fd).st_size - leave, 0))
    finally:
        os.close(fd)


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_a_model_that_does_not_fit_is_one_clear_error_and_no_file(small_disk: Path) -> None:
    store = ModelStore(small_disk / "models")
    small = {"w": np.arange(16, dtype=np.float32)}
    kept = store.put(small)
    _fill(small_disk, leave=8192)
    big = {"w": np.ones(64_000, dtype=np.float32)}  # 256 KB: more than is left
    with pytest.raises(ModelStoreError) as refused:
        store.put(big)
    message = str(refused.value)
    assert "No space left on device" in message and "free space" in message and "\n" not in message
    assert [p.name for p in (small_disk / "models").iterdir()] == [store.path_of(kept).name]
    assert np.array_equal(store.get(kept)["w"], small["w"])  # still whole, still verified


def test_a_journal_that_does_not_fit_keeps_its_last_state(small_disk: Path) -> None:
    journal = RunJournal(small_disk / "run" / "rounds.json")
    journal.round(1)["note"] = "first"
    journal.save()
    before = (small_disk / "run" / "rounds.json").read_bytes()
    _fill(small_disk, leave=4096)
    journal.round(2)["evaluation"] = {"padding": "x" * 200_000}
    with pytest.raises(JournalWriteError) as refused:
        journal.save()
    assert "No space left on device" in str(refused.value) and "\n" not in str(refused.value)
    assert (small_disk / "run" / "rounds.json").read_bytes() == before
    assert json.loads(before)[0]["note"] == "first" and _leftovers(small_disk / "run") == []
    # Space freed: the next save writes everything the journal holds.
    (small_disk / "filler").unlink()
    journal.save()
    assert [r["chain_round"] for r in RunJournal(small_disk / "run" / "rounds.json").rounds] == [1, 2]
