"""EHR tables: the demo data is the real UCI data, bad extracts are refused with a clear report."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bcfl.demo.heart import SCHEMA, prepare_heart_hospitals
from bcfl.learning.data.dataset import split_indices
from bcfl.learning.data.table_schema import TableSchema
from bcfl.learning.data.tabular import encode, load_table, read_table
from bcfl.learning.errors import DataValidationError, LearningError
from bcfl.learning.task import build_model, evaluate, train


@pytest.fixture(scope="module")
def heart(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("hospitals")
    return {h.name: h.data for h in prepare_heart_hospitals(out)}


@pytest.fixture(scope="module")
def schema() -> TableSchema:
    return TableSchema.load(SCHEMA)


def test_the_four_real_centres(heart: dict[str, Path], schema: TableSchema) -> None:
    rows = {name: len(read_table(path)) for name, path in heart.items()}
    assert rows == {"cleveland": 303, "hungary": 294, "switzerland": 123, "va-long-beach": 200}  # UCI counts
    positives = {name: load_table(path, schema).train.labels.mean() for name, path in heart.items()}
    assert positives["switzerland"] > 0.9 > positives["cleveland"] > positives["hungary"]  # naturally non-IID


def test_encoding_uses_only_the_schema(heart: dict[str, Path], schema: TableSchema) -> None:
    table = read_table(heart["switzerland"])
    encoded = encode(table, schema)
    assert encoded.features.shape == (123, len(schema.feature_names()))
    assert encoded.features.min() >= 0.0 and encoded.features.max() <= 1.0
    chol_missing = schema.feature_names().index("chol:missing")
    assert encoded.features[:, chol_missing].mean() > 0.9  # Switzerland records no cholesterol (0)


def test_split_is_stratified_and_deterministic() -> None:
    labels = np.array([0.0] * 60 + [1.0] * 30, dtype=np.float32)
    train_a, test_a = split_indices(labels, 1 / 3, seed=7)
    train_b, test_b = split_indices(labels, 1 / 3, seed=7)
    assert np.array_equal(test_a, test_b) and np.array_equal(train_a, train_b)
    assert len(test_a) == 30 and labels[test_a].sum() == 10
    assert not set(train_a) & set(test_a)


def test_local_training_learns_from_real_data(heart: dict[str, Path], schema: TableSchema) -> None:
    data = load_table(heart["cleveland"], schema)
    model = build_model(data.spec)
    before = evaluate(model, data.test)
    train(model, data.train, epochs=30, lr=0.01, batch_size=32, seed=0)
    after = evaluate(model, data.test)
    assert after["loss"] < before["loss"] and after["auroc"] > 0.8


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "extract.csv"
    path.write_text(text)
    return path


def test_a_bad_extract_gets_every_problem_reported(
    heart: dict[str, Path], schema: TableSchema, tmp_path: Path
) -> None:
    lines = heart["cleveland"].read_text().splitlines()
    header, rows = lines[0].split(","), lines[1:]
    cells = [row.split(",") for row in rows]
    cells[2][header.index("age")] = "Jane Doe"  # a patient's name in the wrong column
    cells[4][header.index("cp")] = "9"  # not one of the schema's codes
    drop = header.index("thalach")
    text = "\n".join(",".join(c for i, c in enumerate(r) if i != drop) for r in [header, *cells])
    with pytest.raises(DataValidationError) as exc:
        load_table(_write(tmp_path, text), schema)
    message = str(exc.value)
    assert "missing columns: thalach" in message
    assert "column 'age': not a number in rows 4" in message
    assert "column 'cp': a code outside the schema's categories in rows 6" in message
    assert "Jane Doe" not in message  # values never reach messages or logs


def test_no_positives_and_too_few_rows(schema: TableSchema, tmp_path: Path) -> None:
    header = "age,sex,cp,trestbps,chol,fbs,restecg,thalach,exang,oldpeak,slope,ca,thal,num"
    text = header + "\n" + "\n".join("50,1,4,130,240,0,0,150,0,1,2,0,3,0" for _ in range(5))
    with pytest.raises(DataValidationError) as exc:
        load_table(_write(tmp_path, text), schema)
    assert exc.value.problems == [
        "label 'num': 0 positive rows, need at least 1",
        "5 rows, need at least 20",
    ]


def test_unreadable_and_missing_files(schema: TableSchema, tmp_path: Path) -> None:
    with pytest.raises(DataValidationError, match="does not exist"):
        load_table(tmp_path / "nope.csv", schema)
    with pytest.raises(DataValidationError, match="not a readable table"):
        load_table(_write(tmp_path, ""), schema)
    bad_schema = tmp_path / "schema.json"
    bad_schema.write_text(
        '{"name": "x", "label": {"column": "y", "positive": [1]}, '
        '"columns": [{"name": "a", "kind": "numeric", "impute": 0}]}'
    )
    with pytest.raises(LearningError, match="needs a range"):
        TableSchema.load(bad_schema)


def test_node_check_cli(heart: dict[str, Path], tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from bcfl.cli.main import app

    ok = CliRunner().invoke(app, ["node", "check", "--data", str(heart["hungary"]), "--schema", str(SCHEMA)])
    assert ok.exit_code == 0 and "196 train / 98 test examples" in ok.output, ok.output
    bad = _write(tmp_path, "age,sex\n1,2\n")
    result = CliRunner().invoke(app, ["node", "check", "--data", str(bad), "--schema", str(SCHEMA)])
    assert result.exit_code == 1 and "missing columns" in result.output and "Traceback" not in result.output


def _node_check(data: Path, schema: Path) -> tuple[int, str]:
    from typer.testing import CliRunner

    from bcfl.cli.main import app

    result = CliRunner().invoke(app, ["node", "check", "--data", str(data), "--schema", str(schema)])
    assert "Traceback" not in result.output
    return result.exit_code, " ".join(result.output.split())


def test_node_check_names_a_semicolon_separator(heart: dict[str, Path], tmp_path: Path) -> None:
    text = heart["cleveland"].read_text().replace(",", ";")
    code, out = _node_check(_write(tmp_path, text), SCHEMA)
    assert code == 1 and "the file is separated by ';': export it comma-separated" in out, out
    assert "missing columns" not in out  # one cause, not fourteen symptoms


def test_node_check_reports_values_outside_the_plausible_range(
    heart: dict[str, Path], schema: TableSchema, tmp_path: Path
) -> None:
    lines = heart["cleveland"].read_text().splitlines()
    header = lines[0].split(",")
    cells = [row.split(",") for row in lines[1:]]
    cells[3][header.index("trestbps")] = "9999"  # mmHg typed with extra digits
    cells[7][header.index("chol")] = "-5"
    text = "\n".join(",".join(r) for r in [header, *cells])
    code, out = _node_check(_write(tmp_path, text), SCHEMA)
    low, high = next(c.plausible for c in schema.columns if c.name == "trestbps") or (0, 0)
    assert (
        code == 1
        and f"column 'trestbps': values outside the plausible range [{low:g}, {high:g}] in rows 5" in out
    )
    assert "column 'chol': values outside the plausible range" in out and "rows 9" in out
    assert "9999" not in out.replace(f"[{low:g}, {high:g}]", "")  # values never reach messages


def test_node_check_names_a_truncated_schema(heart: dict[str, Path], tmp_path: Path) -> None:
    truncated = tmp_path / "schema.json"
    truncated.write_text(SCHEMA.read_text()[:300])
    code, out = _node_check(heart["cleveland"], truncated)
    assert code == 1 and f"{truncated} is not valid JSON (line " in out, out
    assert "re-download the consortium's schema" in out


def test_the_shipped_schemas_bound_every_numeric_column() -> None:
    from bcfl.learning.data.loader import SCHEMAS_DIR, load_schema

    for path in SCHEMAS_DIR.glob("*.json"):
        loaded = load_schema(path)
        if isinstance(loaded, TableSchema):
            unbounded = [c.name for c in loaded.columns if c.kind == "numeric" and c.plausible is None]
            assert not unbounded, f"{path.name}: no plausible range for {unbounded}"
