"""The benchmark consortia: 4 or 8 hospitals from the real heart-disease and thyroid data.

Four sites are the data sets' own: the four UCI centres, or the four largest Garvan referral
sources. Eight sites split the larger ones in parts, stratified by label (train and test
separately), so every site still holds only its own source's patients: each heart centre in two,
and the thyroid sources ``other`` in three and ``SVI`` in two, with SVHC, STMW and SVHD whole.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from bcfl.demo.thyroid import prepare_thyroid_hospitals
from bcfl.learning.data.dataset import Examples, LocalDataset, split_indices
from bcfl.learning.data.loader import load_local_dataset, load_schema
from benchmarks.federated import centre_datasets

THYROID_FOUR = ["garvan-other", "garvan-svi", "garvan-svhc", "garvan-stmw"]
THYROID_EIGHT_PARTS = {
    "garvan-other": 3,
    "garvan-svi": 2,
    "garvan-svhc": 1,
    "garvan-stmw": 1,
    "garvan-svhd": 1,
}


def _parts(examples: Examples, parts: int, seed: int) -> list[Examples]:
    """``parts`` stratified, disjoint pieces of ``examples``."""
    pieces = []
    rest = examples
    for remaining in range(parts, 1, -1):
        taken, kept = split_indices(rest.labels, 1 / remaining, seed)
        pieces.append(Examples(rest.features[kept], rest.labels[kept]))
        rest = Examples(rest.features[taken], rest.labels[taken])
    return [*pieces, rest]


def split_site(name: str, data: LocalDataset, parts: int, seed: int = 0) -> dict[str, LocalDataset]:
    """One site as ``parts`` sites (``<name>-1``, ...), its train and test splits divided alike."""
    if parts == 1:
        return {name: data}
    trains, tests = _parts(data.train, parts, seed), _parts(data.test, parts, seed)
    return {f"{name}-{i + 1}": LocalDataset(trains[i], tests[i], data.spec) for i in range(parts)}


def heart_sites(count: int) -> dict[str, LocalDataset]:
    """The four UCI centres (``count`` 4), or each split in two (``count`` 8)."""
    centres = centre_datasets()
    if count == 4:
        return centres
    sites: dict[str, LocalDataset] = {}
    for name, data in centres.items():
        sites.update(split_site(name, data, 2))
    return sites


def thyroid_sites(count: int) -> dict[str, LocalDataset]:
    """The four largest referral sources (``count`` 4), or eight sites (see the module docstring)."""
    folder = Path(tempfile.mkdtemp(prefix="bcfl-thyroid-"))
    names = THYROID_FOUR if count == 4 else list(THYROID_EIGHT_PARTS)
    prepared = prepare_thyroid_hospitals(folder, names)
    data = {p.name: load_local_dataset(p.data, load_schema(p.schema)) for p in prepared}
    if count == 4:
        return data
    sites: dict[str, LocalDataset] = {}
    for name, site in data.items():
        sites.update(split_site(name, site, THYROID_EIGHT_PARTS[name]))
    return sites
