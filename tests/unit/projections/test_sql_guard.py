"""Read-only SQL guard: one read statement in, everything else refused with one clear line."""

from __future__ import annotations

from collections.abc import Iterator

import duckdb
import pytest

from events.errors import QueryRejectedError
from projections.sql_guard import check_query, run_query, run_query_arrow

ALLOWED = [
    "SELECT 1",
    "select * from events",
    "SELECT 1;",
    "WITH x AS (SELECT 1 AS a) SELECT * FROM x",
    "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 3) SELECT * FROM r",
    "VALUES (1), (2)",
    "FROM events LIMIT 2",
    "DESCRIBE events",
    "SHOW TABLES",
    "SUMMARIZE events",
    "EXPLAIN SELECT * FROM events",
    "SELECT * FROM information_schema.tables",
    "SELECT count(*) FROM range(10)",
    "-- a comment\nSELECT 1 /* another */",
    "SELECT 'read_csv(''/etc/passwd'')' AS harmless_text",
    "SELECT e.body->>'actor' FROM events e JOIN events f USING (position)",
]

REJECTED = [
    ("SELECT 1; DROP TABLE events", "exactly one statement"),
    ("SELECT 1 -- ; x\n; DELETE FROM events", "exactly one statement"),
    ("/* */ DELETE FROM events", "DELETE"),
    ("WITH x AS (DELETE FROM events RETURNING *) SELECT * FROM x", "DELETE"),
    ("INSERT INTO events VALUES (1, '{}')", "INSERT"),
    ("UPDATE events SET position = 1", "UPDATE"),
    ("CREATE TABLE t (a INT)", "CREATE"),
    ("DROP TABLE events", "DROP"),
    ("ALTER TABLE events ADD COLUMN c INT", "ALTER"),
    ("COPY events TO '/tmp/x.csv'", "COPY"),
    ("ATTACH '/tmp/x.duckdb'", "ATTACH"),
    ("DETACH x", "DETACH"),
    ("PRAGMA version", "PRAGMA"),
    ("SET threads = 1", "SET"),
    ("CALL pragma_version()", "CALL"),
    ("INSTALL httpfs", "LOAD"),
    ("LOAD httpfs", "LOAD"),
    ("EXPORT DATABASE '/tmp/x'", "EXPORT"),
    ("CHECKPOINT", "not allowed"),
    ("VACUUM", "VACUUM"),
    ("EXPLAIN ANALYZE SELECT 1", "EXPLAIN ANALYZE"),
    ("EXPLAIN DELETE FROM events", "DELETE"),
    ("SELECT * FROM read_csv('/etc/passwd')", "read_csv"),
    ("SELECT * FROM \"read_csv\"('/etc/passwd')", "read_csv"),
    ("SELECT * FROM events, read_json_auto('x.json')", "read_json_auto"),
    ("SELECT * FROM read_parquet('x.parquet')", "read_parquet"),
    ("SELECT * FROM read_text('/etc/passwd')", "read_text"),
    ("SELECT * FROM read_blob('/etc/hosts')", "read_blob"),
    ("SELECT * FROM glob('/*')", "glob"),
    ("SELECT * FROM parquet_scan('x')", "parquet_scan"),
    ("SELECT * FROM sqlite_scan('x', 'y')", "sqlite_scan"),
    ("SELECT * FROM postgres_scan('x', 'y', 'z')", "postgres_scan"),
    ("SELECT * FROM query('SELECT 1')", "query"),
    ("SELECT getenv('HOME')", "getenv"),
    ("SELECT * FROM '/etc/passwd'", "unknown table '/etc/passwd'"),
    ("SELECT * FROM 'https://example.com/x.parquet'", "URLs are not allowed"),
    ("SELECT * FROM duckdb_secrets()", "duckdb_secrets"),
    ("PIVOT events ON position", "not allowed"),
    ("", "empty"),
]


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect(config={"python_enable_replacements": False})
    connection.execute("CREATE TABLE events (position BIGINT PRIMARY KEY, body JSON)")
    connection.execute('INSERT INTO events SELECT range, \'{"actor": "a"}\' FROM range(50)')
    yield connection
    connection.close()


@pytest.mark.parametrize("sql", ALLOWED)
def test_read_only_statements_run(con: duckdb.DuckDBPyConnection, sql: str) -> None:
    """Every read-only form (SELECT, WITH, VALUES, DESCRIBE, SHOW, EXPLAIN) is allowed."""
    result = run_query(con, sql, limit=5)
    assert result.columns


@pytest.mark.parametrize(("sql", "reason"), REJECTED)
def test_writes_files_and_tricks_are_rejected(
    con: duckdb.DuckDBPyConnection, sql: str, reason: str
) -> None:
    """Writes, settings, file/network access and comment tricks are refused, and nothing ran."""
    with pytest.raises(QueryRejectedError, match=reason) as caught:
        run_query(con, sql)
    assert "\n" not in caught.value.message
    assert con.execute("SELECT count(*) FROM events").fetchall() == [(50,)]
    assert con.execute("SELECT count(*) FROM duckdb_tables()").fetchall() == [(1,)]


def test_unknown_table_is_named(con: duckdb.DuckDBPyConnection) -> None:
    """Querying a table that does not exist says which one."""
    with pytest.raises(QueryRejectedError, match="unknown table 'actorz'"):
        run_query(con, "SELECT * FROM actorz")


def test_unknown_column_is_one_clear_line(con: duckdb.DuckDBPyConnection) -> None:
    """A binder error comes back as one line naming the column."""
    with pytest.raises(QueryRejectedError, match="nope") as caught:
        run_query(con, "SELECT nope FROM events")
    assert "\n" not in caught.value.message


def test_huge_result_is_truncated_at_the_limit(con: duckdb.DuckDBPyConnection) -> None:
    """A result with more rows than the limit returns exactly limit rows and says so."""
    result = run_query(con, "SELECT * FROM range(1000000000000)", limit=100)
    assert len(result.rows) == 100
    assert result.truncated
    exact = run_query(con, "SELECT * FROM events", limit=50)
    assert len(exact.rows) == 50
    assert not exact.truncated


def test_long_query_is_interrupted(con: duckdb.DuckDBPyConnection) -> None:
    """A query past its time limit is interrupted with an error naming the limit."""
    with pytest.raises(QueryRejectedError, match=r"longer than the 0.3s limit"):
        run_query(con, "SELECT count(*) FROM range(1000000000) a, range(1000000) b", timeout_s=0.3)
    assert run_query(con, "SELECT 1").rows == [(1,)]


def test_check_returns_the_single_statement(con: duckdb.DuckDBPyConnection) -> None:
    """The checked text drops the trailing semicolon so it can be wrapped in COPY."""
    assert check_query(con, "SELECT position FROM events;  ") == "SELECT position FROM events"


def test_arrow_variant_returns_every_row(con: duckdb.DuckDBPyConnection) -> None:
    """run_query_arrow returns the full result as an Arrow table, guarded the same way."""
    table = run_query_arrow(con, "SELECT position FROM events WHERE position < 7")
    assert table.num_rows == 7
    with pytest.raises(QueryRejectedError):
        run_query_arrow(con, "DELETE FROM events")
