"""Canonical serialization and the content-addressed store."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from bcfl.models.canonical import CanonicalFormatError, document_hash, from_bytes, model_hash, to_bytes
from bcfl.models.store import ModelStore, ModelStoreError

# A fixed model whose hash is pinned: any change to the format on any machine breaks this test.
FIXED: dict[str, np.ndarray] = {
    "fc.weight": np.arange(6, dtype=np.float32).reshape(2, 3) / 7,
    "fc.bias": np.array([0.5, -1.25], dtype=np.float32),
    "steps": np.array(3, dtype=np.int64),
}
FIXED_HASH = "1fb2af1d271c96fbda2489bf278a3f1de4f6c095449fcc929b361075cfee750d"

arrays_strategy = st.dictionaries(
    st.text(min_size=1, max_size=8),
    hnp.arrays(
        dtype=st.sampled_from([np.float32, np.float64, np.int64, np.uint8]),
        shape=hnp.array_shapes(min_dims=0, max_dims=3, max_side=4),
    ),
    max_size=4,
)


def test_the_hash_of_a_fixed_model_is_stable() -> None:
    assert model_hash(FIXED).hex() == FIXED_HASH


def test_the_layout_is_the_documented_one() -> None:
    """Bytes built by hand from the format description in bcfl.models.canonical."""

    def u64(n: int) -> bytes:
        return n.to_bytes(8, "little")

    expected = (
        b"BCFL-ARRAYS\x00v1" + u64(1)
        + u64(1) + b"w" + u64(3) + b"<f4" + u64(2) + u64(1) + u64(2)
        + u64(8) + np.array([1.0, -2.0], dtype="<f4").tobytes()
    )  # fmt: skip
    assert to_bytes({"w": np.array([[1.0, -2.0]], dtype=np.float32)}) == expected


def test_byte_order_and_memory_layout_do_not_change_the_hash() -> None:
    big_endian = {k: v.astype(v.dtype.newbyteorder(">")) for k, v in FIXED.items()}
    fortran = {k: np.asarray(v, order="F") for k, v in FIXED.items()}
    assert model_hash(big_endian) == model_hash(FIXED) == model_hash(fortran)


def test_names_order_dtype_and_shape_all_count() -> None:
    base = model_hash(FIXED)
    renamed = {("fc.w" if k == "fc.weight" else k): v for k, v in FIXED.items()}
    reordered = dict(reversed(list(FIXED.items())))
    retyped = {**FIXED, "fc.bias": FIXED["fc.bias"].astype(np.float64)}
    reshaped = {**FIXED, "fc.weight": FIXED["fc.weight"].reshape(3, 2)}
    assert (
        len({base, model_hash(renamed), model_hash(reordered), model_hash(retyped), model_hash(reshaped)})
        == 5
    )


@settings(max_examples=60, deadline=None)
@given(arrays=arrays_strategy)
def test_roundtrip(arrays: dict[str, np.ndarray]) -> None:
    back = from_bytes(to_bytes(arrays))
    assert list(back) == list(arrays)
    for name, array in arrays.items():
        assert back[name].shape == array.shape and back[name].dtype == array.dtype.newbyteorder("<")
        np.testing.assert_array_equal(back[name], array)
    assert model_hash(back) == model_hash(arrays)


def test_malformed_bytes_are_refused() -> None:
    blob = to_bytes(FIXED)
    for bad in (b"nope" + blob, blob[:-1], blob + b"\x00"):
        with pytest.raises(CanonicalFormatError):
            from_bytes(bad)
    with pytest.raises(CanonicalFormatError, match="object dtype"):
        to_bytes({"x": np.array([object()])})


def test_store_is_content_addressed_and_verified(tmp_path: Path) -> None:
    store = ModelStore(tmp_path / "models")
    digest = store.put(FIXED)
    assert digest == model_hash(FIXED) and digest in store and store.hashes() == [digest]
    assert store.put(FIXED) == digest  # idempotent
    np.testing.assert_array_equal(store.get(digest)["fc.bias"], FIXED["fc.bias"])
    path = store.path_of(digest)
    path.write_bytes(path.read_bytes()[:-1] + b"\x01")  # tamper with the last byte
    with pytest.raises(ModelStoreError, match="altered"):
        store.get(digest)
    with pytest.raises(ModelStoreError, match="no model"):
        store.get(b"\x00" * 32)


def test_documents_are_stored_beside_the_models_by_document_hash(tmp_path: Path) -> None:
    store = ModelStore(tmp_path / "models")
    document = {"b": [1, 2.5], "a": {"rule": "median"}}
    digest = store.put_document(document)
    path = store.document_path_of(digest)
    assert digest == document_hash(document) and path == store.root / f"0x{digest.hex()}.json"
    assert path.read_bytes() == b'{"a":{"rule":"median"},"b":[1,2.5]}'  # the bytes that are hashed
    assert store.get_document(digest) == document and store.hashes() == []  # models only there
    # An existing file is never rewritten, not even with the same bytes.
    before = path.stat().st_mtime_ns
    os.utime(path, ns=(before - 10**9, before - 10**9))
    assert store.put_document({"a": {"rule": "median"}, "b": [1, 2.5]}) == digest
    assert path.stat().st_mtime_ns == before - 10**9
    path.write_bytes(path.read_bytes().replace(b"median", b"fedavg"))
    with pytest.raises(ModelStoreError, match="altered"):
        store.get_document(digest)
    with pytest.raises(ModelStoreError, match="no document 0x00"):
        store.get_document(b"\x00" * 32)
