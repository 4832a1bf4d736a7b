"""Read models of client-config sync: ``clients``, ``entities``, ``sync_log``, ``conflicts``,
``losses``.

Contract (events from :mod:`events.sync`; bodies arrive redacted):

* ``ClientFile.Discovered/Observed/ParseFailed/Vanished`` → one ``clients`` row per file
  (``client, path`` key): present, sha256, size, last_seen, error, error_since (the first
  failure after the last good read; a good read clears both).
* ``SyncLedger.Opened`` → ``sync_entity_names`` (aggregate id → kind, name), which the other
  ledger events join against.
* ``SyncLedger.EntityChanged/EntityRemoved/WriteApplied`` → ``entities`` (one row per kind,
  name, scope, client): the digest the client holds. The scope names the project
  (``project:/abs/root``; a bare ``project`` in events recorded before it did).
* ``WriteApplied/WriteAbandoned/ChangeReverted`` → ``sync_log`` (one row per file write, keyed
  by :func:`write_id`).
* ``SyncPlacement.Placed/Reverted`` (:mod:`events.placement`) → ``sync_log`` too, keyed by the
  placement id (what ``synapse sync revert ID`` takes): ``action`` is the placement's
  (``copy_skill``, ``create_shim``, ``copy_instructions``, ``point_context``), ``client`` the
  clients it serves (comma-separated), ``entities`` its subject (``skill:pdf``).
* ``ConflictDetected/ConflictResolved`` → ``conflicts`` (resolution ``agreed`` when the sides
  came to agree on their own, so the row closes as the files do); ``TranslationLossy`` →
  ``losses``.
* ``InstructionSync.ConflictFound/ConflictSettled`` (:mod:`events.instructions`, conflicts
  between personal instruction files) → ``conflicts`` too: kind ``instruction``, name the
  heading the blocks sit under (or the conflict id), scope the group (``user``), sides
  client → a short preview of its version, masked again here with :mod:`events.secrets`
  (client → digest for version 1 events, which kept no preview); settled with resolution
  ``take`` (and ``chosen_client``), ``value`` (a person's Markdown) or ``agreed``.

After each batch the derived status columns are recomputed in SQL: an entity row is
``conflict`` when an open conflict names its client, ``in-sync`` when every client holding the
entity holds the same digest, else ``drifted``; a file is ``error`` when its last read failed,
else the worst status of its client's entities.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, ClassVar

import duckdb

from events.secrets import mask
from projections.read_model import ProjectedEvent, ReadModel, scratch_table

__all__ = ["SYNC_READ_MODELS", "SyncReadModel", "write_id"]


def write_id(client: str, path: str, pre_image_ref: str | None, sha256: str) -> str:
    """Return the id of one file write (the same for every entity the write carried)."""
    blob = f"{client}\0{path}\0{pre_image_ref or ''}\0{sha256}".encode()
    return hashlib.sha256(blob).hexdigest()[:16]


_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS clients (
        client VARCHAR NOT NULL, path VARCHAR NOT NULL, scope VARCHAR, present BOOLEAN,
        sha256 VARCHAR, size BIGINT, last_seen TIMESTAMP, error VARCHAR, status VARCHAR,
        PRIMARY KEY (client, path))""",
    # Added later: read models built before it get the column on the next start.
    "ALTER TABLE clients ADD COLUMN IF NOT EXISTS error_since TIMESTAMP",
    """CREATE TABLE IF NOT EXISTS sync_entity_names (
        aggregate_id VARCHAR PRIMARY KEY, kind VARCHAR, name VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS entities (
        kind VARCHAR NOT NULL, name VARCHAR NOT NULL, scope VARCHAR NOT NULL,
        client VARCHAR NOT NULL, digest VARCHAR, base_digest VARCHAR, present BOOLEAN,
        updated_at TIMESTAMP, status VARCHAR, PRIMARY KEY (kind, name, scope, client))""",
    """CREATE TABLE IF NOT EXISTS sync_log (
        write_id VARCHAR PRIMARY KEY, ts TIMESTAMP, action VARCHAR, client VARCHAR,
        path VARCHAR, sha256 VARCHAR, pre_image_ref VARCHAR, entities VARCHAR, reason VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS conflicts (
        conflict_id VARCHAR PRIMARY KEY, aggregate_id VARCHAR, kind VARCHAR, name VARCHAR,
        scope VARCHAR, sides VARCHAR, base_digest VARCHAR, status VARCHAR,
        detected_at TIMESTAMP, resolved_at TIMESTAMP, resolution VARCHAR, chosen_client VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS losses (
        client VARCHAR NOT NULL, kind VARCHAR NOT NULL, name VARCHAR NOT NULL,
        field VARCHAR NOT NULL, reason VARCHAR, ts TIMESTAMP,
        PRIMARY KEY (client, kind, name, field))""",
)

_STATUS_SQL = (
    """UPDATE entities SET status = CASE
        WHEN EXISTS (SELECT 1 FROM conflicts c WHERE c.status = 'open' AND c.kind = entities.kind
            AND c.name = entities.name AND c.scope = entities.scope
            AND json_exists(c.sides, '$."' || entities.client || '"')) THEN 'conflict'
        WHEN (SELECT count(DISTINCT coalesce(e.digest, '')) FROM entities e
            WHERE e.kind = entities.kind AND e.name = entities.name
            AND e.scope = entities.scope) = 1 THEN 'in-sync'
        ELSE 'drifted' END""",
    """UPDATE clients SET status = CASE
        WHEN error IS NOT NULL THEN 'error'
        WHEN EXISTS (SELECT 1 FROM entities e WHERE e.client = clients.client
            AND e.status = 'conflict') THEN 'conflict'
        WHEN EXISTS (SELECT 1 FROM entities e WHERE e.client = clients.client
            AND e.status = 'drifted') THEN 'drifted'
        ELSE 'in-sync' END""",
)


class SyncReadModel(ReadModel):
    """Maintains the five sync tables (see the module docstring)."""

    name = "sync"
    topics: ClassVar[tuple[str, ...]] = (
        "events.sync:ClientFile.",
        "events.sync:SyncLedger.",
        "events.placement:SyncPlacement.",
        "events.instructions:InstructionSync.",
    )
    SCHEMA = _SCHEMA

    def apply_batch(self, con: duckdb.DuckDBPyConnection, rows: list[ProjectedEvent]) -> None:
        """Apply the batch row by row (sync batches are small), then recompute statuses."""
        for row in rows:
            kind = row.type.rsplit(".", 1)[-1]
            handler = _HANDLERS.get(row.type.split(".", 1)[0] + "." + kind)
            if handler is not None:
                handler(con, row)
        for statement in _STATUS_SQL:
            con.execute(statement)


def _ts(row: ProjectedEvent) -> str | None:
    return row.timestamp or None


def _file(con: duckdb.DuckDBPyConnection, row: ProjectedEvent) -> None:
    b, kind = row.body, row.type.rsplit(".", 1)[-1]
    if kind == "Discovered":
        con.execute(
            "INSERT OR IGNORE INTO clients (client, path, scope, present, last_seen) "
            "VALUES (?, ?, ?, true, CAST(? AS TIMESTAMP))",
            [b.get("client"), b.get("path"), b.get("scope"), _ts(row)],
        )
        con.execute(
            "INSERT OR IGNORE INTO sync_entity_names VALUES (?, '__file__', ?)",
            [row.aggregate_id, json.dumps([b.get("client"), b.get("path")])],
        )
        return
    found = con.execute(
        "SELECT name FROM sync_entity_names WHERE aggregate_id = ? AND kind = '__file__'",
        [row.aggregate_id],
    ).fetchall()
    if not found:
        return
    client, path = json.loads(found[0][0])
    sets = {
        "Observed": "present = true, error = NULL, error_since = NULL, sha256 = ?, size = ?",
        # SET reads the old row: the first failure after a good read dates the error.
        "ParseFailed": "error_since = CASE WHEN error IS NULL THEN CAST(? AS TIMESTAMP) "
        "ELSE error_since END, error = ?",
        "Vanished": "present = false",
    }[kind]
    params: list[Any] = {
        "Observed": [b.get("sha256"), b.get("size")],
        "ParseFailed": [_ts(row), b.get("error")],
        "Vanished": [],
    }[kind]
    con.execute(
        f"UPDATE clients SET {sets}, last_seen = CAST(? AS TIMESTAMP) "
        "WHERE client = ? AND path = ?",
        [*params, _ts(row), client, path],
    )


def _entity_name(con: duckdb.DuckDBPyConnection, row: ProjectedEvent) -> tuple[str, str] | None:
    found = con.execute(
        "SELECT kind, name FROM sync_entity_names WHERE aggregate_id = ?", [row.aggregate_id]
    ).fetchall()
    return None if not found else (str(found[0][0]), str(found[0][1]))


def _held(
    con: duckdb.DuckDBPyConnection, row: ProjectedEvent, digest: str | None, *, base: bool
) -> None:
    name = _entity_name(con, row)
    if name is None:
        return
    b = row.body
    key = [name[0], name[1], b.get("scope", "user"), b.get("client")]
    con.execute(
        "INSERT OR IGNORE INTO entities (kind, name, scope, client) VALUES (?, ?, ?, ?)", key
    )
    base_sql = ", base_digest = ?" if base else ""
    con.execute(
        f"UPDATE entities SET digest = ?, present = ?, updated_at = CAST(? AS TIMESTAMP)"
        f"{base_sql} WHERE kind = ? AND name = ? AND scope = ? AND client = ?",
        [digest, digest is not None, _ts(row), *([digest] if base else []), *key],
    )


def _opened(con: duckdb.DuckDBPyConnection, row: ProjectedEvent) -> None:
    con.execute(
        "INSERT OR IGNORE INTO sync_entity_names VALUES (?, ?, ?)",
        [row.aggregate_id, row.body.get("kind"), row.body.get("name")],
    )


def _changed(con: duckdb.DuckDBPyConnection, row: ProjectedEvent) -> None:
    _held(con, row, row.body.get("digest"), base=False)


def _removed(con: duckdb.DuckDBPyConnection, row: ProjectedEvent) -> None:
    _held(con, row, None, base=False)


def _applied(con: duckdb.DuckDBPyConnection, row: ProjectedEvent) -> None:
    b = row.body
    _held(con, row, b.get("digest"), base=True)
    wid = write_id(
        str(b.get("client")), str(b.get("path")), b.get("pre_image_ref"), str(b.get("sha256"))
    )
    _log(
        con,
        row,
        wid,
        "write",
        str(b.get("client")),
        str(b.get("path")),
        b.get("sha256"),
        b.get("pre_image_ref"),
        None,
    )


def _abandoned(con: duckdb.DuckDBPyConnection, row: ProjectedEvent) -> None:
    b = row.body
    wid = f"abandoned:{row.position}"
    _log(
        con,
        row,
        wid,
        "abandoned",
        str(b.get("client")),
        str(b.get("path")),
        None,
        None,
        b.get("reason"),
    )


def _reverted(con: duckdb.DuckDBPyConnection, row: ProjectedEvent) -> None:
    wid = str(row.body.get("write_id"))
    con.execute(
        "INSERT OR IGNORE INTO sync_log (write_id, ts, action, client, path, sha256, "
        "pre_image_ref, entities, reason) SELECT 'revert:' || write_id, CAST(? AS TIMESTAMP), "
        "'revert', client, path, pre_image_ref, sha256, entities, ? FROM sync_log "
        "WHERE write_id = ?",
        [_ts(row), f"reverted write {wid}", wid],
    )
    con.execute("UPDATE sync_log SET reason = 'reverted' WHERE write_id = ?", [wid])


def _log(
    con: duckdb.DuckDBPyConnection,
    row: ProjectedEvent,
    wid: str,
    action: str,
    client: str,
    path: str,
    sha: Any,
    pre: Any,
    reason: Any,
) -> None:
    name = _entity_name(con, row)
    entity = "" if name is None else f"{name[0]}:{name[1]}"
    con.execute(
        "INSERT OR IGNORE INTO sync_log VALUES (?, CAST(? AS TIMESTAMP), ?, ?, ?, ?, ?, '', ?)",
        [wid, _ts(row), action, client, path, sha, pre, reason],
    )
    con.execute(
        "UPDATE sync_log SET entities = CASE WHEN entities = '' THEN ? "
        "WHEN strpos(entities, ?) > 0 THEN entities ELSE entities || ',' || ? END "
        "WHERE write_id = ?",
        [entity, entity, entity, wid],
    )


def _placed(con: duckdb.DuckDBPyConnection, row: ProjectedEvent) -> None:
    b = row.body
    pid = str(b.get("placement_id"))
    con.execute(
        "INSERT OR IGNORE INTO sync_entity_names VALUES (?, '__placement__', ?)",
        [row.aggregate_id, pid],
    )
    clients = ",".join(str(c) for c in b.get("clients") or [])
    con.execute(
        "INSERT OR IGNORE INTO sync_log VALUES (?, CAST(? AS TIMESTAMP), ?, ?, ?, ?, ?, ?, NULL)",
        [
            pid,
            _ts(row),
            b.get("action"),
            clients,
            b.get("path"),
            b.get("sha256"),
            b.get("pre_image_ref"),
            b.get("subject"),
        ],
    )


def _unplaced(con: duckdb.DuckDBPyConnection, row: ProjectedEvent) -> None:
    found = con.execute(
        "SELECT name FROM sync_entity_names WHERE aggregate_id = ? AND kind = '__placement__'",
        [row.aggregate_id],
    ).fetchall()
    if not found:
        return
    pid = str(found[0][0])
    con.execute(
        "INSERT OR IGNORE INTO sync_log (write_id, ts, action, client, path, sha256, "
        "pre_image_ref, entities, reason) SELECT 'revert:' || write_id, CAST(? AS TIMESTAMP), "
        "'revert', client, path, NULL, NULL, entities, ? FROM sync_log WHERE write_id = ?",
        [_ts(row), f"reverted placement {pid}", pid],
    )
    con.execute("UPDATE sync_log SET reason = 'reverted' WHERE write_id = ?", [pid])


def _conflict(con: duckdb.DuckDBPyConnection, row: ProjectedEvent) -> None:
    name = _entity_name(con, row) or ("", "")
    b = row.body
    con.execute(
        "INSERT OR IGNORE INTO conflicts (conflict_id, aggregate_id, kind, name, scope, sides, "
        "base_digest, status, detected_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'open', "
        "CAST(? AS TIMESTAMP))",
        [
            b.get("conflict_id"),
            row.aggregate_id,
            name[0],
            name[1],
            b.get("scope", "user"),
            json.dumps(b.get("sides") or {}, sort_keys=True),
            b.get("base_digest"),
            _ts(row),
        ],
    )


def _resolved(con: duckdb.DuckDBPyConnection, row: ProjectedEvent) -> None:
    b = row.body
    con.execute(
        "UPDATE conflicts SET status = 'resolved', resolved_at = CAST(? AS TIMESTAMP), "
        "resolution = ?, chosen_client = ? WHERE aggregate_id = ? AND scope = ? "
        "AND status = 'open'",
        [
            _ts(row),
            b.get("resolution"),
            b.get("chosen_client"),
            row.aggregate_id,
            b.get("scope", "user"),
        ],
    )


def _instructions_started(con: duckdb.DuckDBPyConnection, row: ProjectedEvent) -> None:
    con.execute(
        "INSERT OR IGNORE INTO sync_entity_names VALUES (?, '__instructions__', ?)",
        [row.aggregate_id, row.body.get("group") or "user"],
    )


def _instruction_conflict(con: duckdb.DuckDBPyConnection, row: ProjectedEvent) -> None:
    b = row.body
    found = con.execute(
        "SELECT name FROM sync_entity_names WHERE aggregate_id = ? AND kind = '__instructions__'",
        [row.aggregate_id],
    ).fetchall()
    previews = b.get("previews") or {}
    sides = {
        str(c): mask(str(previews[c])) if c in previews else (b.get("sides") or {}).get(c)
        for c in b.get("clients") or []
    }
    con.execute(
        "INSERT OR IGNORE INTO conflicts (conflict_id, aggregate_id, kind, name, scope, sides, "
        "status, detected_at) VALUES (?, ?, 'instruction', ?, ?, ?, 'open', "
        "CAST(? AS TIMESTAMP))",
        [
            b.get("conflict_id"),
            row.aggregate_id,
            mask(str(b.get("label") or b.get("conflict_id"))),
            str(found[0][0]) if found else "user",
            json.dumps(sides, sort_keys=True),
            _ts(row),
        ],
    )


def _instruction_settled(con: duckdb.DuckDBPyConnection, row: ProjectedEvent) -> None:
    b = row.body
    take = b.get("take") or None
    resolution = "value" if b.get("text") is not None else ("take" if take else "agreed")
    con.execute(
        "UPDATE conflicts SET status = 'resolved', resolved_at = CAST(? AS TIMESTAMP), "
        "resolution = ?, chosen_client = ? WHERE conflict_id = ? AND aggregate_id = ? "
        "AND status = 'open'",
        [_ts(row), resolution, take, b.get("conflict_id"), row.aggregate_id],
    )


def _lossy(con: duckdb.DuckDBPyConnection, row: ProjectedEvent) -> None:
    name = _entity_name(con, row) or ("", "")
    b = row.body
    columns: dict[str, list[Any]] = {
        "client": [b.get("client")],
        "kind": [name[0]],
        "name": [name[1]],
        "field": [b.get("field")],
        "reason": [b.get("reason")],
        "ts": [_ts(row)],
    }
    with scratch_table(con, "_sync_losses", columns) as batch:
        con.execute(
            f"INSERT OR REPLACE INTO losses SELECT client, kind, name, field, reason, "
            f"CAST(ts AS TIMESTAMP) FROM {batch}"
        )


_HANDLERS = {
    "ClientFile.Discovered": _file,
    "ClientFile.Observed": _file,
    "ClientFile.ParseFailed": _file,
    "ClientFile.Vanished": _file,
    "SyncLedger.Opened": _opened,
    "SyncLedger.EntityChanged": _changed,
    "SyncLedger.EntityRemoved": _removed,
    "SyncLedger.WriteApplied": _applied,
    "SyncLedger.WriteAbandoned": _abandoned,
    "SyncLedger.ChangeReverted": _reverted,
    "SyncLedger.ConflictDetected": _conflict,
    "SyncLedger.ConflictResolved": _resolved,
    "SyncLedger.TranslationLossy": _lossy,
    "SyncPlacement.Placed": _placed,
    "SyncPlacement.Reverted": _unplaced,
    "InstructionSync.Started": _instructions_started,
    "InstructionSync.ConflictFound": _instruction_conflict,
    "InstructionSync.ConflictSettled": _instruction_settled,
}

#: The sync read models, for :func:`projections.projector.default_read_models`.
SYNC_READ_MODELS: tuple[type[ReadModel], ...] = (SyncReadModel,)
