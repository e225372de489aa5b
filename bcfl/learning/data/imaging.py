"""Read a hospital's image folder (PNG, JPEG or DICOM, with a labels CSV) into model-ready arrays.

Every image is converted to the schema's channels, resized to its square size and scaled to
[0, 1]. DICOM images of 8 bits or fewer (RGB or grayscale secondary captures, photographs) hold
display values and are scaled like a PNG (by 255 at 8 bits), which keeps their colours. Deeper
grayscale DICOM (CT, MR, X-ray) gets its modality rescale (slope/intercept) and is min-max scaled
per image (it has no fixed display range across scanners). MONOCHROME1 is inverted either way.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

import numpy as np
import pandas as pd
from PIL import Image, UnidentifiedImageError

from bcfl.learning.data.dataset import Examples, LocalDataset, split_dataset
from bcfl.learning.data.image_schema import ImageSchema
from bcfl.learning.errors import DataValidationError

#: File name suffixes read as DICOM; everything else goes through Pillow (PNG, JPEG, TIFF, ...).
DICOM_SUFFIXES = {".dcm", ".dicom"}
_SHOWN = 5


def _listed(items: list[str]) -> str:
    shown = ", ".join(items[:_SHOWN])
    return shown + (f" and {len(items) - _SHOWN} more" if len(items) > _SHOWN else "")


def _dicom_pixels(path: Path) -> np.ndarray:
    import pydicom  # imported on first use: most sites never read DICOM
    from pydicom.errors import InvalidDicomError

    try:
        dataset = pydicom.dcmread(path)
        pixels = dataset.pixel_array.astype(np.float64)
    except (InvalidDicomError, AttributeError, ValueError, RuntimeError) as exc:
        raise ValueError(f"not a readable DICOM image ({type(exc).__name__})") from None
    if pixels.ndim == 4 or (pixels.ndim == 3 and int(dataset.get("SamplesPerPixel", 1)) == 1):
        raise ValueError("multi-frame DICOM is not supported: export one frame per file")
    monochrome1 = dataset.get("PhotometricInterpretation") == "MONOCHROME1"
    bits = int(dataset.get("BitsStored", 16))
    if bits <= 8 and not int(dataset.get("PixelRepresentation", 0)):
        # Display values, as in a PNG: a per-image min-max stretch would change an RGB image's colours.
        pixels = pixels / float(2**bits - 1)
        return 1 - pixels if monochrome1 else pixels
    pixels = pixels * float(dataset.get("RescaleSlope", 1)) + float(dataset.get("RescaleIntercept", 0))
    if monochrome1:
        pixels = pixels.max() - pixels
    low, high = float(pixels.min()), float(pixels.max())
    return (pixels - low) / (high - low) if high > low else np.zeros_like(pixels)


def read_image(path: Path, channels: int, size: int) -> np.ndarray:
    """One image as float32 ``(channels, size, size)`` in [0, 1]; ValueError if unreadable."""
    if path.suffix.lower() in DICOM_SUFFIXES:
        pixels = _dicom_pixels(path)
        image = Image.fromarray(np.round(pixels * 255).astype(np.uint8))
    else:
        try:
            with Image.open(path) as opened:
                image = opened.copy()
        except (UnidentifiedImageError, Image.DecompressionBombError, OSError) as exc:
            raise ValueError(f"not a readable image ({type(exc).__name__})") from None
    image = image.convert("L" if channels == 1 else "RGB")
    if image.size != (size, size):
        image = image.resize((size, size), Image.Resampling.BILINEAR)
    array = np.asarray(image, dtype=np.float32) / 255.0
    return array[None] if channels == 1 else array.transpose(2, 0, 1)


def _safe_relative(name: str) -> bool:
    path = PurePosixPath(name)
    return bool(name) and not path.is_absolute() and ".." not in path.parts


def read_labels(folder: Path, schema: ImageSchema) -> pd.DataFrame:
    """The labels CSV, checked: columns, classes, file names that stay inside the folder."""
    path = folder / schema.labels_file
    source = str(folder)
    if not folder.is_dir():
        raise DataValidationError(source, ["the image folder does not exist"])
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except FileNotFoundError:
        raise DataValidationError(source, [f"the labels file {schema.labels_file} is missing"]) from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise DataValidationError(
            source, [f"{schema.labels_file} is not a readable CSV ({type(exc).__name__})"]
        ) from None
    missing = [c for c in (schema.file_column, schema.label_column) if c not in table.columns]
    if missing:
        raise DataValidationError(source, [f"{schema.labels_file}: missing columns: {', '.join(missing)}"])
    return table


def load_image_folder(
    folder: Path, schema: ImageSchema, test_fraction: float = 1 / 3, seed: int = 0
) -> LocalDataset:
    """Read, check, resize and split a hospital's image folder; refuses bad data with a full report."""
    table = read_labels(folder, schema)
    files, labels = table[schema.file_column].str.strip(), table[schema.label_column].str.strip()
    problems: list[str] = []
    rows = [str(i + 2) for i in range(len(table))]  # +2: header line, 1-based
    unknown = [row for row, label in zip(rows, labels, strict=True) if label not in schema.classes]
    if unknown:
        problems.append(
            f"{schema.labels_file}: a label outside the schema's classes in rows {_listed(unknown)}"
        )
    unsafe = [row for row, name in zip(rows, files, strict=True) if not _safe_relative(name)]
    if unsafe:
        problems.append(
            f"{schema.labels_file}: file names must be relative, inside the folder: rows {_listed(unsafe)}"
        )
    duplicated = [row for row, dup in zip(rows, files.duplicated(), strict=True) if dup]
    if duplicated:
        problems.append(f"{schema.labels_file}: the same file listed twice in rows {_listed(duplicated)}")
    images: list[np.ndarray] = []
    absent: list[str] = []
    unreadable: list[str] = []
    for row, name in zip(rows, files, strict=True):
        if not _safe_relative(name):
            continue
        path = folder / name
        if not path.is_file():
            absent.append(row)
            continue
        try:
            images.append(read_image(path, schema.channels, schema.image_size))
        except ValueError as exc:
            unreadable.append(f"{row} ({exc})")
    if absent:
        problems.append(f"image files missing for rows {_listed(absent)}")
    if unreadable:
        problems.append(f"unreadable images in rows {_listed(unreadable)}")
    counts = labels.value_counts()
    thin = [c for c in schema.classes if counts.get(c, 0) < schema.min_per_class]
    if thin and not unknown:
        problems.append(f"classes with fewer than {schema.min_per_class} images: {', '.join(thin)}")
    if len(table) < schema.min_images:
        problems.append(f"{len(table)} images, need at least {schema.min_images}")
    if problems:
        raise DataValidationError(str(folder), problems)
    index = {name: i for i, name in enumerate(schema.classes)}
    examples = Examples(np.stack(images).astype(np.float32), labels.map(index).to_numpy(dtype=np.float32))
    return split_dataset(examples, schema.model_spec(), test_fraction, seed)
