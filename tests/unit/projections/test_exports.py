"""Exports: CSV safe for spreadsheets, Parquet and NDJSON readable back, atomic writes."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from events.errors import ProjectionError, QueryRejectedError
from projections.exports import export

CELLS = ["=SUM(A1)", "+1", "-2", "@cmd", "\tx", "\rx", "plain", "mid=dle"]


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect(config={"python_enable_replacements": False})
    connection.execute("CREATE TABLE cells (id BIGINT, text VARCHAR, body JSON, n BIGINT)")
    connection.execute(
        "INSERT INTO cells SELECT i, t, to_json(t), -i FROM "
        "(SELECT unnest(range(?)) AS i, unnest(?) AS t)",
        [len(CELLS), CELLS],
    )
    connection.execute("CREATE TABLE big AS SELECT range AS id, 'row' AS s FROM range(20000)")
    yield connection
    connection.close()


def test_csv_cells_that_start_a_formula_are_prefixed(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    """Text cells starting with = + - @ TAB or CR get a leading quote; numbers stay numbers."""
    result = export(con, "cells", "csv", tmp_path / "cells.csv")
    with result.path.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["text"] for r in rows] == [
        "'=SUM(A1)", "'+1", "'-2", "'@cmd", "'\tx", "'\rx", "plain", "mid=dle",
    ]  # fmt: skip
    assert [r["n"] for r in rows][:3] == ["0", "-1", "-2"]
    assert result.rows == len(CELLS)
    assert result.bytes == result.path.stat().st_size


@pytest.mark.parametrize("fmt", ["parquet", "ndjson", "csv"])
def test_formats_read_back_with_the_same_row_count(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, fmt: str
) -> None:
    """Each format holds every row of the table."""
    dest = tmp_path / f"big.{fmt}"
    result = export(con, "big", fmt, dest)  # type: ignore[arg-type]
    if fmt == "parquet":
        count = pq.read_table(dest).num_rows
    elif fmt == "ndjson":
        lines = dest.read_text().splitlines()
        count = len(lines)
        assert json.loads(lines[0]) == {"id": 0, "s": "row"}
    else:
        count = len(dest.read_text().splitlines()) - 1
    assert count == result.rows == 20000
    assert sorted(p.name for p in tmp_path.iterdir()) == [dest.name]


def test_query_source_goes_through_the_guard(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    """A read-only query exports its result; a write is refused and writes no file."""
    result = export(con, "SELECT id FROM big WHERE id < 10;", "ndjson", tmp_path / "q.json")
    assert result.rows == 10
    with pytest.raises(QueryRejectedError):
        export(con, "DELETE FROM big", "csv", tmp_path / "bad.csv")
    with pytest.raises(QueryRejectedError):
        export(con, "SELECT * FROM read_csv('/etc/passwd')", "csv", tmp_path / "bad.csv")
    assert not (tmp_path / "bad.csv").exists()


def test_unknown_table_and_format_are_refused(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    """An unknown table name or format fails with a clear error and no file."""
    with pytest.raises(QueryRejectedError, match="unknown table 'nope'"):
        export(con, "nope", "csv", tmp_path / "x.csv")
    with pytest.raises(ProjectionError, match="unknown export format"):
        export(con, "big", "xlsx", tmp_path / "x.xlsx")  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []


def test_failed_export_leaves_no_partial_file(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    """When COPY fails (missing folder) neither the target nor a temp file remains."""
    with pytest.raises(ProjectionError, match=r"export to x\.csv failed"):
        export(con, "big", "csv", tmp_path / "missing" / "x.csv")
    assert list(tmp_path.iterdir()) == []
