"""A node prepares its dataset once: later ClientApp processes read the kept arrays, but only while the
source data, the schema and the split seed are those it was built from, and only if the file is intact
(anything else rebuilds it)."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import numpy as np
import pytest

from bcfl.demo.heart import SCHEMA, prepare_heart_hospitals
from bcfl.learning.data import cache
from bcfl.learning.data.cache import CacheFileError, cache_path, dataset_key, load_prepared_dataset
from bcfl.learning.data.dataset import LocalDataset
from bcfl.learning.data.loader import load_local_dataset, load_schema
from bcfl.learning.errors import DataValidationError
from hospital_node.errors import HospitalNodeError
from hospital_node.settings import parse_node_config


@pytest.fixture
def source(tmp_path: Path) -> Path:
    (prepared,) = prepare_heart_hospitals(tmp_path / "data", ["cleveland"])
    return prepared.data


class CountingLoader:
    """The real loader, counting how often the source is prepared."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, path: Path, schema: object, seed: int = 0) -> LocalDataset:
        self.calls += 1
        return load_local_dataset(path, schema, seed=seed)  # type: ignore[arg-type]


@pytest.fixture
def loader(monkeypatch: pytest.MonkeyPatch) -> CountingLoader:
    counting = CountingLoader()
    monkeypatch.setattr(cache, "load_local_dataset", counting)
    return counting


def _load(source: Path, folder: Path, seed: int = 0, schema_path: Path = SCHEMA) -> LocalDataset:
    return load_prepared_dataset(source, schema_path, load_schema(schema_path), seed, folder)


def _same(a: LocalDataset, b: LocalDataset) -> bool:
    return (
        a.spec == b.spec
        and all(np.array_equal(x, y) for x, y in zip(_arrays(a), _arrays(b), strict=True))
        and all(x.dtype == y.dtype for x, y in zip(_arrays(a), _arrays(b), strict=True))
    )


def _arrays(data: LocalDataset) -> list[np.ndarray]:
    return [data.train.features, data.train.labels, data.test.features, data.test.labels]


def test_the_prepared_dataset_is_reused(source: Path, tmp_path: Path, loader: CountingLoader) -> None:
    direct = load_local_dataset(source, load_schema(SCHEMA), seed=3)
    first = _load(source, tmp_path / "cache", seed=3)
    assert loader.calls == 1
    assert [p.name for p in (tmp_path / "cache").iterdir()] == [
        cache_path(Path(), dataset_key(source, SCHEMA, 3)).name
    ]
    again = _load(source, tmp_path / "cache", seed=3)
    assert loader.calls == 1  # read from the cache, not prepared again
    assert _same(first, direct) and _same(again, direct)


def test_changed_data_schema_or_seed_rebuilds(source: Path, tmp_path: Path, loader: CountingLoader) -> None:
    folder = tmp_path / "cache"
    before = _load(source, folder)
    lines = source.read_text().splitlines()
    source.write_text("\n".join(lines[:-20]) + "\n")  # the hospital's extract changed: 20 patients fewer
    after = _load(source, folder)
    assert loader.calls == 2
    assert len(after.train) + len(after.test) == len(before.train) + len(before.test) - 20
    _load(source, folder, seed=1)
    assert loader.calls == 3
    schema = tmp_path / "schema.json"
    schema.write_text(SCHEMA.read_text() + "\n")  # the same schema, other bytes: a new key all the same
    _load(source, folder, schema_path=schema)
    assert loader.calls == 4
    _load(source, folder)  # the current data, schema and seed: still kept
    assert loader.calls == 4


def test_changed_loader_code_rebuilds(
    source: Path, tmp_path: Path, loader: CountingLoader, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "cache"
    _load(source, folder)
    _load(source, folder)
    assert loader.calls == 1
    monkeypatch.setattr(cache, "loader_code_hash", lambda: b"\x01" * 32)  # another version of the loaders
    _load(source, folder)
    assert loader.calls == 2


@pytest.mark.parametrize("damage", ["flip a byte", "truncate", "empty", "other key's file"])
def test_a_damaged_or_foreign_file_is_never_trusted(
    source: Path, tmp_path: Path, loader: CountingLoader, damage: str, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "cache"
    good = _load(source, folder)
    path = cache_path(folder, dataset_key(source, SCHEMA, 0))
    blob = path.read_bytes()
    if damage == "flip a byte":
        middle = len(blob) // 2
        path.write_bytes(blob[:middle] + bytes([blob[middle] ^ 0xFF]) + blob[middle + 1 :])
    elif damage == "truncate":
        path.write_bytes(blob[: len(blob) - 100])
    elif damage == "empty":
        path.write_bytes(b"")
    else:
        other = _load(source, folder, seed=7)
        assert not _same(other, good)
        shutil.copy(cache_path(folder, dataset_key(source, SCHEMA, 7)), path)
    calls = loader.calls
    with caplog.at_level(logging.WARNING, logger="bcfl.learning.data.cache"):
        rebuilt = _load(source, folder)
    assert loader.calls == calls + 1
    assert _same(rebuilt, good)
    assert "rebuilding the prepared dataset" in caplog.text
    assert _same(_load(source, folder), good)  # the rebuilt file is intact again
    assert loader.calls == calls + 1


def test_decode_names_what_is_wrong(source: Path, tmp_path: Path) -> None:
    key = dataset_key(source, SCHEMA, 0)
    blob = cache.encode(key, load_local_dataset(source, load_schema(SCHEMA)))
    assert _same(cache.decode(key, blob), load_local_dataset(source, load_schema(SCHEMA)))
    with pytest.raises(CacheFileError, match="other data"):
        cache.decode(bytes(32), blob)
    with pytest.raises(CacheFileError, match="do not match their hash"):
        cache.decode(key, blob[:-1])
    with pytest.raises(CacheFileError, match="not a prepared dataset"):
        cache.decode(key, b"PK" + blob)


def test_an_image_folder_is_keyed_by_every_file(tmp_path: Path) -> None:
    folder = tmp_path / "images"
    (folder / "a").mkdir(parents=True)
    (folder / "labels.csv").write_text("file,label\na/1.png,x\n")
    (folder / "a" / "1.png").write_bytes(b"one")
    schema = tmp_path / "schema.json"
    schema.write_text("{}")
    key = dataset_key(folder, schema, 0)
    (folder / "a" / "2.png").write_bytes(b"two")
    added = dataset_key(folder, schema, 0)
    (folder / "a" / "2.png").write_bytes(b"TWO")
    changed = dataset_key(folder, schema, 0)
    (folder / "a" / "2.png").rename(folder / "a" / "3.png")
    renamed = dataset_key(folder, schema, 0)
    assert len({key, added, changed, renamed}) == 4


def test_a_cache_that_cannot_be_written_costs_time_only(
    source: Path, tmp_path: Path, loader: CountingLoader
) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the cache folder should be")
    first = _load(source, blocked)
    second = _load(source, blocked)
    assert loader.calls == 2
    assert _same(first, second)


def test_a_missing_source_is_named_by_the_loader(tmp_path: Path) -> None:
    with pytest.raises(DataValidationError, match="does not exist"):
        _load(tmp_path / "missing.csv", tmp_path / "cache")
    assert not (tmp_path / "cache").exists()


def test_node_config_cache_dir_and_torch_threads(tmp_path: Path) -> None:
    base = {
        "data-path": "data.csv",
        "schema-path": "schema.json",
        "signer-socket": str(tmp_path / "state" / "signer" / "agent.sock"),
        "proofs-dir": str(tmp_path / "state" / "proofs"),
        "rpc-url": "http://127.0.0.1:8545",
        "manifest": "deployment.json",
    }
    settings = parse_node_config(base)
    assert settings.cache_folder() == tmp_path / "state" / "cache"  # beside the proofs
    assert settings.threads() == 1
    assert "torch-threads" not in settings.node_config()  # unset options stay out of the rendered config
    chosen = parse_node_config({**base, "cache-dir": str(tmp_path / "c"), "torch-threads": "2"})
    assert (chosen.cache_folder(), chosen.threads()) == (tmp_path / "c", 2)
    assert parse_node_config({**base, "cache-dir": ""}).cache_folder() == tmp_path / "state" / "cache"
    with pytest.raises(HospitalNodeError, match="'torch-threads' is invalid"):
        parse_node_config({**base, "torch-threads": "0"})


def test_data_changed_while_it_is_read_is_refused_and_never_kept(
    source: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "cache"
    before = _load(source, folder)
    kept = sorted(folder.iterdir())
    rows = source.read_text().splitlines()

    def appending_loader(path: Path, schema: object, seed: int = 0) -> LocalDataset:
        """The real loader, with the extract still being written by the hospital's export meanwhile."""
        data = load_local_dataset(path, schema, seed=seed)  # type: ignore[arg-type]
        with path.open("a") as extract:
            extract.write("\n".join(rows[1:11]) + "\n")
        return data

    source.write_text("\n".join(rows[:-10]) + "\n")  # the export starts again
    monkeypatch.setattr(cache, "load_local_dataset", appending_loader)
    changed = "changed while it was read"
    with (
        caplog.at_level(logging.INFO, logger=cache.__name__),
        pytest.raises(cache.DataChangedError, match=changed) as refused,
    ):
        _load(source, folder)
    assert str(source) in str(refused.value) and "\n" not in str(refused.value)
    assert "changed since the dataset was last prepared" in caplog.text  # the node says its data changed
    assert sorted(folder.iterdir()) == kept  # the half-read data was not kept
    monkeypatch.setattr(cache, "load_local_dataset", load_local_dataset)
    after = _load(source, folder)  # the export done: the whole extract, prepared and kept
    assert len(after.train) + len(after.test) == len(before.train) + len(before.test)
    assert len(list(folder.iterdir())) == 2
