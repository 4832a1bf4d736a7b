"""The read-only SQL guard: users may ask questions of a projection, never change it.

A query passes only when all of these hold:

1. DuckDB's own parser sees exactly one statement, of type SELECT (which covers ``WITH``,
   ``VALUES``, ``FROM t``, ``DESCRIBE``, ``SHOW`` and ``SUMMARIZE``) or EXPLAIN without ANALYZE.
2. Its syntax tree (``json_serialize_sql``) holds no data-changing node (a ``DELETE`` hidden in
   a CTE parses as a SELECT statement), only allow-listed table functions, no forbidden scalar
   function (``getenv`` …), and no table reference outside the catalog and the query's own
   CTEs. That last rule stops replacement scans such as ``FROM '/etc/passwd'``.
3. A token scan outside comments finds no file, network or SQL-executing function name and
   no URL literal, as a second line of defence.

:func:`run_query` then runs it on a fresh cursor with a row limit (fetch ``limit + 1`` to set
``truncated``) and a time limit (a timer calls ``interrupt()``). The projection file's DuckDB
instance keeps external access on, because exports ``COPY`` to files; this guard is what keeps
user SQL away from the filesystem.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import duckdb
import orjson
import pyarrow as pa

from events.errors import QueryRejectedError
from projections._sql_lexer import tokens

__all__ = ["QueryResult", "check_query", "run_query", "run_query_arrow"]

_ALLOWED_TYPES = {duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN}
_READ_NODES = {"SELECT_NODE", "SET_OPERATION_NODE", "RECURSIVE_CTE_NODE", "CTE_NODE"}
_TABLE_FUNCTIONS = {
    "range",
    "generate_series",
    "unnest",
    "json_each",
    "json_tree",
    "duckdb_tables",
    "duckdb_columns",
    "duckdb_views",
    "duckdb_schemas",
    "duckdb_types",
    "duckdb_constraints",
    "duckdb_indexes",
    "pragma_table_info",
    "summary",
}
_SYSTEM_SCHEMAS = {"information_schema", "pg_catalog"}
_FORBIDDEN_FUNCTION = re.compile(
    r"read_\w*|\w*_scan|\w*_attach|glob|sniff_csv|query|query_table|getenv|"
    r"json_execute_serialized_sql|parquet_\w+|sqlite_\w+|postgres_\w+|mysql_\w+|iceberg_\w+|"
    r"delta_\w+|duckdb_secrets|duckdb_settings|load_extension|from_json_\w*file\w*"
)
_URL = re.compile(r"^\s*[a-z][a-z0-9+.-]*://", re.I)


@dataclass(frozen=True)
class QueryResult:
    """What a read-only query returned.

    Attributes:
        columns: column names, in order.
        rows: at most ``limit`` rows.
        truncated: True when the query had more rows than ``limit``.
    """

    columns: list[str]
    rows: list[tuple[Any, ...]]
    truncated: bool


def _reject(message: str) -> QueryRejectedError:
    return QueryRejectedError(message, hint="only single read-only SELECT queries are allowed")


def _scan_tokens(sql: str) -> None:
    toks = tokens(sql)
    for i, tok in enumerate(toks):
        if tok.kind == "string" and _URL.match(tok.text):
            raise _reject(f"URLs are not allowed in queries: {tok.text.split('://')[0]}://…")
        followed_by_paren = i + 1 < len(toks) and toks[i + 1].text == "("
        if tok.kind in ("word", "quoted") and followed_by_paren:
            name = tok.text.lower().rsplit(".", 1)[-1]
            if _FORBIDDEN_FUNCTION.fullmatch(name):
                raise _reject(f"function {name}() is not allowed in queries")


def _walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def _known_tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    rows = con.execute(
        "SELECT table_name FROM duckdb_tables() UNION ALL SELECT view_name FROM duckdb_views()"
    ).fetchall()
    return {str(r[0]).lower() for r in rows}


def _check_tree(con: duckdb.DuckDBPyConnection, sql: str) -> None:
    raw = con.execute("SELECT json_serialize_sql(?)", [sql]).fetchall()[0][0]
    tree = orjson.loads(raw)
    if tree.get("error"):
        raise _reject(f"query could not be checked: {tree.get('error_message', 'parse error')}")
    nodes = list(_walk(tree))
    ctes = {
        str(entry["key"]).lower()
        for node in nodes
        for entry in (node.get("cte_map") or {}).get("map", [])
        if isinstance(entry, dict) and "key" in entry
    }
    known: set[str] | None = None
    for node in nodes:
        kind = node.get("type")
        if isinstance(kind, str) and kind.endswith("_NODE") and kind not in _READ_NODES:
            verb = kind.removesuffix("_NODE").removesuffix("_QUERY")
            raise _reject(f"{verb} is not allowed in a read-only query")
        if kind == "TABLE_FUNCTION":
            name = str(node.get("function", {}).get("function_name", "")).lower()
            if name not in _TABLE_FUNCTIONS:
                raise _reject(f"table function {name}() is not allowed in queries")
        elif kind == "BASE_TABLE":
            name = str(node.get("table_name", "")).lower()
            if str(node.get("schema_name", "")).lower() in _SYSTEM_SCHEMAS or name in ctes:
                continue
            known = _known_tables(con) if known is None else known
            if name not in known:
                raise _reject(f"unknown table {node.get('table_name')!r}")
        elif node.get("class") == "FUNCTION":
            name = str(node.get("function_name", "")).lower()
            if _FORBIDDEN_FUNCTION.fullmatch(name):
                raise _reject(f"function {name}() is not allowed in queries")


def check_query(con: duckdb.DuckDBPyConnection, sql: str) -> str:
    """Validate ``sql`` as one read-only statement and return the statement text to run.

    Args:
        con: a connection (or cursor) on the projection, used for parsing and the catalog.
        sql: the user's SQL.

    Raises:
        QueryRejectedError: the query is not a single read-only statement.
    """
    if not sql.strip():
        raise _reject("the query is empty")
    _scan_tokens(sql)
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as exc:
        raise _reject(_first_line(exc)) from exc
    if len(statements) != 1:
        raise _reject(f"expected exactly one statement, got {len(statements)}")
    statement = statements[0]
    if statement.type not in _ALLOWED_TYPES:
        raise _reject(f"{statement.type.name} statements are not allowed")
    text = statement.query.strip().rstrip(";").strip()
    inner = text
    if statement.type == duckdb.StatementType.EXPLAIN:
        words = [t.text for t in tokens(text) if t.kind == "word"][:3]
        if "analyze" in words or "analyse" in words:
            raise _reject("EXPLAIN ANALYZE is not allowed")
        inner = re.sub(r"^\s*explain\b", "", _strip_leading_comments(text), flags=re.I)
        check_query(con, inner)
        return text
    _check_tree(con, inner)
    return text


def _strip_leading_comments(text: str) -> str:
    return re.sub(r"^(\s*(--[^\n]*\n|/\*.*?\*/))*", "", text, flags=re.S)


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


class _Deadline:
    """Interrupts a cursor when the time limit passes."""

    def __init__(self, cur: duckdb.DuckDBPyConnection, timeout_s: float) -> None:
        self.fired = threading.Event()
        self._cur = cur
        self._timer = threading.Timer(timeout_s, self._fire)
        self._timer.daemon = True

    def _fire(self) -> None:
        self.fired.set()
        self._cur.interrupt()

    def __enter__(self) -> _Deadline:
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()


def _failure(exc: duckdb.Error, deadline: _Deadline, timeout_s: float) -> QueryRejectedError:
    if deadline.fired.is_set() or isinstance(exc, duckdb.InterruptException):
        return QueryRejectedError(
            f"query stopped: it ran longer than the {timeout_s:g}s limit",
            hint="add filters or a LIMIT",
        )
    if isinstance(exc, duckdb.CatalogException):
        return QueryRejectedError(_first_line(exc).replace("Catalog Error: ", ""))
    return QueryRejectedError(_first_line(exc))


def run_query(
    con: duckdb.DuckDBPyConnection, sql: str, *, limit: int = 1000, timeout_s: float = 10.0
) -> QueryResult:
    """Check and run a read-only query with a row limit and a time limit.

    Args:
        con: a connection on the projection; the query runs on its own cursor.
        sql: the user's SQL.
        limit: the most rows to return; more set ``truncated``.
        timeout_s: seconds before the query is interrupted.

    Raises:
        QueryRejectedError: rejected by the guard, failed, or ran out of time.
    """
    cur = con.cursor()
    try:
        text = check_query(cur, sql)
        with _Deadline(cur, timeout_s) as deadline:
            try:
                cur.execute(text)
                rows = cur.fetchmany(limit + 1)
            except duckdb.Error as exc:
                raise _failure(exc, deadline, timeout_s) from exc
        columns = [str(d[0]) for d in cur.description or []]
        return QueryResult(columns, [tuple(r) for r in rows[:limit]], len(rows) > limit)
    finally:
        cur.close()


def run_query_arrow(
    con: duckdb.DuckDBPyConnection, sql: str, *, timeout_s: float = 60.0
) -> pa.Table:
    """Check and run a read-only query, returning the whole result as an Arrow table.

    Raises:
        QueryRejectedError: rejected by the guard, failed, or ran out of time.
    """
    cur = con.cursor()
    try:
        text = check_query(cur, sql)
        with _Deadline(cur, timeout_s) as deadline:
            try:
                return cur.sql(text).to_arrow_table()
            except duckdb.Error as exc:
                raise _failure(exc, deadline, timeout_s) from exc
    finally:
        cur.close()
