"""S3 exports against a real S3-compatible server (moto in server mode on 127.0.0.1)."""

from __future__ import annotations

import hashlib
import io
import json
import logging
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.fs as pafs
import pyarrow.parquet as pq
import pytest
from moto.server import ThreadedMotoServer

from actors.lifecycle import raise_alert
from events.errors import ProjectionError
from projections.s3_target import S3Config, S3Target, export_to_s3, upload_stream
from synapse import bootstrap
from synapse.cli import main
from synapse.settings import load_settings

BUCKET = "synapse-exports"
REGION = "us-east-1"
SECRET = "s3cr3t-Never-Print-Me-9f2c"
ADMIN_SECRET = "testing"


class _RequestLog:
    """WSGI middleware that notes each request's method and query string."""

    def __init__(self, app: Callable[..., Any]) -> None:
        self.app = app
        self.requests: list[tuple[str, str]] = []

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        self.requests.append((environ["REQUEST_METHOD"], environ.get("QUERY_STRING", "")))
        return self.app(environ, start_response)

    def count(self, method: str, query_part: str) -> int:
        return sum(1 for m, q in self.requests if m == method and query_part in q)


class Moto:
    """A running moto server: its endpoint, a request log and an admin filesystem."""

    def __init__(self, endpoint: str, log: _RequestLog) -> None:
        self.endpoint = endpoint
        self.log = log

    def fs(self, access_key: str = "testing", secret_key: str = ADMIN_SECRET) -> Any:
        return pafs.S3FileSystem(
            access_key=access_key,
            secret_key=secret_key,
            endpoint_override=self.endpoint,
            region=REGION,
            allow_bucket_creation=True,
        )

    def config(self, access_key: str = "testing", secret_key: str = SECRET) -> S3Config:
        return S3Config(
            endpoint=self.endpoint, region=REGION, access_key=access_key, secret_key=secret_key
        )

    def set_auth_after(self, actions: str) -> None:
        """Make moto check signatures after ``actions`` more requests ("inf": never)."""
        request = urllib.request.Request(  # noqa: S310 - a loopback http URL built here
            f"{self.endpoint}/moto-api/reset-auth",
            data=actions.encode(),
            method="POST",
            headers={"Content-Type": "text/plain"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            assert response.status == 200

    def environ(self) -> dict[str, str]:
        """The AWS environment a user would set to reach this server (test key, ``SECRET``)."""
        return {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": SECRET,
            "AWS_REGION": REGION,
            "SYNAPSE_S3_ENDPOINT": self.endpoint,
        }

    def objects(self, prefix: str = "") -> dict[str, int]:
        """Every object under ``bucket/prefix``, by key, with its size."""
        selector = pafs.FileSelector(f"{BUCKET}/{prefix}", recursive=True, allow_not_found=True)
        return {
            info.path.removeprefix(f"{BUCKET}/"): info.size
            for info in self.fs().get_file_info(selector)
            if info.type == pafs.FileType.File
        }


@pytest.fixture(scope="module")
def moto() -> Iterator[Moto]:
    werkzeug = logging.getLogger("werkzeug")
    level = werkzeug.level
    werkzeug.setLevel(logging.ERROR)  # one access-log line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    # The log wraps the app the server already serves (werkzeug reads server.app per request).
    log = _RequestLog(server._server.app)  # type: ignore[union-attr]
    server._server.app = log  # type: ignore[union-attr]
    m = Moto(f"http://{host}:{port}", log)
    m.fs().create_dir(BUCKET)
    try:
        yield m
    finally:
        server.stop()
        werkzeug.setLevel(level)


@pytest.fixture
def clean_bucket(moto: Moto) -> Moto:
    fs = moto.fs()
    for key in moto.objects():
        fs.delete_file(f"{BUCKET}/{key}")
    return moto


@pytest.fixture
def table_db(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    con = duckdb.connect(str(tmp_path / "p.duckdb"))
    con.execute(
        "CREATE TABLE items AS SELECT i AS id, 'item ' || i AS name, i * 0.5 AS price "
        "FROM range(1000) t(i)"
    )
    yield con
    con.close()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, moto: Moto) -> Path:
    monkeypatch.setenv("SYNAPSE_HOME", str(tmp_path / "home"))
    for name, value in moto.environ().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    settings = load_settings()
    bootstrap.prepare_home(settings)
    store = bootstrap.open_store(settings)
    for i in range(3):
        raise_alert(store, alert_id=f"a{i}", severity="info", source="s3-test", message=f"m{i}")
    store.close_quietly()
    return tmp_path / "home"


def _read(moto: Moto, key: str) -> bytes:
    with moto.fs().open_input_stream(f"{BUCKET}/{key}") as f:
        return bytes(f.read())


def _home_bytes(home: Path) -> bytes:
    return b"".join(p.read_bytes() for p in home.rglob("*") if p.is_file())


@pytest.mark.parametrize("fmt", ["parquet", "csv", "ndjson"])
def test_export_to_s3_round_trips_the_rows(
    clean_bucket: Moto, table_db: duckdb.DuckDBPyConnection, tmp_path: Path, fmt: str
) -> None:
    """A table exported to S3 reads back row for row; size and SHA-256 match the object."""
    target = S3Target.parse(f"s3://{BUCKET}/exports/2026/items.{fmt}")
    result = export_to_s3(table_db, "items", fmt, target, clean_bucket.config(), tmp_path)  # type: ignore[arg-type]
    body = _read(clean_bucket, f"exports/2026/items.{fmt}")
    assert (result.url, result.rows, result.bytes) == (target.url, 1000, len(body))
    assert result.sha256 == hashlib.sha256(body).hexdigest()
    expected = table_db.execute("SELECT id, name, price FROM items ORDER BY id").fetchall()
    if fmt == "parquet":
        rows = pq.read_table(io.BytesIO(body)).to_pylist()
        got = [(r["id"], r["name"], r["price"]) for r in sorted(rows, key=lambda r: r["id"])]
    elif fmt == "ndjson":
        rows = [json.loads(line) for line in body.decode().splitlines()]
        got = [(r["id"], r["name"], r["price"]) for r in sorted(rows, key=lambda r: r["id"])]
    else:
        lines = body.decode().splitlines()
        assert lines[0] == "id,name,price"
        got = sorted(
            ((int(a), b, float(c)) for a, b, c in (line.split(",") for line in lines[1:])),
        )
    assert got == [(int(a), b, float(c)) for a, b, c in expected]
    assert clean_bucket.objects() == {f"exports/2026/items.{fmt}": len(body)}  # no staging left
    assert list(tmp_path.glob(".s3-*")) == []  # the local temporary file is gone


def test_large_parquet_goes_up_in_several_parts(
    clean_bucket: Moto, table_db: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    """A Parquet export over 10 MB is a multipart upload and arrives whole."""
    table_db.execute(
        "CREATE TABLE big AS SELECT i AS id, md5(i::VARCHAR) || md5((i * 7919)::VARCHAR) "
        "|| md5((i * 104729)::VARCHAR) AS blob FROM range(400000) t(i)"
    )
    uploads_before = clean_bucket.log.count("POST", "uploads")
    parts_before = clean_bucket.log.count("PUT", "partNumber=")
    target = S3Target.parse(f"s3://{BUCKET}/big/big.parquet")
    result = export_to_s3(table_db, "big", "parquet", target, clean_bucket.config(), tmp_path)
    assert result.bytes > 10 * 1024 * 1024
    assert clean_bucket.log.count("POST", "uploads") - uploads_before == 1
    assert clean_bucket.log.count("PUT", "partNumber=") - parts_before >= 2
    body = _read(clean_bucket, "big/big.parquet")
    assert len(body) == result.bytes
    assert hashlib.sha256(body).hexdigest() == result.sha256
    read_back = pq.read_table(io.BytesIO(body))
    assert read_back.num_rows == result.rows == 400000
    assert read_back.column("id").to_pylist()[:3] == [0, 1, 2]


def test_missing_bucket_is_a_clear_error_and_nothing_is_written(
    moto: Moto, table_db: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    """A bucket that does not exist is named, with the endpoint, and no local file is left."""
    target = S3Target.parse("s3://no-such-bucket/x/items.parquet")
    with pytest.raises(ProjectionError) as caught:
        export_to_s3(table_db, "items", "parquet", target, moto.config(), tmp_path)
    assert caught.value.message == (f"bucket 'no-such-bucket' does not exist at {moto.endpoint}")
    assert SECRET not in str(caught.value)
    assert list(tmp_path.glob(".s3-*")) == []


def test_cli_exports_a_table_and_a_query_to_s3(
    clean_bucket: Moto, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`synapse export events -o s3://…` uploads Parquet (from the suffix) and says so once."""
    assert main(["export", "events", "-o", f"s3://{BUCKET}/cli/events.parquet"]) == 0
    out = capsys.readouterr()
    body = _read(clean_bucket, "cli/events.parquet")
    sha = hashlib.sha256(body).hexdigest()
    assert out.out == (
        f"wrote s3://{BUCKET}/cli/events.parquet (3 rows, {len(body):,} bytes, sha256 {sha})\n"
    )
    assert pq.read_table(io.BytesIO(body)).num_rows == 3
    query = "SELECT count(*) AS n FROM events"
    assert main(["export", "--query", query, "-o", f"s3://{BUCKET}/cli/n.ndjson"]) == 0
    assert json.loads(_read(clean_bucket, "cli/n.ndjson")) == {"n": 3}
    assert SECRET not in out.out + out.err + capsys.readouterr().err
    assert SECRET.encode() not in _home_bytes(home)
    assert list((home / "exports").glob(".s3-*")) == []


def test_cli_missing_bucket_fails_without_reporting_success(
    clean_bucket: Moto, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A missing bucket exits 1 with one error line and a hint; nothing says `wrote`."""
    assert main(["export", "events", "-o", "s3://nope-bucket/events.parquet"]) == 1
    out = capsys.readouterr()
    assert out.out == ""
    lines = out.err.splitlines()
    assert lines[0] == f"error: bucket 'nope-bucket' does not exist at {clean_bucket.endpoint}"
    assert lines[1].startswith("hint: ")
    assert SECRET not in out.err
    assert list((home / "exports").glob(".s3-*")) == []


def test_bad_credentials_are_refused_clearly(
    clean_bucket: Moto,
    home: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With signature checks on, a wrong key id or secret is a clear error; nothing is stored."""
    import boto3

    clean_bucket.set_auth_after("3")  # CreateUser, PutUserPolicy, CreateAccessKey go unsigned
    try:
        iam = boto3.client(
            "iam",
            endpoint_url=clean_bucket.endpoint,
            region_name=REGION,
            aws_access_key_id="bootstrap",
            aws_secret_access_key="bootstrap",
        )
        iam.create_user(UserName="exporter")
        policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*"}]}
        policy["Statement"][0]["Resource"] = "*"
        iam.put_user_policy(
            UserName="exporter", PolicyName="all", PolicyDocument=json.dumps(policy)
        )
        key = iam.create_access_key(UserName="exporter")["AccessKey"]
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAUNKNOWNKEY000000")
        assert main(["export", "events", "-o", f"s3://{BUCKET}/auth/events.parquet"]) == 1
        err = capsys.readouterr()
        assert err.out == ""
        assert err.err.splitlines()[0] == ("error: S3 refused the credentials (InvalidAccessKeyId)")
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", key["AccessKeyId"])
        assert main(["export", "events", "-o", f"s3://{BUCKET}/auth/events.parquet"]) == 1
        err2 = capsys.readouterr()
        assert err2.err.splitlines()[0] == (
            "error: S3 refused the credentials (SignatureDoesNotMatch)"
        )
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", key["SecretAccessKey"])
        assert main(["export", "events", "-o", f"s3://{BUCKET}/auth/ok.parquet"]) == 0
        assert capsys.readouterr().out.startswith(f"wrote s3://{BUCKET}/auth/ok.parquet")
    finally:
        clean_bucket.set_auth_after("inf")
    assert set(clean_bucket.objects("auth/")) == {"auth/ok.parquet"}
    for text in (err.out, err.err, err2.out, err2.err):
        assert SECRET not in text
        assert key["SecretAccessKey"] not in text
    assert SECRET.encode() not in _home_bytes(home)


def test_pyarrow_completes_a_multipart_upload_left_by_an_exception(clean_bucket: Moto) -> None:
    """pyarrow has no abort: leaving ``open_output_stream`` by an exception publishes the parts.

    This is why :mod:`projections.s3_target` uploads under a staging key and copies to the
    final key only after ``close()`` returned. If pyarrow starts aborting, this test says so.
    """
    fs = clean_bucket.fs()

    def write_then_fail() -> None:
        with fs.open_output_stream(f"{BUCKET}/raw/half.bin") as out:
            for _ in range(3):
                out.write(b"x" * (6 * 1024 * 1024))
            raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError):
        write_then_fail()
    assert clean_bucket.objects("raw/") == {"raw/half.bin": 18 * 1024 * 1024}


class _FailingSource(io.RawIOBase):
    """A readable stream that raises after ``limit`` bytes, like a disk error mid-upload."""

    def __init__(self, limit: int) -> None:
        self.limit, self.sent = limit, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self.sent >= self.limit:
            raise OSError(5, "Input/output error (simulated)")
        n = min(len(buffer), self.limit - self.sent)
        buffer[:n] = b"y" * n
        self.sent += n
        return n


@pytest.mark.parametrize("error", [KeyboardInterrupt, OSError])
def test_interrupted_upload_leaves_no_object(clean_bucket: Moto, error: type) -> None:
    """An upload that fails after several parts leaves nothing at the key, nor a staging object."""
    target = S3Target.parse(f"s3://{BUCKET}/cut/events.parquet")
    config = clean_bucket.config()
    parts_before = clean_bucket.log.count("PUT", "partNumber=")
    source: Any = _FailingSource(20 * 1024 * 1024)
    if error is KeyboardInterrupt:

        class _Interrupted(_FailingSource):
            def readinto(self, buffer: Any) -> int:
                if self.sent >= self.limit:
                    raise KeyboardInterrupt
                return super().readinto(buffer)

        source = _Interrupted(20 * 1024 * 1024)
    with pytest.raises(error):
        upload_stream(io.BufferedReader(source), target, config, content_type="x/y")
    assert clean_bucket.log.count("PUT", "partNumber=") - parts_before >= 2  # parts went up
    assert clean_bucket.objects("cut/") == {}
