"""The CLI: user mistakes are one line and a hint; offline verbs work without a cluster."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from actors.lifecycle import raise_alert
from synapse import bootstrap
from synapse.cli import main
from synapse.settings import load_settings


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SYNAPSE_HOME", str(tmp_path / "home"))
    settings = load_settings()
    bootstrap.prepare_home(settings)
    store = bootstrap.open_store(settings)
    for i in range(3):
        raise_alert(store, alert_id=f"a{i}", severity="info", source="cli-test", message=f"m{i}")
    store.close_quietly()
    return tmp_path / "home"


def _err_lines(capsys: pytest.CaptureFixture[str]) -> list[str]:
    return [line for line in capsys.readouterr().err.splitlines() if line]


def test_no_verb_prints_help_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    """`synapse` alone shows the verbs."""
    assert main([]) == 2
    assert "VERB" in capsys.readouterr().out


def test_export_needs_exactly_one_source(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Giving both a table and --query is a user mistake: one error line and a hint."""
    assert main(["export", "events", "--query", "select 1"]) == 2
    lines = _err_lines(capsys)
    assert lines[0].startswith("error: ")
    assert lines[1].startswith("hint: ")
    assert "Traceback" not in "\n".join(lines)


def test_replay_rejects_a_non_uuid(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A malformed aggregate id is explained, not a traceback."""
    assert main(["replay", "--aggregate", "nope"]) == 2
    assert _err_lines(capsys)[0] == "error: not an aggregate id: 'nope'"


def test_sql_offline_answers_and_refuses_writes(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """With nothing running, `synapse sql` reads the projections in-process and refuses writes."""
    assert main(["sql", "SELECT count(*) AS n FROM events", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"n": 3}
    assert main(["sql", "DELETE FROM events"]) == 1
    lines = _err_lines(capsys)
    assert len(lines) >= 1
    assert lines[0].startswith("error: ")
    assert main(["sql", "SELECT count(*) FROM events", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"count_star()": 3}


def test_export_offline_writes_the_file(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`synapse export events --format parquet -o F` writes a readable Parquet file."""
    import pyarrow.parquet as pq

    out = home / "e.parquet"
    assert main(["export", "events", "--format", "parquet", "-o", str(out)]) == 0
    assert pq.read_table(out).num_rows == 3


def test_replay_aggregate_and_as_of(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Replay prints an aggregate's events and the state as of a log position."""
    from events.store import aggregate_id

    agg = str(aggregate_id("alert", "a1"))
    assert main(["replay", "--aggregate", agg]) == 0
    out = capsys.readouterr().out
    assert "Alert.Raised" in out
    assert '"message": "m1"' in out
    assert (
        main(
            ["replay", "--at", "2", "--sql", "SELECT count(*) AS n FROM events", "--format", "json"]
        )
        == 0
    )
    assert json.loads(capsys.readouterr().out.splitlines()[-1]) == {"n": 2}


def test_status_offline_says_not_running(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`synapse status` without a running system says so and exits 3."""
    assert main(["status"]) == 3
    assert "not running" in capsys.readouterr().out


def test_replay_rebuild_offline_rebuilds_from_the_log(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`synapse replay --rebuild` replays the log into a new file and reports the position."""
    assert main(["replay", "--rebuild"]) == 0
    assert "rebuilt up to log position 3" in capsys.readouterr().out
    assert main(["sql", "SELECT count(*) AS n FROM events", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"n": 3}
