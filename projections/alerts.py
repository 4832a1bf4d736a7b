"""Read model ``alerts``: alerts raised for a human and whether they were acknowledged.

Contract (events from :mod:`events.runtime`):

* ``Alert.Raised(alert_id, severity, source, message)`` inserts a row (first raise wins);
* ``Alert.Acknowledged(by)`` marks the row of the same aggregate acknowledged. It carries no
  ``alert_id``, so rows also keep their ``aggregate_id``.
"""

from __future__ import annotations

from typing import Any, ClassVar

import duckdb

from projections.read_model import ProjectedEvent, ReadModel, scratch_table

__all__ = ["AlertsReadModel"]


class AlertsReadModel(ReadModel):
    """Maintains ``alerts(alert_id PK, severity, source, message, raised_at, acknowledged…)``."""

    name = "alerts"
    topics: ClassVar[tuple[str, ...]] = ("events.runtime:Alert.",)
    SCHEMA = """
        CREATE TABLE IF NOT EXISTS alerts (
            alert_id VARCHAR PRIMARY KEY,
            aggregate_id VARCHAR NOT NULL,
            severity VARCHAR,
            source VARCHAR,
            message VARCHAR,
            raised_at TIMESTAMP,
            acknowledged BOOLEAN NOT NULL DEFAULT false,
            acknowledged_by VARCHAR,
            acknowledged_at TIMESTAMP
        )
    """

    def apply_batch(self, con: duckdb.DuckDBPyConnection, rows: list[ProjectedEvent]) -> None:
        """Insert newly raised alerts, then apply acknowledgements by aggregate id."""
        raised: dict[str, dict[str, Any]] = {}
        acks: dict[str, tuple[str, str]] = {}
        for row in rows:
            kind = row.type.rsplit(".", 1)[-1]
            if kind == "Raised" and isinstance(row.body.get("alert_id"), str):
                raised.setdefault(row.body["alert_id"], {**row.body, "_row": row})
            elif kind == "Acknowledged":
                acks[row.aggregate_id] = (str(row.body.get("by", "")), row.timestamp)
        if raised:
            self._insert(con, raised)
        if acks:
            columns: dict[str, list[Any]] = {
                "aggregate_id": list(acks),
                "by": [by for by, _ in acks.values()],
                "at": [at or None for _, at in acks.values()],
            }
            with scratch_table(con, "_alerts_acks", columns) as batch:
                con.execute(
                    f"""UPDATE alerts SET acknowledged = true, acknowledged_by = b.by,
                        acknowledged_at = CAST(b.at AS TIMESTAMP)
                    FROM {batch} b WHERE alerts.aggregate_id = b.aggregate_id"""
                )

    @staticmethod
    def _insert(con: duckdb.DuckDBPyConnection, raised: dict[str, dict[str, Any]]) -> None:
        columns: dict[str, list[Any]] = {
            "alert_id": list(raised),
            "aggregate_id": [body["_row"].aggregate_id for body in raised.values()],
            "raised_at": [body["_row"].timestamp or None for body in raised.values()],
        }
        for key in ("severity", "source", "message"):
            columns[key] = [_text(body.get(key)) for body in raised.values()]
        with scratch_table(con, "_alerts_raised", columns) as batch:
            con.execute(
                f"""INSERT OR IGNORE INTO alerts
                    (alert_id, aggregate_id, severity, source, message, raised_at)
                SELECT alert_id, aggregate_id, severity, source, message,
                    CAST(raised_at AS TIMESTAMP) FROM {batch}"""
            )


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
