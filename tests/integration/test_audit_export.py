"""The scheduled audit export against a real folder and a real S3-compatible server (moto)."""

from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from actors.audit_exporter import AuditPolicy, AuditSchedule, export_once
from actors.lifecycle import raise_alert
from events.audit_export import AuditExport
from events.errors import ProjectionError
from events.store import EventStore, StoreConfig
from projections.projector import Projector
from tests.integration.test_s3_export import (  # the moto server fixtures
    BUCKET,
    SECRET,
    Moto,
    clean_bucket,
    moto,
)

__all__ = ["clean_bucket", "moto"]  # fixtures used by name


def _store(tmp_path: Path) -> EventStore:
    return EventStore(StoreConfig(backend="sqlite", sqlite_path=tmp_path / "e.sqlite"))


def _alerts(store: EventStore, tag: str, n: int) -> None:
    for i in range(n):
        raise_alert(store, alert_id=f"{tag}{i}", severity="info", source="audit", message="m")


def _exported(store: EventStore) -> list[AuditExport.Exported]:
    events = [store.decode(n) for n in store.read(0, 100_000)]
    return [e for e in events if isinstance(e, AuditExport.Exported)]


def test_runs_export_only_what_is_new_with_a_verifiable_manifest(tmp_path: Path) -> None:
    """Run 1 exports the log and a snapshot; an idle run writes nothing; run 3 only the rest."""
    store = _store(tmp_path)
    _alerts(store, "a", 3)
    target = tmp_path / "audit"
    policy = AuditPolicy(target=str(target), tables=("events", "alerts"))
    with Projector(tmp_path / "p.duckdb") as projector:
        projector.catch_up(store)
        head1 = store.head()
        first = export_once(store, projector, policy, tmp_path / "work")
        assert first.head == head1
        assert [(o["table"], o["mode"], o["from_position"], o["rows"]) for o in first.objects] == [
            ("events", "incremental", 0, head1),
            ("alerts", "snapshot", 0, 3),
        ]
        for obj in first.objects:
            data = Path(obj["url"]).read_bytes()
            assert hashlib.sha256(data).hexdigest() == obj["sha256"]
            assert len(data) == obj["bytes"]
            assert pq.read_table(obj["url"]).num_rows == obj["rows"]
        manifest = json.loads(Path(first.manifest_url).read_text())
        assert manifest["objects"] == first.objects
        assert [e.objects for e in _exported(store)] == [first.objects]

        projector.catch_up(store)  # the run's own record is now in DuckDB: not new
        idle = export_once(store, projector, policy, tmp_path / "work")
        assert idle.objects == []
        assert len(_exported(store)) == 1

        _alerts(store, "b", 2)
        projector.catch_up(store)
        third = export_once(store, projector, policy, tmp_path / "work")
    events_obj = next(o for o in third.objects if o["table"] == "events")
    assert events_obj["from_position"] == first.head
    assert events_obj["rows"] == third.head - first.head  # the run records and the new alerts
    positions = pq.read_table(events_obj["url"]).column("position").to_pylist()
    assert positions == list(range(first.head + 1, third.head + 1))
    assert next(o for o in third.objects if o["table"] == "alerts")["rows"] == 5
    assert not list((tmp_path / "work").iterdir())  # local temp files are gone


def test_an_s3_run_lands_whole_or_records_nothing(
    clean_bucket: Moto, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A missing bucket fails with nothing recorded; then the next run exports everything to
    S3, each object matching its manifest hash, and the secret key is nowhere in the log."""
    for name, value in clean_bucket.environ().items():
        monkeypatch.setenv(name, value)
    store = _store(tmp_path)
    _alerts(store, "a", 4)
    with Projector(tmp_path / "p.duckdb") as projector:
        projector.catch_up(store)
        missing = AuditPolicy(target="s3://no-such-bucket/audit", tables=("events",))
        with pytest.raises(ProjectionError, match="no-such-bucket"):
            export_once(store, projector, missing, tmp_path / "work")
        assert _exported(store) == []

        policy = AuditPolicy(target=f"s3://{BUCKET}/audit/", tables=("events",))
        run = export_once(store, projector, policy, tmp_path / "work")
    (obj,) = run.objects
    assert obj["url"] == f"s3://{BUCKET}/audit/events/events-{1:012d}-{run.head:012d}.parquet"
    fs = clean_bucket.fs()
    with fs.open_input_stream(obj["url"].removeprefix("s3://")) as f:
        data = f.read()
    assert hashlib.sha256(data).hexdigest() == obj["sha256"]
    with fs.open_input_stream(run.manifest_url.removeprefix("s3://")) as f:
        assert json.loads(f.read())["objects"] == run.objects
    assert not any(".uploading" in key for key in clean_bucket.objects())
    assert SECRET.encode() not in (tmp_path / "e.sqlite").read_bytes()
    assert [e.manifest_url for e in _exported(store)] == [run.manifest_url]


def test_the_schedule_runs_every_interval_and_reports_failures() -> None:
    """Runs repeat on their own; a failing run is reported and the schedule keeps going."""
    calls: list[int] = []
    errors: list[str] = []
    done = threading.Event()

    def run() -> object:
        calls.append(len(calls))
        if len(calls) == 2:
            raise ProjectionError("bucket 'x' does not exist")
        if len(calls) >= 3:
            done.set()
        return None

    schedule = AuditSchedule(run, 0.01, errors.append)
    schedule.start()
    try:
        assert done.wait(30)
    finally:
        schedule.stop()
    assert len(calls) >= 3
    assert errors == ["audit export failed: bucket 'x' does not exist"]


def test_the_cli_exports_offline_and_then_finds_nothing_new(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``synapse audit-export`` with Synapse down runs in-process; the second run is a no-op,
    and no target at all is a clear error."""
    from synapse import bootstrap
    from synapse.cli import main
    from synapse.settings import load_settings

    monkeypatch.setenv("SYNAPSE_HOME", str(tmp_path / "home"))
    settings = load_settings()
    bootstrap.prepare_home(settings)
    store = bootstrap.open_store(settings)
    _alerts(store, "c", 2)
    store.close_quietly()
    target = tmp_path / "audit"

    assert main(["audit-export", "--tables", "events,alerts", "--target", str(target)]) == 0
    out = capsys.readouterr().out
    assert f"wrote {target}/events/events-{1:012d}-" in out
    assert "snapshot" in out
    assert "recorded as AuditExport.Exported" in out
    assert len(list((target / "manifests").glob("*.json"))) == 1

    assert main(["audit-export", "--tables", "events,alerts", "--target", str(target)]) == 0
    assert "nothing new since the last audit export" in capsys.readouterr().out

    assert main(["audit-export"]) == 2  # a usage error
    assert "no audit export target" in capsys.readouterr().err


def test_backup_to_s3_and_restore_from_it(
    clean_bucket: Moto,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``backup -o s3://…/`` uploads the backup then its manifest; ``restore s3://…`` fetches
    both, verifies the hash and restores; a missing manifest is a clear error."""
    from synapse import bootstrap
    from synapse.cli import main
    from synapse.settings import load_settings

    for name, value in {"SYNAPSE_HOME": str(tmp_path / "home"), **clean_bucket.environ()}.items():
        monkeypatch.setenv(name, value)
    settings = load_settings()
    bootstrap.prepare_home(settings)
    store = bootstrap.open_store(settings)
    _alerts(store, "k", 5)
    head = store.head()
    store.close_quietly()

    assert main(["backup", "-o", f"s3://{BUCKET}/backups/"]) == 0
    out = capsys.readouterr().out
    keys = sorted(k for k in clean_bucket.objects("backups/"))
    assert len(keys) == 2
    assert keys[1].endswith(".sqlite.manifest.json")
    assert f"uploaded s3://{BUCKET}/{keys[0]}" in out
    assert SECRET not in out

    store = bootstrap.open_store(settings)
    _alerts(store, "later", 2)  # the log moves on; restore must be forced back
    store.close_quietly()
    assert main(["restore", f"s3://{BUCKET}/{keys[0]}", "--force"]) == 0
    assert f"restored the log to head {head}" in capsys.readouterr().out
    store = bootstrap.open_store(settings)
    assert store.head() == head
    store.close_quietly()

    assert main(["restore", f"s3://{BUCKET}/backups/none.sqlite"]) == 1
    assert "none.sqlite.manifest.json" in capsys.readouterr().err
