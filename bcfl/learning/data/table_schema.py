"""The consortium's shared schema for an EHR table: columns, types, label and missing-value rules.

Every statistic preprocessing needs (scaling ranges, imputation values) is fixed here, by the
consortium, so no hospital needs another hospital's raw data.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from bcfl.learning.data.dataset import ModelSpec
from bcfl.learning.errors import LearningError

Model = TypeVar("Model", bound=BaseModel)


def read_schema_file(model: type[Model], path: Path) -> Model:
    """Read and validate a schema JSON file, with a clear error for a missing or invalid one."""
    try:
        return model.model_validate_json(path.read_text())
    except OSError as exc:
        raise LearningError(f"cannot read schema {path}: {exc.strerror}") from exc
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'file'}: {e['msg']}" for e in exc.errors()[:3]
        )
        raise LearningError(
            f"schema {path} is invalid ({problems}): re-download the consortium's schema"
        ) from exc


class ColumnSpec(BaseModel):
    """One feature column."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    kind: Literal["numeric", "categorical"]
    #: Numeric: values are scaled to [0, 1] over this clinical range (and clipped).
    range: tuple[float, float] | None = None
    #: Numeric: the clinically plausible values; one outside (9999 for a blood pressure) is an entry
    #: or unit error that ``bcfl node check`` reports (``range`` only scales, and clips).
    plausible: tuple[float, float] | None = None
    #: Categorical: the allowed codes, one-hot encoded in this order.
    categories: tuple[float, ...] | None = None
    #: Value used where the cell is missing (fixed by the consortium, not learned from data).
    impute: float
    #: Extra codes that mean "missing" in this column (e.g. "0" for cholesterol).
    missing: tuple[str, ...] = ()
    #: Add a 0/1 feature telling the model the value was missing.
    indicate_missing: bool = False

    @model_validator(mode="after")
    def _kind_fields(self) -> ColumnSpec:
        if self.kind == "numeric" and (self.range is None or self.range[0] >= self.range[1]):
            raise ValueError(f"numeric column {self.name!r} needs a range [low, high] with low < high")
        if self.plausible is not None and self.plausible[0] >= self.plausible[1]:
            raise ValueError(f"column {self.name!r}: plausible [low, high] needs low < high")
        if self.kind == "categorical" and not self.categories:
            raise ValueError(f"categorical column {self.name!r} needs its categories")
        return self


class LabelSpec(BaseModel):
    """The binary label: a row is positive when its label value is one of ``positive``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    column: str
    positive: tuple[float, ...]


class TableSchema(BaseModel):
    """A shared EHR table schema."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    modality: Literal["table"] = "table"
    name: str
    version: int = 1
    label: LabelSpec
    columns: tuple[ColumnSpec, ...]
    #: Cell texts that mean "missing" in every column.
    missing_values: tuple[str, ...] = ("", "?", "NA", "NaN")
    min_rows: int = Field(default=20, ge=1)
    min_positives: int = Field(default=1, ge=1)

    @classmethod
    def load(cls, path: Path) -> TableSchema:
        """Read a schema JSON file, with a clear error for a missing or invalid one."""
        return read_schema_file(cls, path)

    def model_spec(self) -> ModelSpec:
        """One input per encoded feature, a binary label."""
        return ModelSpec((len(self.feature_names()),), 2)

    def feature_names(self) -> list[str]:
        """Names of the encoded features, in model input order."""
        names: list[str] = []
        for column in self.columns:
            if column.kind == "numeric":
                names.append(column.name)
            else:
                names += [f"{column.name}={_code(c)}" for c in column.categories or ()]
            if column.indicate_missing:
                names.append(f"{column.name}:missing")
        return names


def _code(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)
