"""Ten demo hospitals from the real Garvan thyroid referrals: the referral sources of
:mod:`bcfl.demo.thyroid` with the larger ones split further, each row going to one part in turn
(row ``i`` of a source to part ``i mod k``), so that every part keeps its source's mix of cases.

``other`` (5,493 rows) makes four hospitals, ``SVI`` (2,394) and ``SVHC`` (956) two each,
``STMW`` (255) and ``SVHD`` (71) one each: every hospital holds at least six hypothyroid cases.
"""

from __future__ import annotations

import csv
import dataclasses
import tempfile
from pathlib import Path

from bcfl.demo.consortia import THYROID
from bcfl.demo.heart import PreparedHospital
from bcfl.demo.thyroid import prepare_thyroid_hospitals
from bcfl.learning.errors import LearningError

#: Source site (bcfl.demo.thyroid.SITES) -> how many hospitals its rows make.
PARTS = {"garvan-other": 4, "garvan-svi": 2, "garvan-svhc": 2, "garvan-stmw": 1, "garvan-svhd": 1}


def split_names() -> dict[str, tuple[str, int, int]]:
    """Each split hospital's name -> (source site, its part, the source's parts)."""
    names = {}
    for site, parts in PARTS.items():
        for part in range(parts):
            names[site if parts == 1 else f"{site}-{part + 1}"] = (site, part, parts)
    return names


def prepare_split_hospitals(out: Path, hospitals: list[str] | None = None) -> list[PreparedHospital]:
    """Write ``out/<hospital>/data.csv`` and ``schema.json``: the hospital's share of its source's rows."""
    names = split_names()
    prepared = []
    for name in hospitals or list(names):
        if name not in names:
            raise LearningError(f"unknown split thyroid hospital {name!r}; choose from {', '.join(names)}")
        site, part, parts = names[name]
        (source,) = prepare_thyroid_hospitals(Path(tempfile.mkdtemp(prefix="bcfl-thyroid-")), [site])
        with source.data.open(newline="") as handle:
            header, *rows = list(csv.reader(handle))
        mine = rows[part::parts]
        folder = out / name
        folder.mkdir(parents=True, exist_ok=True)
        with (folder / "data.csv").open("w", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(header)
            writer.writerows(mine)
        (folder / "schema.json").write_bytes(source.schema.read_bytes())
        prepared.append(PreparedHospital(name, folder / "data.csv", folder / "schema.json", len(mine)))
    return prepared


THYROID_SPLIT = dataclasses.replace(
    THYROID,
    name="thyroid-split",
    description="Garvan thyroid referrals, the larger referral sources split: ten hospitals",
    hospitals=tuple(split_names()),
    prepare=prepare_split_hospitals,
)
