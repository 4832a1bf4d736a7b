"""Structured logs: the JSON line, secret masking, per-process rotated files, reading back."""

from __future__ import annotations

import json
import logging
import stat
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from events import logs
from events.log_reader import LogFilter, LogFollower, log_chains, read_logs

BEARER = "Bearer abcDEF1234567890ghijKLMN"
API_KEY = "sk-proj-Zx81kLmNoPqRsTuV0123"


@pytest.fixture(autouse=True)
def _clean_root() -> Iterator[None]:
    """Each test installs into its own folder; nothing stays on the root logger."""
    yield
    logs.uninstall()


def _record(msg: str, *args: object, **extra: object) -> logging.LogRecord:
    record = logging.LogRecord("actors.gateway", logging.WARNING, __file__, 1, msg, args, None)
    record.__dict__.update(extra)
    return record


def _lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_a_record_is_one_json_line_with_the_fields() -> None:
    """ts (ISO UTC), level, logger, actor, msg and the correlation fields given in extra."""
    fmt = logs.JsonFormatter("gateway")
    text = fmt.format(_record("task %s failed", "t1", task_id="t1", position=42, other="x"))
    assert "\n" not in text
    line = json.loads(text)
    assert line["level"] == "WARNING"
    assert line["logger"] == "actors.gateway"
    assert line["actor"] == "gateway"
    assert line["msg"] == "task t1 failed"
    assert line["task_id"] == "t1"
    assert line["position"] == 42
    assert "other" not in line
    assert str(line["ts"]).endswith("Z")
    assert datetime.fromisoformat(str(line["ts"])).tzinfo is not None


def test_secrets_in_the_message_fields_and_exception_are_masked() -> None:
    """A bearer token or API key never reaches the file, wherever it sits in the record."""
    fmt = logs.JsonFormatter("api")
    try:
        raise ValueError(f"upstream said Authorization: {BEARER}")
    except ValueError:
        record = _record(f"calling with {API_KEY}", request_id=f"r1 {BEARER}")
        record.exc_info = sys.exc_info()
    text = fmt.format(record)
    assert "abcDEF1234567890ghijKLMN" not in text
    assert "Zx81kLmNoPqRsTuV0123" not in text
    line = json.loads(text)
    assert "***" in str(line["msg"])
    assert "***" in str(line["request_id"])
    assert "ValueError" in str(line["exc"])


def test_install_writes_0600_files_in_a_0700_folder_one_per_role(tmp_path: Path) -> None:
    """The file is named after the role (made safe), created private on the first record."""
    folder = tmp_path / "logs"
    logs.install(folder, "watcher:codex:host")
    assert not folder.exists()  # nothing logged yet, nothing created
    logging.getLogger("actors.watcher").info("scan done", extra={"write_id": "w-1"})
    path = folder / "watcher_codex_host.jsonl"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    [line] = _lines(path)
    assert line["actor"] == "watcher:codex:host"
    assert line["write_id"] == "w-1"
    assert line["level"] == "INFO"  # first-party loggers are raised to INFO


def test_install_is_idempotent_and_a_new_role_replaces_the_handler(tmp_path: Path) -> None:
    """Installing twice keeps one handler; another file replaces it (no double lines)."""
    first = logs.install(tmp_path, "sync")
    assert logs.install(tmp_path, "sync") is first
    logging.getLogger("actors.x").warning("once")
    assert len(_lines(tmp_path / "sync.jsonl")) == 1
    logs.install(tmp_path, "api")
    logging.getLogger("actors.x").warning("elsewhere")
    assert len(_lines(tmp_path / "sync.jsonl")) == 1
    assert len(_lines(tmp_path / "api.jsonl")) == 1
    assert logs.installed_dir() == tmp_path


def test_rotation_keeps_n_files_and_reading_spans_them_in_time_order(tmp_path: Path) -> None:
    """Small maxBytes: only ``backups`` rotations stay, and the reader merges them oldest first."""
    logs.install(tmp_path, "projector", max_bytes=400, backups=3)
    log = logging.getLogger("projections.x")
    for i in range(60):
        log.info("line %03d", i, extra={"position": i})
    chain = log_chains(tmp_path)["projector"]
    assert [p.name for p in chain] == [
        "projector.jsonl.3",
        "projector.jsonl.2",
        "projector.jsonl.1",
        "projector.jsonl",
    ]
    positions = [line["position"] for line in read_logs(tmp_path)]
    assert positions == sorted(positions)
    assert positions[-1] == 59
    assert len(positions) < 60  # the oldest were rotated away


def _write(path: Path, *lines: dict[str, object]) -> None:
    with path.open("a") as handle:
        for line in lines:
            handle.write(json.dumps(line) + "\n")


def _line(ts: str, actor: str, level: str = "INFO", msg: str = "m") -> dict[str, object]:
    return {"ts": ts, "level": level, "logger": "x", "actor": actor, "msg": msg}


def test_processes_are_merged_by_time_and_filters_apply(tmp_path: Path) -> None:
    """Lines of several files interleave by ts; actor (with prefix), level and since filter."""
    _write(
        tmp_path / "gateway.jsonl",
        _line("2026-01-01T00:00:01.000Z", "gateway"),
        _line("2026-01-01T00:00:04.000Z", "gateway", "ERROR"),
    )
    _write(
        tmp_path / "watcher_codex_h.jsonl",
        _line("2026-01-01T00:00:02.000Z", "watcher:codex:h", "WARNING"),
        _line("2026-01-01T00:00:03.000Z", "watcher:codex:h"),
    )
    (tmp_path / "ray-driver.log").write_text("not json, not ours\n")
    _write(tmp_path / "api.jsonl", _line("2026-01-01T00:00:05.000Z", "api"))
    with (tmp_path / "api.jsonl").open("a") as handle:
        handle.write('{"torn": ')  # a half-written last line is skipped
    ts = [line["ts"][17:19] for line in read_logs(tmp_path)]
    assert ts == ["01", "02", "03", "04", "05"]
    watchers = list(read_logs(tmp_path, LogFilter(actor="watcher")))
    assert {line["actor"] for line in watchers} == {"watcher:codex:h"}
    assert [line["level"] for line in read_logs(tmp_path, LogFilter(level="warning"))] == [
        "WARNING",
        "ERROR",
    ]
    since = datetime(2026, 1, 1, 0, 0, 3, tzinfo=UTC)
    assert len(list(read_logs(tmp_path, LogFilter(since=since)))) == 3
    assert list(read_logs(tmp_path / "absent")) == []


def test_reading_masks_a_secret_some_other_writer_left(tmp_path: Path) -> None:
    """A line written without the formatter is masked on the way out too."""
    _write(tmp_path / "odd.jsonl", _line("2026-01-01T00:00:01.000Z", "odd", msg=f"k={API_KEY}"))
    [line] = read_logs(tmp_path)
    assert API_KEY not in json.dumps(line)


def test_the_follower_returns_only_new_lines_across_a_rotation(tmp_path: Path) -> None:
    """Lines written after it started, including those finished in the rotated file."""
    logs.install(tmp_path, "sync", max_bytes=300, backups=20)
    log = logging.getLogger("actors.sync")
    log.info("before")
    follower = LogFollower(tmp_path)
    assert follower.poll() == []
    for i in range(12):
        log.info("after %02d", i)
    got = [line["msg"] for line in follower.poll()]
    assert got == [f"after {i:02d}" for i in range(12)]
    assert (tmp_path / "sync.jsonl.1").exists()
    assert follower.poll() == []
