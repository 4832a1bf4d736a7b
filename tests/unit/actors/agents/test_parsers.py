"""Pure parser behaviour over recorded lines, and failure classification."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from actors.agent_stream import FailureKind, StreamKind
from actors.agents.parsers import classify_failure, is_terminal, parse_stream


def lines(*objs: object) -> list[str]:
    return [json.dumps(o) for o in objs]


def test_claude_partial_messages_do_not_duplicate_text() -> None:
    """With token deltas, the whole assistant message text is not emitted again."""
    events = parse_stream(
        "claude",
        lines(
            {"type": "system", "subtype": "init", "session_id": "s"},
            {
                "type": "stream_event",
                "event": {
                    "type": "content_block_delta",
                    "delta": {"type": "text_delta", "text": "Hi"},
                },
            },
            {"type": "assistant", "message": {"content": [{"type": "text", "text": "Hi"}]}},
            {
                "type": "result",
                "subtype": "success",
                "is_error": False,
                "result": "Hi",
                "total_cost_usd": 0.5,
                "usage": {"output_tokens": 1},
            },
        ),
    )
    assert [e.kind for e in events] == [StreamKind.START, StreamKind.DELTA, StreamKind.FINAL]
    assert events[-1].data["cost_usd"] == 0.5
    assert events[-1].usage == {"output_tokens": 1}


@pytest.mark.parametrize(
    ("result", "kind"),
    [
        ({"subtype": "success", "is_error": True}, FailureKind.AUTH),
        ({"subtype": "error_max_turns", "is_error": True}, FailureKind.REFUSED),
        (
            {"subtype": "error_during_execution", "is_error": True, "api_error_status": 429},
            FailureKind.RATE_LIMIT,
        ),
        (
            {"subtype": "error_during_execution", "is_error": True, "api_error_status": 529},
            FailureKind.OVERLOADED,
        ),
    ],
)
def test_claude_result_classification(result: dict[str, object], kind: FailureKind) -> None:
    """The result event decides the failure kind, not the exit code (always 1)."""
    events = parse_stream("claude", lines({"type": "result", **result}), exit_code=1)
    assert events[-1].failure is kind


def test_gemini_exit_41_without_json_is_auth() -> None:
    """Gemini's plain-text auth failure (exit 41, no JSON) is AUTH."""
    events = parse_stream("gemini", [], exit_code=41, stderr="Please set an Auth method")
    assert events == [events[-1]]
    assert events[-1].failure is FailureKind.AUTH


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        (42, FailureKind.CONFIG),
        (52, FailureKind.CONFIG),
        (53, FailureKind.REFUSED),
        (55, FailureKind.CONFIG),
        (130, FailureKind.CANCELLED),
    ],
)
def test_gemini_exit_codes(code: int, kind: FailureKind) -> None:
    """Gemini FatalError exit codes map to their kinds."""
    assert (
        classify_failure("gemini", exit_code=code, result=None, stderr="", saw_output=True) is kind
    )


def test_exit_code_alone_is_not_trusted() -> None:
    """Exit 0 without a result is a CUT, not a success."""
    events = parse_stream("codex", lines({"type": "thread.started", "thread_id": "t"}), exit_code=0)
    assert events[-1].failure is FailureKind.CUT


def test_codex_turn_failed_with_rate_limit_text() -> None:
    """turn.failed is classified from its message."""
    events = parse_stream(
        "codex",
        lines({"type": "turn.failed", "error": {"message": "429 Too Many Requests"}}),
        exit_code=1,
    )
    assert events[-1].failure is FailureKind.RATE_LIMIT


def test_timeout_wins_when_no_result() -> None:
    """A watchdog kill with no result is a TIMEOUT naming the watchdog."""
    events = parse_stream("claude", [], exit_code=-15, timeout="idle")
    assert events[-1].failure is FailureKind.TIMEOUT
    assert events[-1].data["timeout"] == "idle"


@given(junk=st.lists(st.text(max_size=30), max_size=20))
def test_arbitrary_lines_never_crash_and_end_in_one_terminal(junk: list[str]) -> None:
    """Any garbage yields increasing seqs and exactly one terminal event."""
    for cli in ("claude", "gemini", "codex", "qwen", "openai"):
        events = parse_stream(cli, junk, exit_code=1)  # type: ignore[arg-type]
        assert [e.seq for e in events] == list(range(len(events)))
        assert [is_terminal(e) for e in events].count(True) == 1


def _claude_error_run(error: str, text: str) -> list[str]:
    """Claude's shape (agents.md §1.1): init, an assistant message with ``error``, a result."""
    return lines(
        {"type": "system", "subtype": "init", "session_id": "s", "apiKeySource": "none"},
        {
            "type": "assistant",
            "message": {"role": "assistant", "content": [{"type": "text", "text": text}]},
            "error": error,
            "session_id": "s",
        },
        {"type": "result", "subtype": "success", "is_error": True, "result": text},
    )


def test_claude_not_logged_in_is_auth_and_its_text_is_not_streamed() -> None:
    """The synthetic "Not logged in" message is no delta; the run ends AUTH, not success."""
    events = parse_stream(
        "claude",
        _claude_error_run("authentication_failed", "Not logged in · Please run /login"),
        exit_code=1,
    )
    assert [e.kind for e in events] == [StreamKind.START, StreamKind.ERROR]
    assert events[-1].is_error
    assert events[-1].failure is FailureKind.AUTH


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        ("rate_limit", FailureKind.RATE_LIMIT),
        ("server_error", FailureKind.OVERLOADED),
        ("billing_error", FailureKind.CONFIG),
        ("something_new", FailureKind.UNKNOWN),
    ],
)
def test_claude_assistant_errors_decide_the_failure(error: str, kind: FailureKind) -> None:
    """The structured ``assistant.error`` wins over guesses from the message's wording."""
    events = parse_stream("claude", _claude_error_run(error, "API Error: see /login"))
    assert not [e for e in events if e.kind is StreamKind.DELTA]
    assert events[-1].failure is kind


def test_claude_assistant_error_with_a_success_result_is_still_a_failure() -> None:
    """A result claiming success after an error message does not turn it into an answer."""
    run = _claude_error_run("authentication_failed", "Not logged in")
    run[-1] = json.dumps({"type": "result", "subtype": "success", "is_error": False})
    events = parse_stream("claude", run)
    assert events[-1].kind is StreamKind.ERROR
    assert events[-1].failure is FailureKind.AUTH
