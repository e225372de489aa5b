"""Prepare the demo hospitals from the real UCI Heart Disease data of its four centres.

The raw files ship inside the PyPI package ``fedimpute`` (installed without its dependencies);
each centre becomes a hospital folder that looks exactly like a real hospital's extract: a CSV
with a header row and the consortium's schema beside it.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from bcfl.demo.packaged import packaged_file
from bcfl.learning.data.loader import shared_schema_path

COLUMNS = [
    "age",
    "sex",
    "cp",
    "trestbps",
    "chol",
    "fbs",
    "restecg",
    "thalach",
    "exang",
    "oldpeak",
    "slope",
    "ca",
    "thal",
    "num",
]
#: Demo hospital → the UCI centre file it is made from.
CENTRES = {
    "cleveland": "processed.cleveland.data",
    "hungary": "processed.hungarian.data",
    "switzerland": "processed.switzerland.data",
    "va-long-beach": "processed.va.data",
}
SCHEMA = shared_schema_path("uci_heart_disease")


@dataclass(frozen=True)
class PreparedHospital:
    """A demo hospital's local folder."""

    name: str
    data: Path
    schema: Path
    rows: int


def raw_file(name: str) -> Path:
    """Path of a raw UCI file inside the installed fedimpute distribution."""
    return packaged_file(
        "fedimpute", f"fedimpute/data_prep/example_data/heart_disease/{name}", "raw UCI files"
    )


def prepare_heart_hospitals(out: Path, hospitals: list[str] | None = None) -> list[PreparedHospital]:
    """Write ``out/<hospital>/data.csv`` and ``schema.json`` for each demo hospital."""
    prepared = []
    for name in hospitals or list(CENTRES):
        folder = out / name
        folder.mkdir(parents=True, exist_ok=True)
        lines = [line.strip() for line in raw_file(CENTRES[name]).read_text().splitlines() if line.strip()]
        (folder / "data.csv").write_text(",".join(COLUMNS) + "\n" + "\n".join(lines) + "\n")
        shutil.copyfile(SCHEMA, folder / "schema.json")
        prepared.append(PreparedHospital(name, folder / "data.csv", folder / "schema.json", len(lines)))
    return prepared
