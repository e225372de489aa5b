"""The benchmark consortia: 4 or 8 hospitals from the real heart-disease and thyroid data.

Four sites are the data sets' own: the four UCI centres, or the four largest Garvan referral
sources. Eight sites split the larger ones in parts, stratified by label (train and test
separately), so every site still holds only its own source's patients: each heart centre in two,
and the thyroid sources ``other`` in three and ``SVI`` in two, with SVHC, STMW and SVHD whole.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

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


def _deal(examples: Examples, parts: int, seed: int) -> list[Examples]:
    """``examples`` dealt out to ``parts`` disjoint shards, label by label in a seeded order: each shard
    holds ``len(examples) // parts`` examples or one more, with about the same share of positives."""
    shuffled = np.random.default_rng(seed).permutation(len(examples))
    order = shuffled[np.argsort(examples.labels[shuffled], kind="stable")]
    return [
        Examples(examples.features[order[i::parts]], examples.labels[order[i::parts]]) for i in range(parts)
    ]


def _shares(sizes: dict[str, int], count: int) -> dict[str, int]:
    """``count`` parts shared among the sites in proportion to ``sizes`` (at least one each, at most
    ``sizes[site]``), the rounding difference given to the largest site."""
    total = sum(sizes.values())
    shares = {name: min(size, max(1, round(count * size / total))) for name, size in sizes.items()}
    largest = max(sizes, key=lambda name: sizes[name])
    shares[largest] += count - sum(shares.values())
    if not 1 <= shares[largest] <= sizes[largest]:
        raise ValueError(f"cannot split {total} examples' sites into {count} shards")
    return shares


def thyroid_shards(count: int, seed: int = 0) -> dict[str, LocalDataset]:
    """``count`` virtual hospitals from the real Garvan thyroid table: each of its five referral
    sources (train and held-out test splits alike) dealt out to a number of shards in proportion to
    its size, so a shard holds patients of one source only (``garvan-other-17``, ...)."""
    folder = Path(tempfile.mkdtemp(prefix="bcfl-thyroid-"))
    prepared = prepare_thyroid_hospitals(folder, list(THYROID_EIGHT_PARTS))
    data = {p.name: load_local_dataset(p.data, load_schema(p.schema)) for p in prepared}
    if count < len(data):
        raise ValueError(f"{count} hospitals: give at least {len(data)}, one per thyroid referral source")
    # Every shard needs a train and a test example: a source gives at most as many shards as its
    # smaller split has examples.
    shares = _shares({name: min(len(d.train), len(d.test)) for name, d in data.items()}, count)
    sites: dict[str, LocalDataset] = {}
    for name, site in data.items():
        parts = shares[name]
        trains, tests = _deal(site.train, parts, seed), _deal(site.test, parts, seed)
        sites.update({f"{name}-{i + 1}": LocalDataset(trains[i], tests[i], site.spec) for i in range(parts)})
    return sites
