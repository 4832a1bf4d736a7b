"""``GET /api/v1/logs``: the host's structured logs, filtered, masked, behind a credential."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher

from serve._sessions import SessionSigner
from serve.users import Role, UserStore

KEY = "sk-proj-Zx81kLmNoPqRsTuV0123"
BEARER = "Bearer abcDEF1234567890ghijKLMN"


def _write(path: Path, *lines: dict[str, Any]) -> None:
    with path.open("a") as handle:
        for line in lines:
            handle.write(json.dumps(line) + "\n")


@pytest.fixture
def log_dir(tmp_path: Path) -> Path:
    """Two processes' files; one line holds secrets a careless writer left unmasked."""
    folder = tmp_path / "logs"
    folder.mkdir()
    base = {"logger": "actors.x"}
    _write(
        folder / "gateway.jsonl",
        {**base, "ts": "2026-01-01T00:00:01.000Z", "level": "INFO", "actor": "gateway",
         "msg": "task routed", "task_id": "t1"},
        {**base, "ts": "2026-01-01T00:00:03.000Z", "level": "ERROR", "actor": "gateway",
         "msg": f"agent refused {KEY}", "request_id": BEARER},
    )  # fmt: skip
    _write(
        folder / "sync.jsonl",
        {**base, "ts": "2026-01-01T00:00:02.000Z", "level": "WARNING", "actor": "sync",
         "msg": "write held", "write_id": "w1", "position": 7},
    )  # fmt: skip
    return folder


def test_logs_answer_merged_masked_lines(make_client: Any, log_dir: Path) -> None:
    """The viewer reads every process's lines oldest first, secrets masked, fields typed."""
    api = make_client(authed=True, logs_dir=log_dir)
    response = api.get("/api/v1/logs")
    assert response.status_code == 200
    body = response.json()
    assert [item["actor"] for item in body["items"]] == ["gateway", "sync", "gateway"]
    assert body["items"][1]["position"] == 7
    assert body["items"][1]["write_id"] == "w1"
    assert body["truncated"] is False
    text = response.text
    assert "Zx81kLmNoPqRsTuV0123" not in text
    assert "abcDEF1234567890ghijKLMN" not in text
    assert "***" in body["items"][2]["msg"]


def test_logs_filter_and_limit_keep_the_newest(make_client: Any, log_dir: Path) -> None:
    """actor, level and since filter; limit keeps the newest lines and says it truncated."""
    api = make_client(authed=True, logs_dir=log_dir)
    assert [i["msg"] for i in api.get("/api/v1/logs?actor=sync").json()["items"]] == ["write held"]
    assert [i["level"] for i in api.get("/api/v1/logs?level=WARNING").json()["items"]] == [
        "WARNING",
        "ERROR",
    ]
    since = api.get("/api/v1/logs", params={"since": "2026-01-01T00:00:02Z"}).json()
    assert len(since["items"]) == 2
    page = api.get("/api/v1/logs?limit=1").json()
    assert page["truncated"] is True
    assert page["items"][0]["level"] == "ERROR"
    assert api.get("/api/v1/logs?level=LOUD").status_code == 422
    assert api.get("/api/v1/logs?limit=0").status_code == 422


def test_logs_refuse_without_a_credential(make_client: Any, log_dir: Path) -> None:
    """No token, no cookie: 401 and not a byte of the logs."""
    client = make_client(logs_dir=log_dir)
    response = client.get("/api/v1/logs")
    assert response.status_code == 401
    assert "task routed" not in response.text


def test_a_viewer_signed_in_with_a_password_reads_the_logs(
    make_client: Any, log_dir: Path, tmp_path: Path
) -> None:
    """The lowest role is enough: a viewer's bearer session token gets the page."""
    users = UserStore(
        tmp_path / "users.json", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    )
    users.add("vera", Role.VIEWER, "correct horse")
    client = make_client(logs_dir=log_dir, sessions=SessionSigner(b"s" * 32, users))
    form = {"grant_type": "password", "username": "vera", "password": "correct horse"}
    token = client.post("/api/v1/auth/token", data=form).json()["access_token"]
    client.cookies.clear()
    response = client.get("/api/v1/logs", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert len(response.json()["items"]) == 3


def test_no_logs_folder_is_an_empty_page(make_client: Any, tmp_path: Path) -> None:
    """A host without logs (or an app built without a folder) answers an empty page."""
    assert make_client(authed=True).get("/api/v1/logs").json() == {
        "items": [],
        "truncated": False,
    }
    missing = make_client(authed=True, logs_dir=tmp_path / "none")
    assert missing.get("/api/v1/logs").json()["items"] == []
