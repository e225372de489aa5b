"""The ten-SuperNode benchmark's hospitals (scripts/bench_supernodes.py): the thyroid sources split."""

from __future__ import annotations

import csv
from pathlib import Path

from bcfl.demo.thyroid import prepare_thyroid_hospitals
from benchmarks.thyroid_split import PARTS, prepare_split_hospitals, split_names


def test_the_ten_thyroid_hospitals_share_their_sources_rows(tmp_path: Path) -> None:
    names = split_names()
    assert len(names) == sum(PARTS.values()) == 10
    split = {p.name: p for p in prepare_split_hospitals(tmp_path / "split")}
    for site in PARTS:
        (whole,) = prepare_thyroid_hospitals(tmp_path / "whole", [site])
        rows = sorted(map(tuple, list(csv.reader(whole.data.open()))[1:]))
        parts = [n for n, (source, _, _) in names.items() if source == site]
        shared = sorted(row for n in parts for row in map(tuple, list(csv.reader(split[n].data.open()))[1:]))
        assert shared == rows  # every row in exactly one part
        assert all(any(r[-1] == "1" for r in csv.reader(split[n].data.open())) for n in parts)
