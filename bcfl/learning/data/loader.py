"""One entry point for a hospital's data: the schema says the modality, the path says the format."""

from __future__ import annotations

import json
from pathlib import Path

from bcfl.learning.data.dataset import LocalDataset
from bcfl.learning.data.image_schema import ImageSchema
from bcfl.learning.data.table_schema import TableSchema
from bcfl.learning.errors import LearningError

Schema = TableSchema | ImageSchema

#: The consortium schemas shipped with the package (the hospitals hold the same files).
SCHEMAS_DIR = Path(__file__).resolve().parent.parent / "schemas"


_REDOWNLOAD = "re-download the consortium's schema"


def shared_schema_path(name: str) -> Path:
    """The shipped schema file called ``name`` (the App's ``schema-name`` run setting)."""
    return SCHEMAS_DIR / f"{name}.json"


def load_schema(path: Path) -> Schema:
    """A consortium schema: an image schema when its ``modality`` is "image", else a table schema."""
    try:
        document = json.loads(path.read_text())
    except OSError as exc:
        raise LearningError(f"cannot read schema {path}: {exc.strerror}") from exc
    except UnicodeDecodeError:
        raise LearningError(f"schema {path} is not a text file: {_REDOWNLOAD}") from None
    except json.JSONDecodeError as exc:
        raise LearningError(
            f"schema {path} is not valid JSON (line {exc.lineno} col {exc.colno}: {exc.msg}): {_REDOWNLOAD}"
        ) from None
    if not isinstance(document, dict):
        raise LearningError(f"schema {path} is not a JSON object: {_REDOWNLOAD}")
    modality = document.get("modality", "table")
    return ImageSchema.load(path) if modality == "image" else TableSchema.load(path)


def load_local_dataset(path: Path, schema: Schema, seed: int = 0) -> LocalDataset:
    """A table (CSV/Parquet), an image folder with a labels CSV, or a MedMNIST ``.npz``.

    The readers (pandas, Pillow) are imported here, when data is read: a ClientApp that finds its
    prepared dataset in the cache (:mod:`bcfl.learning.data.cache`) never pays for them."""
    if isinstance(schema, TableSchema):
        from bcfl.learning.data.tabular import load_table

        return load_table(path, schema, seed=seed)
    if path.suffix.lower() == ".npz":
        from bcfl.learning.data.medmnist_npz import load_medmnist

        return load_medmnist(path, schema)
    from bcfl.learning.data.imaging import load_image_folder

    return load_image_folder(path, schema, seed=seed)
