"""Imaging: real IHC patches as PNG / JPEG / DICOM folders and as a MedMNIST-format .npz.

The demo images are the real immunohistochemistry slide shipped with scikit-image, cut into
28 x 28 patches (see bcfl/demo/histology.py). Every expectation here is derived from those patches.
"""

from __future__ import annotations

import csv
import re
import sys
from pathlib import Path

import medmnist
import numpy as np
import pytest
import torch
from PIL import Image
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid
from skimage.color import rgb2hed
from sklearn.metrics import roc_auc_score  # type: ignore[import-untyped]
from typer.testing import CliRunner

from bcfl.cli.main import app
from bcfl.demo.histology import DAB_THRESHOLD, SCHEMA, SITES, labelled_patches, prepare_ihc_hospitals
from bcfl.learning.data import imaging
from bcfl.learning.data.dataset import Examples, LocalDataset, ModelSpec, split_indices
from bcfl.learning.data.image_schema import ImageSchema
from bcfl.learning.data.imaging import read_image
from bcfl.learning.data.loader import load_local_dataset, load_schema
from bcfl.learning.errors import DataValidationError, LearningError
from bcfl.learning.task import PatchCNN, build_model, evaluate, train

SUFFIX = {"png": ".png", "jpeg": ".jpg", "dicom": ".dcm"}
_POSITION = re.compile(r"patch-r(\d+)-c(\d+)\.")
Patches = dict[tuple[int, int], tuple[np.ndarray, str]]


@pytest.fixture(scope="module")
def patches() -> Patches:
    return {(row, col): (patch, label) for row, col, patch, label in labelled_patches()}


@pytest.fixture(scope="module")
def sites(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("ihc")
    return {h.name: h.data for h in prepare_ihc_hospitals(out)}


@pytest.fixture(scope="module")
def schema() -> ImageSchema:
    loaded = load_schema(SCHEMA)
    assert isinstance(loaded, ImageSchema)
    return loaded


@pytest.fixture(scope="module")
def datasets(sites: dict[str, Path], schema: ImageSchema) -> dict[str, LocalDataset]:
    return {name: load_local_dataset(folder, schema) for name, folder in sites.items()}


def _position(path: Path | str) -> tuple[int, int]:
    match = _POSITION.search(Path(path).name)
    assert match is not None, path
    return int(match[1]), int(match[2])


def _labels_csv(folder: Path) -> list[dict[str, str]]:
    with (folder / "labels.csv").open(newline="") as handle:
        return list(csv.DictReader(handle))


def _chw(patch: np.ndarray) -> np.ndarray:
    """An RGB uint8 patch as the loader's float (3, H, W) in [0, 1]."""
    return patch.transpose(2, 0, 1).astype(np.float32) / 255.0


def _pool(splits: list[Examples]) -> Examples:
    return Examples(np.concatenate([s.features for s in splits]), np.concatenate([s.labels for s in splits]))


# --- 1. the prepared demo sites ----------------------------------------------------------------


def test_demo_sites_load_as_model_ready_arrays(
    sites: dict[str, Path], datasets: dict[str, LocalDataset], schema: ImageSchema, patches: Patches
) -> None:
    assert sites.keys() == SITES.keys()
    index = {name: i for i, name in enumerate(schema.classes)}
    for name, folder in sites.items():
        band, fmt = SITES[name]
        rows = _labels_csv(folder)
        files = sorted(p.name for p in folder.iterdir() if p.name != "labels.csv")
        assert files == sorted(row["file"] for row in rows)
        assert all(f.endswith(SUFFIX[fmt]) for f in files)
        # The labels are the derived ones of the patch at that position, and the band is the site's.
        for row in rows:
            r, c = _position(row["file"])
            assert c in band and row["label"] == patches[(r, c)][1]

        data = datasets[name]
        labels = np.array([index[row["label"]] for row in rows], dtype=np.float32)
        assert len(data.train) + len(data.test) == len(rows)
        assert data.spec == ModelSpec((schema.channels, schema.image_size, schema.image_size), 2)
        for split in (data.train, data.test):
            assert split.features.shape == (len(split), 3, 28, 28)
            assert split.features.dtype == np.float32 and split.labels.dtype == np.float32
            assert split.features.min() >= 0.0 and split.features.max() <= 1.0
            assert set(np.unique(split.labels)) <= {0.0, 1.0}
        assert set(np.unique(data.test.labels)) == {0.0, 1.0}  # stratified: both classes held out
        pooled = np.concatenate([data.train.labels, data.test.labels])
        assert np.array_equal(np.bincount(pooled.astype(int)), np.bincount(labels.astype(int)))

        # The split is split_indices over the CSV's rows, and each example is its row's image.
        train_rows, test_rows = split_indices(labels, 1 / 3, seed=0)
        assert np.array_equal(data.train.labels, labels[train_rows])
        assert np.array_equal(data.test.labels, labels[test_rows])
        originals = np.stack([_chw(patches[_position(row["file"])][0]) for row in rows])
        for split, chosen in ((data.train, train_rows), (data.test, test_rows)):
            error = np.abs(split.features - originals[chosen])
            if fmt == "jpeg":  # lossy, but close
                assert error.mean() < 0.02 and error.max() < 0.15, (error.mean(), error.max())
            else:
                assert error.max() < 1e-6, (name, error.max())


def test_sites_are_not_identically_distributed(datasets: dict[str, LocalDataset]) -> None:
    positive = {
        name: float(np.concatenate([d.train.labels, d.test.labels]).mean()) for name, d in datasets.items()
    }
    assert positive["riverside"] > positive["hillcrest"] > positive["lakeside"]


# --- 2. image fidelity: DICOM and JPEG --------------------------------------------------------


def test_rgb_dicom_reads_as_the_original_patch(sites: dict[str, Path], patches: Patches) -> None:
    files = sorted(sites["lakeside"].glob("*.dcm"))
    assert len(files) == len(_labels_csv(sites["lakeside"]))
    for path in files:
        patch = patches[_position(path)][0]
        # 8-bit RGB: colours kept (no per-image contrast stretch), the same as a PNG would give.
        assert np.abs(read_image(path, 3, 28) - _chw(patch)).max() < 1e-6, path.name
        gray = np.asarray(Image.fromarray(patch).convert("L"), dtype=np.float32) / 255.0
        assert np.abs(read_image(path, 1, 28)[0] - gray).max() < 1e-6, path.name
    # Resizing goes through the same path as any other image.
    halved = read_image(files[0], 3, 14)
    expected = np.asarray(
        Image.fromarray(patches[_position(files[0])][0]).resize((14, 14), Image.Resampling.BILINEAR)
    )
    assert halved.shape == (3, 14, 14) and np.abs(halved - _chw(expected)).max() < 1e-6


def test_jpeg_reads_close_to_the_original_patch(sites: dict[str, Path], patches: Patches) -> None:
    for path in sorted(sites["hillcrest"].glob("*.jpg")):
        error = np.abs(read_image(path, 3, 28) - _chw(patches[_position(path)][0]))
        assert error.mean() < 0.02 and error.max() < 0.15, (path.name, error.mean(), error.max())


def _write_gray_dicom(
    path: Path, pixels: np.ndarray, photometric: str, bits: int, slope: float = 1.0, intercept: float = 0.0
) -> None:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = CTImageStorage
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    dataset = Dataset()
    dataset.file_meta = meta
    dataset.SOPClassUID = CTImageStorage
    dataset.SOPInstanceUID = generate_uid()
    meta.MediaStorageSOPInstanceUID = dataset.SOPInstanceUID
    dataset.Modality = "CT"
    dataset.set_pixel_data(pixels, photometric, bits, generate_instance_uid=False)
    dataset.RescaleSlope = slope
    dataset.RescaleIntercept = intercept
    dataset.save_as(path, enforce_file_format=True)


@pytest.fixture(scope="module")
def gray_patch(patches: Patches) -> np.ndarray:
    """A real patch in grayscale (uint8), the content of the grayscale DICOM tests."""
    patch = next(p for p, label in patches.values() if label == "dab-positive")
    return np.asarray(Image.fromarray(patch).convert("L"))


def test_16_bit_grayscale_dicom_is_rescaled_and_min_max_scaled(
    gray_patch: np.ndarray, tmp_path: Path
) -> None:
    stored = gray_patch.astype(np.uint16) * 200 + 100  # CT-like: uses far more than 8 bits
    slope, intercept = 0.5, -1024.0
    _write_gray_dicom(tmp_path / "m2.dcm", stored, "MONOCHROME2", 16, slope, intercept)
    _write_gray_dicom(tmp_path / "m1.dcm", stored, "MONOCHROME1", 16, slope, intercept)
    values = stored.astype(np.float64) * slope + intercept
    expected = (values - values.min()) / (values.max() - values.min())

    monochrome2 = read_image(tmp_path / "m2.dcm", 1, 28)
    assert monochrome2.shape == (1, 28, 28) and monochrome2.dtype == np.float32
    assert np.abs(monochrome2[0] - expected).max() <= 0.5 / 255 + 1e-6
    assert monochrome2.min() == 0.0 and monochrome2.max() == 1.0
    # MONOCHROME1: the same stored values mean the opposite (high = dark).
    monochrome1 = read_image(tmp_path / "m1.dcm", 1, 28)
    assert np.abs(monochrome1[0] - (1 - expected)).max() <= 0.5 / 255 + 1e-6
    # A three-channel schema gets the grayscale repeated.
    as_rgb = read_image(tmp_path / "m2.dcm", 3, 28)
    assert as_rgb.shape == (3, 28, 28) and all(np.array_equal(as_rgb[k], monochrome2[0]) for k in range(3))


def test_8_bit_grayscale_dicom_reads_like_a_png(gray_patch: np.ndarray, tmp_path: Path) -> None:
    _write_gray_dicom(tmp_path / "m2.dcm", gray_patch, "MONOCHROME2", 8)
    _write_gray_dicom(tmp_path / "m1.dcm", gray_patch, "MONOCHROME1", 8)
    Image.fromarray(gray_patch).save(tmp_path / "same.png")
    png = read_image(tmp_path / "same.png", 1, 28)
    assert np.abs(png[0] - gray_patch / 255.0).max() < 1e-6
    assert np.abs(read_image(tmp_path / "m2.dcm", 1, 28) - png).max() < 1e-6
    assert np.abs(read_image(tmp_path / "m1.dcm", 1, 28) - (1 - png)).max() < 1e-6


def test_unreadable_and_multi_frame_dicom(gray_patch: np.ndarray, tmp_path: Path) -> None:
    _write_gray_dicom(tmp_path / "frames.dcm", np.stack([gray_patch, gray_patch]), "MONOCHROME2", 8)
    with pytest.raises(ValueError, match="multi-frame DICOM is not supported"):
        read_image(tmp_path / "frames.dcm", 1, 28)
    (tmp_path / "text.dcm").write_text("not a DICOM file")
    with pytest.raises(ValueError, match="not a readable DICOM image"):
        read_image(tmp_path / "text.dcm", 1, 28)


# --- 3. bad folders: one report, every problem, no values -------------------------------------


def _write_folder(
    folder: Path, patches: Patches, count: int, labels: list[str] | None = None
) -> list[list[str]]:
    """``count`` real patches as PNG with their labels (or ``labels``); returns the CSV rows."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for i, ((r, c), (patch, label)) in enumerate(sorted(patches.items())[:count]):
        name = f"patch-r{r:02d}-c{c:02d}.png"
        Image.fromarray(patch).save(folder / name)
        rows.append([name, labels[i] if labels else label])
    return rows


def _write_labels(folder: Path, rows: list[list[str]], header: tuple[str, str] = ("file", "label")) -> None:
    with (folder / "labels.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def _problems(folder: Path, schema: ImageSchema) -> list[str]:
    with pytest.raises(DataValidationError) as caught:
        load_local_dataset(folder, schema)
    assert caught.value.source == str(folder)
    assert str(caught.value).startswith(f"{folder} cannot be used for training:")
    return caught.value.problems


def test_every_problem_in_one_report_and_nothing_outside_is_read(
    patches: Patches, schema: ImageSchema, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "site"
    rows = _write_folder(folder, patches, 8)
    outside = tmp_path / "outside.png"  # a real, readable image outside the folder
    Image.fromarray(next(iter(patches.values()))[0]).save(outside)
    (folder / "broken.png").write_text("SECRET-NOTE not an image")
    rows += [
        [rows[0][0], rows[0][1]],  # the same file twice
        ["missing.png", "dab-negative"],
        ["broken.png", "dab-positive"],
        [str(outside), "dab-positive"],
        ["../outside.png", "dab-negative"],
        ["sub/../../outside.png", "dab-negative"],
        [rows[1][0].replace("r00", "r99"), "dab-unknown-grade"],  # missing and a bad label
    ]
    _write_labels(folder, rows)
    line = {i: str(i + 2) for i in range(len(rows))}  # CSV line numbers: header is line 1
    read: list[Path] = []
    real_read = imaging.read_image

    def recording(path: Path, channels: int, size: int) -> np.ndarray:
        read.append(path)
        return real_read(path, channels, size)

    monkeypatch.setattr(imaging, "read_image", recording)
    problems = _problems(folder, schema)

    assert problems == [
        f"labels.csv: a label outside the schema's classes in rows {line[14]}",
        "labels.csv: file names must be relative, inside the folder: rows "
        f"{line[11]}, {line[12]}, {line[13]}",
        f"labels.csv: the same file listed twice in rows {line[8]}",
        f"image files missing for rows {line[9]}, {line[14]}",
        f"unreadable images in rows {line[10]} (not a readable image (UnidentifiedImageError))",
        f"{len(rows)} images, need at least {schema.min_images}",
    ]
    # Refused paths were never opened; everything read is inside the folder.
    assert read and all(path.resolve().is_relative_to(folder.resolve()) for path in read)
    assert outside not in read
    report = "\n".join(problems)
    assert "SECRET" not in report and "dab-unknown-grade" not in report  # no values, only rows


def test_long_lists_are_shortened(patches: Patches, schema: ImageSchema, tmp_path: Path) -> None:
    rows = _write_folder(tmp_path, patches, 40)
    rows += [[f"gone-{i}.png", "dab-positive"] for i in range(8)]
    _write_labels(tmp_path, rows)
    lines = [str(i + 2) for i in range(40, 48)]
    assert _problems(tmp_path, schema) == [f"image files missing for rows {', '.join(lines[:5])} and 3 more"]


def test_a_thin_class_is_refused(patches: Patches, schema: ImageSchema, tmp_path: Path) -> None:
    thin = schema.min_per_class - 1
    count = max(schema.min_images, 2 * schema.min_per_class)
    labels = [schema.classes[0]] * thin + [schema.classes[1]] * (count - thin)
    _write_labels(tmp_path, _write_folder(tmp_path, patches, count, labels))
    assert _problems(tmp_path, schema) == [
        f"classes with fewer than {schema.min_per_class} images: {schema.classes[0]}"
    ]
    # One more image of that class and the folder is accepted.
    labels[thin] = schema.classes[0]
    _write_labels(tmp_path, _write_folder(tmp_path, patches, count, labels))
    data = load_local_dataset(tmp_path, schema)
    assert len(data.train) + len(data.test) == count


def test_missing_folder_labels_file_and_columns(
    patches: Patches, schema: ImageSchema, tmp_path: Path
) -> None:
    assert _problems(tmp_path / "nowhere", schema) == ["the image folder does not exist"]
    folder = tmp_path / "site"
    rows = _write_folder(folder, patches, schema.min_images)
    assert _problems(folder, schema) == ["the labels file labels.csv is missing"]
    _write_labels(folder, rows, header=("filename", "diagnosis"))
    assert _problems(folder, schema) == ["labels.csv: missing columns: file, label"]
    _write_labels(folder, rows, header=("file", "diagnosis"))
    assert _problems(folder, schema) == ["labels.csv: missing columns: label"]
    (folder / "labels.csv").write_bytes(b"\xff\xfe\x00garbage\xff")
    assert _problems(folder, schema) == ["labels.csv is not a readable CSV (UnicodeDecodeError)"]


# --- 4. MedMNIST-format .npz ------------------------------------------------------------------

BREAST = medmnist.INFO["breastmnist"]
BREAST_CLASSES = tuple(BREAST["label"][str(i)] for i in range(len(BREAST["label"])))


@pytest.fixture(scope="module")
def breast_arrays(patches: Patches) -> dict[str, np.ndarray]:
    """MedMNIST's layout (uint8 (N, 28, 28) images, (N, 1) labels), filled with the real IHC patches.

    This is a *format* fixture: the content is the IHC patches in grayscale with their derived
    labels (1 = dab-positive), not BreastMNIST's ultrasound images.
    """
    values = list(patches.values())
    images = np.stack([np.asarray(Image.fromarray(patch).convert("L")) for patch, _ in values])
    labels = np.array([[label == "dab-positive"] for _, label in values], dtype=np.uint8)
    order = np.random.default_rng(0).permutation(len(values))
    parts = {"train": order[:200], "val": order[200:240], "test": order[240:]}
    arrays = {}
    for split, chosen in parts.items():
        arrays[f"{split}_images"], arrays[f"{split}_labels"] = images[chosen], labels[chosen]
    return arrays


def _npz(folder: Path, name: str, arrays: dict[str, np.ndarray]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    with path.open("wb") as handle:
        np.savez(handle, **arrays)  # type: ignore[arg-type]  # numpy's stub wants one positional array
    return path


@pytest.fixture
def breast_schema() -> ImageSchema:
    return ImageSchema(
        modality="image",
        name="breast",
        image_size=28,
        channels=1,
        classes=BREAST_CLASSES,
        medmnist_flag="breastmnist",
    )


def test_medmnist_npz_loads_train_val_as_train(
    breast_arrays: dict[str, np.ndarray],
    breast_schema: ImageSchema,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = _npz(tmp_path, "breastmnist.npz", breast_arrays)
    schema_file = tmp_path / "schema.json"
    schema_file.write_text(breast_schema.model_dump_json())
    schema = load_schema(schema_file)
    assert schema == breast_schema

    data = load_local_dataset(path, schema)
    train_images = np.concatenate([breast_arrays["train_images"], breast_arrays["val_images"]])
    train_labels = np.concatenate([breast_arrays["train_labels"], breast_arrays["val_labels"]]).ravel()
    assert data.spec == ModelSpec((1, 28, 28), 2)
    assert data.train.features.shape == (len(train_images), 1, 28, 28)
    assert data.test.features.shape == (len(breast_arrays["test_images"]), 1, 28, 28)
    assert data.train.features.dtype == data.test.features.dtype == np.float32
    assert np.abs(data.train.features[:, 0] - train_images / 255.0).max() < 1e-6
    assert np.abs(data.test.features[:, 0] - breast_arrays["test_images"] / 255.0).max() < 1e-6
    assert np.array_equal(data.train.labels, train_labels.astype(np.float32))
    assert np.array_equal(data.test.labels, breast_arrays["test_labels"].ravel().astype(np.float32))
    assert capsys.readouterr().out == ""


def test_medmnist_import_noise_stays_off_stdout(
    breast_arrays: dict[str, np.ndarray],
    breast_schema: ImageSchema,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # medmnist prints (does not raise) when an optional import fails: make one fail on a fresh import.
    for name in [m for m in sys.modules if m == "medmnist" or m.startswith("medmnist.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "sklearn.metrics", None)
    data = load_local_dataset(_npz(tmp_path, "breastmnist.npz", breast_arrays), breast_schema)
    assert len(data.test) == len(breast_arrays["test_labels"])
    assert capsys.readouterr().out == ""


def _refusal(path: Path, schema: ImageSchema) -> list[str]:
    with pytest.raises(DataValidationError) as caught:
        load_local_dataset(path, schema)
    assert caught.value.source == str(path)
    return caught.value.problems


def test_medmnist_mismatches_are_refused(
    breast_arrays: dict[str, np.ndarray],
    breast_schema: ImageSchema,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    good = _npz(tmp_path / "good", "breastmnist.npz", breast_arrays)
    other = ("benign", "malignant")
    assert _refusal(good, breast_schema.model_copy(update={"classes": other})) == [
        f"classes {list(BREAST_CLASSES)} differ from the schema's {list(other)}"
    ]
    assert _refusal(good, breast_schema.model_copy(update={"channels": 3})) == [
        "1 channels, the schema wants 3"
    ]
    assert _refusal(good, breast_schema.model_copy(update={"image_size": 64})) == [
        "28-pixel images, the schema wants 64"
    ]
    big = _npz(tmp_path / "big", "breastmnist_64.npz", breast_arrays)  # the name says 64 pixels
    assert _refusal(big, breast_schema) == ["64-pixel images, the schema wants 28"]
    odd = _npz(tmp_path / "odd", "breastmnist_32.npz", breast_arrays)  # MedMNIST has no 32-pixel files
    assert _refusal(odd, breast_schema.model_copy(update={"image_size": 32})) == [
        "MedMNIST 'breastmnist' has no 32-pixel version (only [28, 64, 128, 224])"
    ]
    pneumonia = _npz(tmp_path / "pneumonia", "pneumoniamnist.npz", breast_arrays)
    assert "the file is MedMNIST 'pneumoniamnist', the schema wants 'breastmnist'" in _refusal(
        pneumonia, breast_schema
    )
    chest = _npz(tmp_path / "chest", "chestmnist.npz", breast_arrays)
    chest_labels = medmnist.INFO["chestmnist"]["label"]
    chest_classes = tuple(chest_labels[str(i)] for i in range(len(chest_labels)))
    chest_schema = breast_schema.model_copy(update={"medmnist_flag": "chestmnist", "classes": chest_classes})
    assert _refusal(chest, chest_schema) == [
        f"MedMNIST 'chestmnist' is a {medmnist.INFO['chestmnist']['task']} task; "
        "only single-label tasks train here"
    ]
    assert _refusal(_npz(tmp_path / "x", "breast.npz", breast_arrays), breast_schema) == [
        "a MedMNIST file is named <flag>.npz or <flag>_<size>.npz"
    ]
    assert _refusal(_npz(tmp_path / "y", "fakemnist.npz", breast_arrays), breast_schema) == [
        "'fakemnist' is not a MedMNIST data set"
    ]
    assert _refusal(tmp_path / "empty" / "breastmnist.npz", breast_schema) == ["the file does not exist"]
    assert capsys.readouterr().out == ""


def test_medmnist_contents_must_match_the_name(
    breast_arrays: dict[str, np.ndarray], breast_schema: ImageSchema, tmp_path: Path
) -> None:
    # 32-pixel images in a file whose name says 28, and a label that is not a class index.
    resized = {
        k: np.stack([np.asarray(Image.fromarray(a).resize((32, 32))) for a in v])
        if k.endswith("images")
        else v
        for k, v in breast_arrays.items()
    }
    path = _npz(tmp_path / "resized", "breastmnist.npz", resized)
    assert _refusal(path, breast_schema) == [
        f"{split}: images of shape (1, 32, 32), the schema wants (1, 28, 28)"
        for split in ("train", "val", "test")
    ]
    relabelled = dict(breast_arrays, test_labels=breast_arrays["test_labels"] + 1)
    path = _npz(tmp_path / "relabelled", "breastmnist.npz", relabelled)
    assert _refusal(path, breast_schema) == ["test: labels outside 0..1"]
    no_val = {k: v for k, v in breast_arrays.items() if not k.startswith("val")}
    with pytest.raises(LearningError, match="is not a readable MedMNIST file"):
        load_local_dataset(_npz(tmp_path / "no-val", "breastmnist.npz", no_val), breast_schema)


# --- 5. models --------------------------------------------------------------------------------


def test_build_model_shapes() -> None:
    batch = torch.zeros(5, 3, 28, 28)
    binary = build_model(ModelSpec((3, 28, 28), 2))
    assert isinstance(binary, PatchCNN) and binary(batch).shape == (5,)
    assert build_model(ModelSpec((3, 28, 28), 3))(batch).shape == (5, 3)
    assert build_model(ModelSpec((1, 64, 64), 4))(torch.zeros(2, 1, 64, 64)).shape == (2, 4)
    # The same seed initialises the same model on every site.
    again = build_model(ModelSpec((3, 28, 28), 2))
    assert all(
        torch.equal(a, b)
        for a, b in zip(binary.state_dict().values(), again.state_dict().values(), strict=True)
    )
    for spec in (
        ModelSpec((3, 28, 32), 2),
        ModelSpec((10,), 3),
        ModelSpec((1, 8, 8, 8), 2),
        ModelSpec((3, 28), 2),
    ):
        with pytest.raises(ValueError, match="no model for inputs"):
            build_model(spec)


def test_pooled_patch_cnn_beats_majority_class(datasets: dict[str, LocalDataset]) -> None:
    train_set = _pool([d.train for d in datasets.values()])
    test_set = _pool([d.test for d in datasets.values()])
    majority = max(test_set.labels.mean(), 1 - test_set.labels.mean())
    model = build_model(next(iter(datasets.values())).spec)
    before = evaluate(model, test_set)
    train(model, train_set, epochs=10, lr=0.003, batch_size=32, seed=0)
    metrics = evaluate(model, test_set)
    # At least half the majority baseline's errors removed, and a clearly useful ranking.
    assert metrics["accuracy"] >= 1 - (1 - majority) / 2 and metrics["auroc"] > 0.9, (metrics, majority)
    assert metrics["loss"] < before["loss"]


def test_three_class_staining_grade(patches: Patches) -> None:
    # Three grades of the real patches: terciles of the DAB-stained fraction (as in histology.py).
    values = list(patches.values())
    fraction = np.array([(rgb2hed(patch)[..., 2] > DAB_THRESHOLD).mean() for patch, _ in values])
    labels = np.digitize(fraction, np.quantile(fraction, [1 / 3, 2 / 3])).astype(np.float32)
    assert np.bincount(labels.astype(int)).min() >= len(values) // 4  # three real, balanced-ish grades
    features = np.stack([_chw(patch) for patch, _ in values])
    train_rows, test_rows = split_indices(labels, 1 / 3, seed=0)
    test_set = Examples(features[test_rows], labels[test_rows])
    model = build_model(ModelSpec((3, 28, 28), 3))
    train(
        model, Examples(features[train_rows], labels[train_rows]), epochs=10, lr=0.003, batch_size=32, seed=0
    )
    metrics = evaluate(model, test_set)
    majority = np.bincount(test_set.labels.astype(int)).max() / len(test_set)
    assert metrics["accuracy"] > majority + 0.25 and metrics["auroc"] > 0.85, (metrics, majority)
    # The metrics are cross-entropy and scikit-learn's macro one-vs-rest AUROC on the same outputs.
    with torch.no_grad():
        logits = model(torch.from_numpy(test_set.features))
    target = torch.from_numpy(test_set.labels).long()
    assert metrics["loss"] == pytest.approx(
        float(torch.nn.functional.cross_entropy(logits, target)), rel=1e-5
    )
    probabilities = torch.softmax(logits, dim=1).numpy()
    assert metrics["auroc"] == pytest.approx(
        roc_auc_score(test_set.labels, probabilities, multi_class="ovr", average="macro"), abs=1e-9
    )
    predicted = probabilities.argmax(axis=1)
    assert metrics["accuracy"] == pytest.approx(float((predicted == test_set.labels).mean()))


# --- 6. bcfl node check -----------------------------------------------------------------------


def test_node_check_cli(
    sites: dict[str, Path],
    datasets: dict[str, LocalDataset],
    breast_arrays: dict[str, np.ndarray],
    breast_schema: ImageSchema,
    patches: Patches,
    tmp_path: Path,
) -> None:
    runner = CliRunner()
    data = datasets["lakeside"]
    ok = runner.invoke(app, ["node", "check", "--data", str(sites["lakeside"]), "--schema", str(SCHEMA)])
    assert ok.exit_code == 0, ok.output
    assert (
        f"ok: {len(data.train)} train / {len(data.test)} test examples, input 3x28x28, 2 classes" in ok.output
    )

    npz = _npz(tmp_path / "npz", "breastmnist.npz", breast_arrays)
    schema_file = tmp_path / "breast.json"
    schema_file.write_text(breast_schema.model_dump_json())
    n_train = len(breast_arrays["train_labels"]) + len(breast_arrays["val_labels"])
    n_test = len(breast_arrays["test_labels"])
    ok = runner.invoke(app, ["node", "check", "--data", str(npz), "--schema", str(schema_file)])
    assert ok.exit_code == 0, ok.output
    assert f"ok: {n_train} train / {n_test} test examples, input 1x28x28, 2 classes" in ok.output
    assert "Please install" not in ok.output

    bad = tmp_path / "bad"
    rows = _write_folder(bad, patches, 3)
    _write_labels(bad, [*rows, ["../escape.png", "dab-positive"]])
    result = runner.invoke(app, ["node", "check", "--data", str(bad), "--schema", str(SCHEMA)])
    assert result.exit_code == 1, result.output
    assert "cannot be used for training" in result.output and "file names must be relative" in result.output
    assert "Traceback" not in result.output and isinstance(result.exception, SystemExit)


def test_prepare_is_repeatable(sites: dict[str, Path], tmp_path: Path) -> None:
    again = {h.name: h.data for h in prepare_ihc_hospitals(tmp_path, ["lakeside"])}
    first, second = sites["lakeside"], again["lakeside"]
    names = sorted(p.name for p in first.iterdir())
    assert names == sorted(p.name for p in second.iterdir())
    assert all((first / n).read_bytes() == (second / n).read_bytes() for n in names)  # deterministic UIDs too
