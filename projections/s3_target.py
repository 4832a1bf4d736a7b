"""Exports to S3-compatible object storage (``s3://bucket/prefix/name.parquet``).

An S3 export is a local export first (:func:`projections.exports.export` into a temporary
file in the exports folder), then an upload through pyarrow's own S3 filesystem. Credentials
come from the usual AWS environment: ``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY`` /
``AWS_SESSION_TOKEN`` when set, otherwise pyarrow's default chain (``AWS_PROFILE``, the shared
credentials file, instance metadata). ``SYNAPSE_S3_ENDPOINT``, ``AWS_ENDPOINT_URL_S3`` or
``AWS_ENDPOINT_URL`` point it at an S3-compatible server (MinIO, Ceph, moto, ...).

pyarrow's output stream *completes* a multipart upload when it is closed, even when the
``with`` block is left by an exception (there is no abort in its Python API; a test pins this).
So the object is uploaded under a hidden staging key beside the target, and only after that
upload's ``close()`` returned is it copied server-side (one atomic ``CopyObject``) to the final
key and the staging object deleted. An interrupted upload therefore never leaves a partial
object at the final key, and nothing is reported as exported.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Final

import pyarrow.fs as pafs

from events.errors import ProjectionError, UserInputError
from projections.exports import ExportFormat, export

if TYPE_CHECKING:
    import duckdb

__all__ = [
    "S3Config",
    "S3ExportResult",
    "S3Target",
    "S3Upload",
    "download_file",
    "export_to_s3",
    "is_s3_url",
    "upload_file",
    "upload_stream",
]

CONTENT_TYPES: Final[dict[str, str]] = {
    "csv": "text/csv",
    "ndjson": "application/x-ndjson",
    "parquet": "application/vnd.apache.parquet",
}
#: S3's limit for a single ``CopyObject``, the step that publishes the finished upload.
MAX_OBJECT_BYTES: Final = 5 * 1024**3
_CHUNK: Final = 8 * 1024 * 1024
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]")
_AWS_ERROR = re.compile(r"AWS Error (\w+) during (\w+) operation: ?([^\n]*)")
_CREDENTIAL_ERRORS: Final = frozenset(
    {
        "INVALID_ACCESS_KEY_ID",
        "SIGNATURE_DOES_NOT_MATCH",
        "EXPIRED_TOKEN",
        "INVALID_CLIENT_TOKEN_ID",
    }
)


def is_s3_url(text: str) -> bool:
    """True when ``text`` names an S3 object (``s3://...``) rather than a local path."""
    return text.lower().startswith("s3://")


@dataclass(frozen=True)
class S3Target:
    """Where an export goes: a bucket and an object key."""

    bucket: str
    key: str

    @classmethod
    def parse(cls, url: str) -> S3Target:
        """Split ``s3://bucket/prefix/name`` into bucket and key.

        Raises:
            UserInputError: not an ``s3://`` URL, a bad bucket name, or no object name.
        """
        if not is_s3_url(url):
            msg = f"not an S3 URL: {url!r}"
            raise UserInputError(msg, hint="write it as s3://bucket/prefix/name.parquet")
        bucket, _, key = url[len("s3://") :].partition("/")
        if not _BUCKET.fullmatch(bucket):
            msg = f"not a valid S3 bucket name: {bucket!r}"
            raise UserInputError(msg, hint="3-63 lowercase letters, digits, dots or hyphens")
        if not key or key.endswith("/") or "//" in key:
            msg = f"{url!r} names no object"
            raise UserInputError(msg, hint="end the URL with a file name, e.g. .../events.parquet")
        return cls(bucket=bucket, key=key)

    @property
    def url(self) -> str:
        """The ``s3://bucket/key`` form."""
        return f"s3://{self.bucket}/{self.key}"

    @property
    def path(self) -> str:
        """The ``bucket/key`` form pyarrow's filesystem takes."""
        return f"{self.bucket}/{self.key}"

    def staging(self) -> S3Target:
        """A fresh hidden key beside this one, for the upload before it is published."""
        head, _, name = self.key.rpartition("/")
        hidden = f".{name}.{uuid.uuid4().hex}.uploading"
        return S3Target(self.bucket, f"{head}/{hidden}" if head else hidden)


@dataclass(frozen=True)
class S3Config:
    """How to reach the storage: endpoint, region and (optionally) explicit keys.

    The secret key and session token are kept out of ``repr`` and of every message.
    """

    endpoint: str | None = None
    region: str | None = None
    access_key: str | None = None
    secret_key: str | None = field(default=None, repr=False)
    session_token: str | None = field(default=None, repr=False)

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> S3Config:
        """Read the AWS variables (and ``SYNAPSE_S3_ENDPOINT``) from ``environ``."""

        def get(*names: str) -> str | None:
            return next((environ[n].strip() for n in names if environ.get(n, "").strip()), None)

        access, secret = get("AWS_ACCESS_KEY_ID"), get("AWS_SECRET_ACCESS_KEY")
        explicit = access is not None and secret is not None
        return cls(
            endpoint=get("SYNAPSE_S3_ENDPOINT", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"),
            region=get("AWS_REGION", "AWS_DEFAULT_REGION"),
            access_key=access if explicit else None,
            secret_key=secret if explicit else None,
            session_token=get("AWS_SESSION_TOKEN") if explicit else None,
        )

    @property
    def where(self) -> str:
        """The endpoint for messages: the override, or AWS S3 and its region."""
        return self.endpoint or f"AWS S3 ({self.region or 'default region'})"

    def filesystem(self) -> Any:
        """A ``pyarrow.fs.S3FileSystem`` for this configuration."""
        options: dict[str, object] = {}
        if self.access_key is not None:
            options.update(access_key=self.access_key, secret_key=self.secret_key)
            if self.session_token is not None:
                options["session_token"] = self.session_token
        if self.endpoint is not None:
            options["endpoint_override"] = self.endpoint
            if self.endpoint.lower().startswith("http://"):
                options["scheme"] = "http"
        if self.region is not None:
            options["region"] = self.region
        return pafs.S3FileSystem(**options)

    def explain(self, exc: OSError, target: S3Target) -> ProjectionError:
        """Turn pyarrow's S3 error into one clear line, without any secret in it."""
        found = _AWS_ERROR.search(str(exc))
        code, operation, text = found.groups() if found else ("", "", str(exc))
        hint = None
        if code == "NO_SUCH_BUCKET":
            msg = f"bucket {target.bucket!r} does not exist at {self.where}"
            hint = "create it first, or check SYNAPSE_S3_ENDPOINT / AWS_ENDPOINT_URL"
        elif code in _CREDENTIAL_ERRORS:
            msg = f"S3 refused the credentials ({_camel(code)})"
            hint = "check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (or AWS_PROFILE)"
        elif code == "ACCESS_DENIED":
            msg = f"S3 denied access to {target.url} (AccessDenied)"
        elif code == "NETWORK_CONNECTION":
            msg = f"could not reach S3 at {self.where}"
        else:
            detail = f"{_camel(code)} during {operation}: " if code else ""
            first = text.split(" (Request ID")[0].strip().splitlines()
            msg = f"upload to {target.url} failed: {detail}{first[0] if first else 'unknown'}"
        return ProjectionError(self._scrub(msg), hint=hint)

    def _scrub(self, text: str) -> str:
        for secret in (self.secret_key, self.session_token):
            if secret:
                text = text.replace(secret, "***")
        return text


def _camel(code: str) -> str:
    return "".join(part.capitalize() for part in code.split("_"))


@dataclass(frozen=True)
class S3ExportResult:
    """A finished S3 export: the object's URL, its row count, size and SHA-256."""

    url: str
    rows: int
    bytes: int
    sha256: str


@dataclass(frozen=True)
class S3Upload:
    """What :func:`upload_file` sent: size and SHA-256."""

    bytes: int
    sha256: str


def upload_stream(
    source: BinaryIO, target: S3Target, config: S3Config, *, content_type: str, fs: Any = None
) -> tuple[int, str]:
    """Upload ``source`` to ``target``; the object appears there only when complete.

    Args:
        source: an open binary stream, read to its end.
        target: the final bucket and key.
        config: endpoint, region and credentials.
        content_type: the object's ``Content-Type``.
        fs: an S3 filesystem to reuse (default: one built from ``config``).

    Returns:
        The bytes uploaded and their SHA-256 (hex).

    Raises:
        ProjectionError: the storage refused or failed; nothing is left at ``target``.
        OSError: reading ``source`` failed (nothing is left at ``target`` either).
    """
    fs = config.filesystem() if fs is None else fs
    staging = target.staging()
    digest, size = hashlib.sha256(), 0
    with _storage_errors(config, target):
        stream = fs.open_output_stream(staging.path, metadata={"Content-Type": content_type})
    try:
        while chunk := source.read(_CHUNK):  # a local read error propagates unchanged
            digest.update(chunk)
            size += len(chunk)
            with _storage_errors(config, target):
                stream.write(chunk)
        with _storage_errors(config, target):
            stream.close()
        if size > MAX_OBJECT_BYTES:
            msg = f"{target.url}: {size:,} bytes is over the 5 GiB a single S3 copy can publish"
            raise ProjectionError(msg)
        with _storage_errors(config, target):
            fs.copy_file(staging.path, target.path)
    finally:
        _discard(fs, stream, staging)
    return size, digest.hexdigest()


@contextlib.contextmanager
def _storage_errors(config: S3Config, target: S3Target) -> Iterator[None]:
    """Re-raise pyarrow's ``OSError`` from the storage as one clear :class:`ProjectionError`."""
    try:
        yield
    except OSError as exc:
        raise config.explain(exc, target) from exc


def _discard(fs: Any, stream: Any, staging: S3Target) -> None:
    """Remove the staging object, best effort.

    Closing an unfinished stream completes its upload (pyarrow cannot abort one), so the
    object is deleted right after. If the storage is unreachable the multipart upload stays
    incomplete, which S3 never lists as an object.
    """
    with contextlib.suppress(OSError):
        if not stream.closed:
            stream.close()
    with contextlib.suppress(OSError):
        fs.delete_file(staging.path)


def upload_file(path: Path, target: S3Target, config: S3Config, fmt: ExportFormat) -> S3Upload:
    """Upload a finished local export file; see :func:`upload_stream`.

    Returns:
        The bytes uploaded and their SHA-256.

    Raises:
        ProjectionError: the file is too large, or the upload failed.
    """
    size = Path(path).stat().st_size
    if size > MAX_OBJECT_BYTES:
        msg = f"{target.url}: {size:,} bytes is over the 5 GiB a single S3 copy can publish"
        raise ProjectionError(msg)
    with Path(path).open("rb") as source:
        size, sha = upload_stream(source, target, config, content_type=CONTENT_TYPES[fmt])
    return S3Upload(bytes=size, sha256=sha)


def export_to_s3(
    con: duckdb.DuckDBPyConnection,
    source: str,
    fmt: ExportFormat,
    target: S3Target,
    config: S3Config,
    work_dir: Path,
) -> S3ExportResult:
    """Export a table or read-only query to ``target`` through a local file in ``work_dir``.

    Args:
        con: a connection on the projection.
        source: a table name, or a read-only SQL query.
        fmt: ``"csv"``, ``"ndjson"`` or ``"parquet"``.
        target: where the object goes.
        config: endpoint, region and credentials.
        work_dir: folder for the temporary local file (the exports folder).

    Returns:
        The object's URL, rows, bytes and SHA-256.

    Raises:
        QueryRejectedError: unknown table, or a query the guard refuses.
        ProjectionError: the export or the upload failed; nothing is at ``target``.
    """
    local = Path(work_dir) / f".s3-{uuid.uuid4().hex}.{fmt}"
    try:
        result = export(con, source, fmt, local)
        upload = upload_file(local, target, config, fmt)
    finally:
        local.unlink(missing_ok=True)
    return S3ExportResult(target.url, result.rows, upload.bytes, upload.sha256)


def download_file(target: S3Target, dest: Path, config: S3Config) -> int:
    """Fetch the object at ``target`` into ``dest`` (through a temp file beside it).

    Returns:
        The bytes written.

    Raises:
        ProjectionError: the storage refused or failed (``dest`` is untouched).
    """
    fs = config.filesystem()
    temp = dest.with_name(f".{dest.name}.{uuid.uuid4().hex}.partial")
    size = 0
    try:
        with (
            _storage_errors(config, target),
            fs.open_input_stream(target.path) as source,
            temp.open("wb") as out,
        ):
            while chunk := source.read(_CHUNK):
                out.write(chunk)
                size += len(chunk)
        temp.replace(dest)
    finally:
        temp.unlink(missing_ok=True)
    return size
