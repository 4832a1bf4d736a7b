"""Load-fold-replace for keyed read models: one row per key per batch, as the base requires.

A read model folds a batch into a dict per key, seeded with the key's current row; then the
rows are replaced in two set statements (delete the keys, insert the folded rows), so a key
appearing many times in one batch is written exactly once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import duckdb

from projections.read_model import scratch_table

__all__ = ["load_rows", "replace_rows"]

Key = tuple[Any, ...]


def load_rows(
    con: duckdb.DuckDBPyConnection, table: str, key_cols: Sequence[str], keys: Sequence[Key]
) -> dict[Key, dict[str, Any]]:
    """Return the current rows of ``keys`` in ``table`` as dicts, by key."""
    if not keys:
        return {}
    columns = {col: [k[i] for k in keys] for i, col in enumerate(key_cols)}
    with scratch_table(con, f"_{table}_keys", columns) as batch:
        using = ", ".join(key_cols)
        cursor = con.execute(f"SELECT t.* FROM {table} t JOIN {batch} USING ({using})")
        names = [d[0] for d in cursor.description or []]
        rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    return {tuple(row[c] for c in key_cols): row for row in rows}


def replace_rows(
    con: duckdb.DuckDBPyConnection,
    table: str,
    key_cols: Sequence[str],
    columns: Sequence[str],
    rows: Sequence[dict[str, Any]],
) -> None:
    """Replace the rows of ``table`` whose keys appear in ``rows`` with ``rows``."""
    if not rows:
        return
    data = {col: [_plain(row.get(col)) for row in rows] for col in columns}
    with scratch_table(con, f"_{table}_rows", data) as batch:
        match = " AND ".join(f"{table}.{c} = b.{c}" for c in key_cols)
        con.execute(f"DELETE FROM {table} USING {batch} b WHERE {match}")
        cols = ", ".join(columns)
        con.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM {batch}")


def _plain(value: Any) -> Any:
    # Loaded rows hold datetimes and fresh ones ISO strings; one Arrow column needs one type.
    return value.isoformat() if isinstance(value, datetime) else value
