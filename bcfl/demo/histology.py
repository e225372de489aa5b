"""Prepare the imaging demo hospitals from the real immunohistochemistry slide in ``skimage.data``.

No real medical image set loads offline here, so the imaging demo uses the one real stained
tissue image that ships with scikit-image: ``skimage.data.immunohistochemistry()``, a 512 x 512
colon section stained for a protein with DAB (brown) and counterstained with haematoxylin (blue).

How the labels are derived (they are NOT a pathologist's annotation):

- the slide is cut into non-overlapping 28 x 28 patches (18 x 18 = 324 patches);
- each pixel's DAB optical density comes from colour deconvolution (``skimage.color.rgb2hed``);
- a patch is ``dab-positive`` when at least half of its pixels have a DAB density above 0.04,
  else ``dab-negative``. The task is thus "is this patch stained tissue", a stand-in for
  IHC positivity scoring.

The slide is split into three vertical bands, one per hospital, so the sites differ the way real
sites do (tissue mix and label balance: about 81%, 60% and 43% positive). Each hospital keeps its
patches in a different format, as real sites would: PNG, JPEG and DICOM, with a ``labels.csv``.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import numpy as np
from PIL import Image

from bcfl.demo.heart import PreparedHospital
from bcfl.learning.data.loader import shared_schema_path

PATCH = 28
DAB_THRESHOLD = 0.04
POSITIVE_FRACTION = 0.5
#: Demo hospital → (band of patch columns, image format).
SITES: dict[str, tuple[range, str]] = {
    "riverside": (range(0, 6), "png"),
    "hillcrest": (range(6, 12), "jpeg"),
    "lakeside": (range(12, 18), "dicom"),
}
SCHEMA = shared_schema_path("ihc_patches")


def labelled_patches() -> list[tuple[int, int, np.ndarray, str]]:
    """Every patch of the slide as (row, column, RGB uint8 patch, label)."""
    from skimage.color import rgb2hed
    from skimage.data import immunohistochemistry

    slide = immunohistochemistry()  # type: ignore[no-untyped-call]  # skimage has no annotations here
    dab = rgb2hed(slide)[..., 2]
    patches = []
    for row in range(slide.shape[0] // PATCH):
        for col in range(slide.shape[1] // PATCH):
            window = np.s_[row * PATCH : (row + 1) * PATCH, col * PATCH : (col + 1) * PATCH]
            stained = float((dab[window] > DAB_THRESHOLD).mean())
            label = "dab-positive" if stained >= POSITIVE_FRACTION else "dab-negative"
            patches.append((row, col, slide[window].copy(), label))
    return patches


def _write_dicom(path: Path, patch: np.ndarray, key: str) -> None:
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, SecondaryCaptureImageStorage, generate_uid

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = SecondaryCaptureImageStorage
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    dataset = Dataset()
    dataset.file_meta = meta
    dataset.SOPClassUID = SecondaryCaptureImageStorage
    # Deterministic UIDs, so preparing twice writes the same files; no patient: a demo specimen.
    dataset.SOPInstanceUID = generate_uid(entropy_srcs=["bcfl-demo-ihc", key])
    meta.MediaStorageSOPInstanceUID = dataset.SOPInstanceUID
    dataset.StudyInstanceUID = generate_uid(entropy_srcs=["bcfl-demo-ihc-study"])
    dataset.SeriesInstanceUID = generate_uid(entropy_srcs=["bcfl-demo-ihc-series"])
    dataset.Modality = "OT"
    dataset.PatientName = "DEMO^SKIMAGE^IHC"
    dataset.PatientID = "demo"
    dataset.set_pixel_data(patch, "RGB", 8, generate_instance_uid=False)
    dataset.save_as(path, enforce_file_format=True)


def _write(path: Path, patch: np.ndarray, fmt: str, key: str) -> None:
    if fmt == "dicom":
        _write_dicom(path, patch, key)
    elif fmt == "jpeg":
        Image.fromarray(patch).save(path, quality=95)
    else:
        Image.fromarray(patch).save(path)


def prepare_ihc_hospitals(out: Path, hospitals: list[str] | None = None) -> list[PreparedHospital]:
    """Write ``out/<hospital>/images/`` (patches + ``labels.csv``) and ``schema.json`` per hospital."""
    patches = labelled_patches()
    suffix = {"png": "png", "jpeg": "jpg", "dicom": "dcm"}
    prepared = []
    for name in hospitals or list(SITES):
        band, fmt = SITES[name]
        folder = out / name
        images = folder / "images"
        if images.exists():
            shutil.rmtree(images)
        images.mkdir(parents=True)
        rows = []
        for row, col, patch, label in patches:
            if col in band:
                file = f"patch-r{row:02d}-c{col:02d}.{suffix[fmt]}"
                _write(images / file, patch, fmt, f"{name}/{file}")
                rows.append((file, label))
        with open(images / "labels.csv", "w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["file", "label"])
            writer.writerows(rows)
        shutil.copyfile(SCHEMA, folder / "schema.json")
        prepared.append(PreparedHospital(name, images, folder / "schema.json", len(rows)))
    return prepared
