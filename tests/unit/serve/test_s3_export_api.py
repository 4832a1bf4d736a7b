"""``POST /api/v1/exports/s3`` against a real S3-compatible server (moto on 127.0.0.1)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from projections.s3_target import S3Target, export_to_s3
from serve.schemas import S3ExportDone, S3ExportRequest
from tests.integration.test_s3_export import BUCKET, SECRET, Moto, clean_bucket, moto
from tests.unit.serve.conftest import AppFactory, FakeServices

__all__ = ["clean_bucket", "moto"]  # fixtures used by name
JSON = {"Content-Type": "application/json"}


class _S3Services(FakeServices):
    """The fake's real DuckDB, exported with the production S3 code to the moto server."""

    def __init__(self, tmp: Path, moto: Moto) -> None:
        super().__init__(tmp)
        self.moto = moto

    async def export_s3(self, request: S3ExportRequest) -> S3ExportDone:
        source = request.table if request.table is not None else str(request.query)
        target = S3Target.parse(request.target)
        done = export_to_s3(self.db, source, request.format, target, self.moto.config(), self.tmp)
        return S3ExportDone(url=done.url, rows=done.rows, bytes=done.bytes, sha256=done.sha256)


def test_an_admin_exports_a_table_to_s3_and_gets_its_hash(
    clean_bucket: Moto, tmp_path: Path, make_client: AppFactory
) -> None:
    """The object is at the key with the answered SHA-256 and rows; a missing bucket is a
    clear error with nothing written; neither table nor query is refused; no secret leaks."""
    api = make_client(_S3Services(tmp_path, clean_bucket), authed=True)
    target = f"s3://{BUCKET}/api/clients.parquet"
    done = api.post("/api/v1/exports/s3", json={"table": "clients", "target": target}, headers=JSON)
    assert done.status_code == 200, done.text
    answer = done.json()
    with clean_bucket.fs().open_input_stream(f"{BUCKET}/api/clients.parquet") as f:
        data = f.read()
    assert hashlib.sha256(data).hexdigest() == answer["sha256"]
    assert answer["rows"] == 2
    assert pq.read_table(pa.BufferReader(data)).num_rows == 2

    missing = api.post(
        "/api/v1/exports/s3",
        json={"query": "SELECT 1 AS x", "target": "s3://no-such-bucket/x.csv", "format": "csv"},
        headers=JSON,
    )
    assert missing.status_code >= 400
    assert "no-such-bucket" in missing.json()["detail"]
    assert SECRET not in missing.text
    neither = api.post("/api/v1/exports/s3", json={"target": target}, headers=JSON)
    assert neither.status_code == 400
    assert sorted(clean_bucket.objects()) == ["api/clients.parquet"]
