"""``synapse logs``, the CLI's own log file, and keeping Ray's output off the terminal."""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
from pathlib import Path

import pytest

from events import logs
from synapse._quiet import ray_output_to
from synapse.cli import main


@pytest.fixture
def log_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A home whose logs hold three processes' rotated files, written through the handler."""
    monkeypatch.setenv("SYNAPSE_HOME", str(tmp_path / "home"))
    folder = tmp_path / "home" / "logs"
    for actor, level in (("gateway", logging.INFO), ("watcher:codex:h", logging.WARNING)):
        logs.install(folder, actor, max_bytes=500, backups=10)
        for i in range(6):
            logging.getLogger("actors.x").log(level, "%s %d", actor, i, extra={"task_id": f"t{i}"})
    logs.install(folder, "api")
    logging.getLogger("serve.x").error("boom with sk-proj-Zx81kLmNoPqRsTuV0123")
    logs.uninstall()
    return folder


def _out(capsys: pytest.CaptureFixture[str]) -> list[str]:
    return capsys.readouterr().out.splitlines()


def test_logs_prints_every_process_in_time_order(
    log_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """All files, rotated ones too, merged by ts as ``ts level actor msg`` + correlation."""
    assert len(list(log_dir.glob("gateway.jsonl.*"))) >= 1  # the fixture did rotate
    assert main(["logs"]) == 0
    lines = _out(capsys)
    assert len(lines) == 13
    stamps = [line.split()[0] for line in lines]
    assert stamps == sorted(stamps)
    assert lines[0].split()[1:4] == ["INFO", "gateway", "gateway"]
    assert "task_id=t0" in lines[0]
    assert "Zx81kLmNoPqRsTuV0123" not in "\n".join(lines)


def test_logs_filters_by_actor_level_and_since(
    log_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--actor keeps one role (or a prefix), --level a floor, --since a start time."""
    main(["logs", "--actor", "watcher"])
    assert {line.split()[2] for line in _out(capsys)} == {"watcher:codex:h"}
    main(["logs", "--level", "error"])
    [line] = _out(capsys)
    assert " api " in line
    main(["logs", "--since", "2999-01-01T00:00:00Z"])
    assert _out(capsys) == []


def test_logs_json_prints_raw_lines_and_a_bad_since_is_one_error(
    log_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--json lines parse and carry the fields; a malformed --since exits 2 with a hint."""
    main(["logs", "--json", "--actor", "gateway"])
    rows = [json.loads(line) for line in _out(capsys)]
    assert len(rows) == 6
    assert {"ts", "level", "logger", "actor", "msg", "task_id"} <= set(rows[0])
    assert main(["logs", "--since", "yesterday"]) == 2
    assert capsys.readouterr().err.startswith("error: not an ISO-8601 time")


def test_follow_prints_lines_written_after_it_started(
    log_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """-f shows the old lines, then new ones as they are appended, until --seconds."""
    from synapse import _logs_commands

    polls = [0]

    def write_then_sleep(seconds: float) -> None:
        # Patch at the clock boundary: the first pause is when another process writes.
        if polls[0] == 0:
            logs.install(log_dir, "sync")
            logging.getLogger("actors.sync").warning("fresh line", extra={"write_id": "w9"})
            logs.uninstall()
        polls[0] += 1

    monkeypatch.setattr(_logs_commands, "sleep", write_then_sleep)
    monkeypatch.setattr(_logs_commands, "POLL_S", 0.0)
    assert main(["logs", "-f", "--seconds", "0.5", "--actor", "sync"]) == 0
    lines = _out(capsys)
    assert len(lines) == 1
    assert "fresh line" in lines[0]
    assert "write_id=w9" in lines[0]


def test_a_cli_run_logs_to_cli_jsonl_and_warnings_still_reach_the_terminal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A loose home is tightened with a warning: on stderr as before, and in cli.jsonl."""
    monkeypatch.setattr(logging.getLogger(), "handlers", [])  # as in a real CLI process
    home = tmp_path / "home"
    home.mkdir(mode=0o755)
    home.chmod(0o755)
    monkeypatch.setenv("SYNAPSE_HOME", str(home))
    assert main(["users", "list"]) == 0
    assert "tightened permissions" in capsys.readouterr().err
    [line] = [json.loads(t) for t in (home / "logs" / "cli.jsonl").read_text().splitlines()]
    assert line["actor"] == "cli"
    assert line["level"] == "WARNING"
    assert logs.installed_dir() is None  # main removed what it installed


def test_ray_output_goes_to_the_file_and_synapse_output_to_the_terminal(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """fd 2 writes (Ray's C++) and Ray threads' prints go to the file; ours stay put."""
    path = tmp_path / "logs" / "ray-driver.log"

    def ray_thread() -> None:
        print("(raylet) WARNING: 8 PYTHON worker processes have been started")

    with ray_output_to(path):
        os.write(2, b"core_worker.cc:2465: constructor arguments in the object store\n")
        thread = threading.Thread(target=ray_thread, name="ray_listen_error_messages")
        thread.start()
        thread.join()
        logging.getLogger("ray._private.authentication").warning(
            "Token authentication is enabled for this Ray cluster."
        )
        ray_logger = logging.getLogger("ray")
        ray_logger.handlers, propagate = [], ray_logger.propagate  # as ray.init leaves it
        ray_logger.propagate = False
        try:
            logging.getLogger("ray.x").warning("(raylet) a warning nobody handles")
        finally:
            ray_logger.propagate = propagate
        with ray_output_to(path):  # nested: one block
            print("== 1. supervision")
            print("warning: ours", file=sys.stderr)
    os.write(2, b"after the block\n")
    captured = capfd.readouterr()
    assert "== 1. supervision" in captured.out
    assert "warning: ours" in captured.err
    assert "after the block" in captured.err
    assert "raylet" not in captured.out + captured.err
    assert "core_worker" not in captured.out + captured.err
    diverted = path.read_text()
    assert "core_worker.cc" in diverted
    assert "PYTHON worker processes" in diverted
    assert "Token authentication is enabled" in diverted
    assert "a warning nobody handles" in diverted
    assert "Token authentication" not in captured.err
    assert oct(path.stat().st_mode & 0o777) == "0o600"
