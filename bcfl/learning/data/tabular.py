"""Read a hospital's EHR extract, check it against the shared schema, and encode it for training."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from bcfl.learning.data.dataset import Examples, LocalDataset, split_dataset
from bcfl.learning.data.table_schema import ColumnSpec, TableSchema
from bcfl.learning.errors import DataValidationError

#: Row numbers listed per problem before the rest are counted.
_SHOWN_ROWS = 5


def read_table(path: Path) -> pd.DataFrame:
    """A CSV or Parquet extract as text cells (types are checked against the schema later)."""
    try:
        if path.suffix.lower() == ".parquet":
            return pd.read_parquet(path).astype("string").fillna("")
        return pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except FileNotFoundError:
        raise DataValidationError(str(path), ["the file does not exist"]) from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, ValueError) as exc:
        raise DataValidationError(str(path), [f"not a readable table ({type(exc).__name__})"]) from None


def _rows(mask: pd.Series) -> str:
    rows = [int(i) + 2 for i in np.flatnonzero(mask.to_numpy())]  # +2: header line, 1-based
    shown = ", ".join(map(str, rows[:_SHOWN_ROWS]))
    return shown + (f" and {len(rows) - _SHOWN_ROWS} more" if len(rows) > _SHOWN_ROWS else "")


#: Separators a spreadsheet may export instead of commas (a European locale's ";", a tab).
_SEPARATORS = (";", "\t", "|")


def _other_separator(table: pd.DataFrame) -> str | None:
    """The separator of a file read as one column because it is not comma-separated, else None."""
    if len(table.columns) != 1:
        return None
    header = str(table.columns[0])
    counts = {sep: header.count(sep) for sep in _SEPARATORS}
    best = max(counts, key=lambda sep: counts[sep])
    return best if counts[best] > 0 else None


def _code(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _missing_mask(cells: pd.Series, schema: TableSchema, column: ColumnSpec | None) -> pd.Series:
    codes = set(schema.missing_values) | set(column.missing if column else ())
    return cells.str.strip().isin(codes)


def _numbers(cells: pd.Series) -> pd.Series:
    return pd.to_numeric(cells.str.strip(), errors="coerce")


def validate(table: pd.DataFrame, schema: TableSchema, source: str) -> None:
    """Raise :class:`DataValidationError` listing every problem; return quietly if none."""
    problems: list[str] = []
    expected = [c.name for c in schema.columns] + [schema.label.column]
    missing_columns = [name for name in expected if name not in table.columns]
    separator = _other_separator(table)
    if missing_columns and separator is not None:
        raise DataValidationError(
            source, [f"the file is separated by {separator!r}: export it comma-separated"]
        )
    if missing_columns:
        problems.append(f"missing columns: {', '.join(missing_columns)}")
    for column in schema.columns:
        if column.name not in table.columns:
            continue
        cells = table[column.name].astype(str)
        absent = _missing_mask(cells, schema, column)
        values = _numbers(cells)
        bad_type = values.isna() & ~absent
        if bad_type.any():
            problems.append(f"column {column.name!r}: not a number in rows {_rows(bad_type)}")
        if column.plausible is not None:
            low, high = column.plausible
            implausible = ((values < low) | (values > high)) & ~absent
            if implausible.any():
                problems.append(
                    f"column {column.name!r}: values outside the plausible range [{_code(low)}, "
                    f"{_code(high)}] in rows {_rows(implausible)} (an entry or unit error?)"
                )
        if column.kind == "categorical":
            allowed = set(column.categories or ())
            unknown = ~values.isin(allowed) & ~values.isna() & ~absent
            if unknown.any():
                problems.append(
                    f"column {column.name!r}: a code outside the schema's categories in rows {_rows(unknown)}"
                )
    if schema.label.column in table.columns:
        cells = table[schema.label.column].astype(str)
        labels = _numbers(cells)
        if labels.isna().any():
            problems.append(
                f"label {schema.label.column!r}: missing or not a number in rows {_rows(labels.isna())}"
            )
        positives = int(labels.isin(set(schema.label.positive)).sum())
        if positives < schema.min_positives:
            problems.append(
                f"label {schema.label.column!r}: {positives} positive rows, "
                f"need at least {schema.min_positives}"
            )
    if len(table) < schema.min_rows:
        problems.append(f"{len(table)} rows, need at least {schema.min_rows}")
    if problems:
        raise DataValidationError(source, problems)


def encode(table: pd.DataFrame, schema: TableSchema) -> Examples:
    """Impute, scale and one-hot encode with the schema's fixed statistics (validate first)."""
    blocks: list[np.ndarray] = []
    for column in schema.columns:
        cells = table[column.name].astype(str)
        absent = _missing_mask(cells, schema, column).to_numpy()
        values = _numbers(cells).to_numpy(dtype=np.float64)
        values = np.where(absent, column.impute, values)
        if column.kind == "numeric":
            low, high = column.range or (0.0, 1.0)
            blocks.append(np.clip((values - low) / (high - low), 0.0, 1.0)[:, None])
        else:
            categories = np.asarray(column.categories, dtype=np.float64)
            blocks.append((values[:, None] == categories[None, :]).astype(np.float64))
        if column.indicate_missing:
            blocks.append(absent.astype(np.float64)[:, None])
    features = np.hstack(blocks).astype(np.float32)
    labels = _numbers(table[schema.label.column].astype(str)).isin(set(schema.label.positive))
    return Examples(features, labels.to_numpy(dtype=np.float32))


def load_table(path: Path, schema: TableSchema, test_fraction: float = 1 / 3, seed: int = 0) -> LocalDataset:
    """Read, validate, encode and split a hospital's table; refuses bad data with a full report."""
    table = read_table(path)
    validate(table, schema, str(path))
    return split_dataset(encode(table, schema), schema.model_spec(), test_fraction, seed)
