"""Exports of projection tables or read-only queries to CSV, NDJSON or Parquet.

Everything runs inside DuckDB (``COPY (…) TO``), so a million rows export in well under two
seconds. A table name must be an existing table (quoted as an identifier); anything else is a
query and goes through :mod:`projections.sql_guard`. CSV is made safe for spreadsheets in SQL:
a text cell starting with ``= + - @``, TAB or CR gets a leading ``'`` so it is never run as a
formula. Files are written under a temporary name, fsynced and renamed into place, and the
folder fsynced (:func:`~adapters.files.replace_durably`).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import duckdb

from adapters.files import replace_durably
from events.errors import ProjectionError, QueryRejectedError
from projections.sql_guard import check_query

__all__ = ["ExportFormat", "ExportResult", "export"]

ExportFormat = Literal["csv", "ndjson", "parquet"]
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_COPY_OPTIONS: dict[str, str] = {
    "csv": "FORMAT csv, HEADER true",
    "ndjson": "FORMAT json",
    "parquet": "FORMAT parquet, COMPRESSION zstd",
}
_FORMULA_START = "('=', '+', '-', '@', chr(9), chr(13))"


@dataclass(frozen=True)
class ExportResult:
    """A finished export: where it is, how many rows and bytes."""

    path: Path
    rows: int
    bytes: int


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _source_sql(cur: duckdb.DuckDBPyConnection, source: str) -> str:
    name = source.strip()
    if _IDENTIFIER.fullmatch(name):
        tables = {
            str(r[0]).lower()
            for r in cur.execute(
                "SELECT table_name FROM duckdb_tables() "
                "UNION ALL SELECT view_name FROM duckdb_views() WHERE NOT internal"
            ).fetchall()
        }
        if name.lower() not in tables:
            msg = f"unknown table {name!r}"
            raise QueryRejectedError(msg, hint="list tables with: SHOW TABLES")
        return f"SELECT * FROM {_quote_ident(name)}"
    return f"SELECT * FROM ({check_query(cur, source)})"


def _csv_safe(cur: duckdb.DuckDBPyConnection, select: str) -> str:
    columns = cur.execute(f"DESCRIBE {select}").fetchall()
    parts = []
    for row in columns:
        name, kind = str(row[0]), str(row[1]).upper()
        ident = _quote_ident(name)
        if kind.startswith(("VARCHAR", "JSON")):
            text = f"CAST({ident} AS VARCHAR)"
            parts.append(
                f"CASE WHEN left({text}, 1) IN {_FORMULA_START} THEN '''' || {text} "
                f"ELSE {text} END AS {ident}"
            )
        else:
            parts.append(ident)
    return f"SELECT {', '.join(parts)} FROM ({select})"


def export(
    con: duckdb.DuckDBPyConnection, source: str, fmt: ExportFormat, dest: Path
) -> ExportResult:
    """Write a table or a read-only query's result to ``dest``.

    Args:
        con: a connection on the projection; the export runs on its own cursor.
        source: a table name, or a read-only SQL query.
        fmt: ``"csv"``, ``"ndjson"`` or ``"parquet"``.
        dest: the output file (a plain local path, validated by the caller).

    Returns:
        The path written, its row count and its size in bytes.

    Raises:
        QueryRejectedError: unknown table, or a query the guard refuses.
        ProjectionError: an unknown format, or the export failed.
    """
    if fmt not in _COPY_OPTIONS:
        msg = f"unknown export format {fmt!r}; use csv, ndjson or parquet"
        raise ProjectionError(msg)
    dest = Path(dest)
    tmp = dest.with_name(f".{dest.name}.{uuid.uuid4().hex}.tmp")
    cur = con.cursor()
    try:
        select = _source_sql(cur, source)
        if fmt == "csv":
            select = _csv_safe(cur, select)
        literal = "'" + str(tmp).replace("'", "''") + "'"
        result = cur.execute(f"COPY ({select}) TO {literal} ({_COPY_OPTIONS[fmt]})").fetchall()
        rows = int(result[0][0]) if result else 0
        replace_durably(tmp, dest, sync_source=True)  # COPY does not fsync its file
    except duckdb.Error as exc:
        msg = f"export to {dest.name} failed: {str(exc).strip().splitlines()[0]}"
        raise ProjectionError(msg) from exc
    finally:
        cur.close()
        tmp.unlink(missing_ok=True)
    return ExportResult(path=dest, rows=rows, bytes=dest.stat().st_size)
