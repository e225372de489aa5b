"""Read a MedMNIST-format ``.npz`` (``<flag>.npz`` or ``<flag>_<size>.npz``) with ``medmnist``, offline.

The file's train and validation splits become the hospital's training data and its test split the
held-out data. Nothing is ever downloaded: the file must already be in the hospital's folder.
"""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path
from typing import Any

import numpy as np

from bcfl.learning.data.dataset import Examples, LocalDataset
from bcfl.learning.data.image_schema import ImageSchema
from bcfl.learning.errors import DataValidationError, LearningError

_NAME = re.compile(r"^(?P<flag>[a-z0-9]+mnist)(?:_(?P<size>\d+))?$")
SUPPORTED_TASKS = {"multi-class", "binary-class", "ordinal-regression"}


def _medmnist() -> Any:
    # medmnist prints (never raises) when one of its optional imports fails; keep that off stdout.
    with contextlib.redirect_stdout(io.StringIO()):
        import medmnist
    return medmnist


def _check(
    path: Path, schema: ImageSchema, info: dict[str, Any], flag: str, size: int, sizes: list[int]
) -> None:
    problems: list[str] = []
    if schema.medmnist_flag and flag != schema.medmnist_flag:
        problems.append(f"the file is MedMNIST {flag!r}, the schema wants {schema.medmnist_flag!r}")
    if info["task"] not in SUPPORTED_TASKS:
        problems.append(f"MedMNIST {flag!r} is a {info['task']} task; only single-label tasks train here")
    if int(info["n_channels"]) != schema.channels:
        problems.append(f"{info['n_channels']} channels, the schema wants {schema.channels}")
    if size != schema.image_size:
        problems.append(f"{size}-pixel images, the schema wants {schema.image_size}")
    elif size not in sizes:
        problems.append(f"MedMNIST {flag!r} has no {size}-pixel version (only {sizes})")
    names = tuple(info["label"][str(i)] for i in range(len(info["label"])))
    if names != schema.classes:
        problems.append(f"classes {list(names)} differ from the schema's {list(schema.classes)}")
    if problems:
        raise DataValidationError(str(path), problems)


def _examples(dataset: Any) -> Examples:
    images = np.asarray(dataset.imgs, dtype=np.float32) / 255.0
    images = images[:, None] if images.ndim == 3 else images.transpose(0, 3, 1, 2)
    return Examples(images, np.asarray(dataset.labels).reshape(-1).astype(np.float32))


def load_medmnist(path: Path, schema: ImageSchema) -> LocalDataset:
    """A hospital's MedMNIST ``.npz``, checked against the schema (flag, task, channels, size, classes)."""
    match = _NAME.match(path.stem)
    if match is None:
        raise DataValidationError(str(path), ["a MedMNIST file is named <flag>.npz or <flag>_<size>.npz"])
    if not path.is_file():
        raise DataValidationError(str(path), ["the file does not exist"])
    medmnist = _medmnist()
    flag, size = match["flag"], int(match["size"] or 28)
    if flag not in medmnist.INFO:
        raise DataValidationError(str(path), [f"{flag!r} is not a MedMNIST data set"])
    info = medmnist.INFO[flag]
    reader = getattr(medmnist, info["python_class"])
    _check(path, schema, info, flag, size, list(reader.available_sizes))
    try:
        splits = {
            split: _examples(reader(split=split, root=str(path.parent), size=size, download=False))
            for split in ("train", "val", "test")
        }
    except (KeyError, ValueError, OSError) as exc:
        raise LearningError(f"{path} is not a readable MedMNIST file ({type(exc).__name__})") from None
    spec = schema.model_spec()
    wrong = [
        f"{split}: images of shape {tuple(data.features.shape[1:])}, the schema wants {spec.input_shape}"
        for split, data in splits.items()
        if data.features.shape[1:] != spec.input_shape
    ] + [
        f"{split}: labels outside 0..{spec.num_classes - 1}"
        for split, data in splits.items()
        if not np.isin(data.labels, np.arange(spec.num_classes)).all()
    ]
    if wrong:
        raise DataValidationError(str(path), wrong)
    train = Examples(
        np.concatenate([splits["train"].features, splits["val"].features]),
        np.concatenate([splits["train"].labels, splits["val"].labels]),
    )
    return LocalDataset(train, splits["test"], spec)
