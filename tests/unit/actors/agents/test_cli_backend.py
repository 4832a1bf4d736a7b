"""CliBackend against the fake CLIs: every failure shape, process hygiene, literal prompts."""

from __future__ import annotations

import asyncio
import json
import os
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from actors.agent_stream import AgentRequest, Capability, FailureKind, StreamEvent, StreamKind
from actors.agents.cli_backend import CliAgentSpec, CliBackend, CliName, build_argv
from actors.agents.parsers import is_terminal
from actors.agents.process import ProcessLimits

FAKES = Path(__file__).resolve().parents[4] / "tests" / "fakes"
LIMITS = ProcessLimits(kill_grace_s=0.5, final_grace_s=0.5)
CLIS: list[CliName] = ["claude", "gemini", "codex", "qwen"]


def backend(cli: CliName, *, env: dict[str, str] | None = None, **kw: object) -> CliBackend:
    spec = CliAgentSpec(
        name=f"fake-{cli}", cli=cli, executable=str(FAKES / f"fake_{cli}"), limits=LIMITS, **kw
    )  # type: ignore[arg-type]
    base = dict(os.environ) if env is None else env
    return CliBackend(spec, base_env=base)


def request(prompt: str, **kw: object) -> AgentRequest:
    fields: dict[str, object] = {"ttft_timeout_s": 10.0, "idle_timeout_s": 10.0}
    fields.update(kw)
    return AgentRequest(request_id="r1", capability=Capability.CODE, prompt=prompt, **fields)  # type: ignore[arg-type]


def run(b: CliBackend, req: AgentRequest) -> list[StreamEvent]:
    async def collect() -> list[StreamEvent]:
        return [event async for event in b.stream(req)]

    return asyncio.run(collect())


def group_gone(pgid: int, within_s: float = 10.0) -> bool:
    """Poll (bounded) until no process of the group is left; reaping by init may lag."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


def check_shape(events: list[StreamEvent]) -> None:
    assert [e.seq for e in events] == list(range(len(events)))
    assert sum(is_terminal(e) for e in events) == 1
    assert is_terminal(events[-1])


@pytest.mark.parametrize("cli", CLIS)
def test_ok_run_yields_start_deltas_and_final(cli: CliName) -> None:
    """A successful run starts with the session id, streams text and ends in final."""
    events = run(backend(cli), request("hello world"))
    check_shape(events)
    assert events[0].kind is StreamKind.START
    assert events[0].session_id == f"{cli}-session-0001"
    final = events[-1]
    assert final.kind is StreamKind.FINAL
    assert final.text == "echo: hello world"
    assert final.data["exit_code"] == 0
    deltas = "".join(e.text for e in events if e.kind is StreamKind.DELTA)
    assert deltas == "echo: hello world"


@pytest.mark.parametrize("cli", CLIS)
def test_auth_failure_is_auth(cli: CliName) -> None:
    """Each CLI's observed auth-failure shape classifies as AUTH, not success."""
    events = run(backend(cli), request("[[fake:auth_failure]]"))
    check_shape(events)
    assert events[-1].kind is StreamKind.ERROR
    assert events[-1].failure is FailureKind.AUTH


@pytest.mark.parametrize("cli", CLIS)
def test_a_not_logged_in_message_is_never_answer_text(cli: CliName) -> None:
    """Claude's "Not logged in · Please run /login" assistant message yields no delta."""
    events = run(backend(cli), request("[[fake:auth_failure]]"))
    assert not [e for e in events if e.kind is StreamKind.DELTA]
    assert events[-1].failure is FailureKind.AUTH


@pytest.mark.parametrize("cli", ["gemini", "qwen"])
@pytest.mark.parametrize(
    ("mode", "kind"),
    [("untrusted", FailureKind.CONFIG), ("turn_limit", FailureKind.REFUSED)],
)
def test_gemini_fatal_exit_codes(cli: CliName, mode: str, kind: FailureKind) -> None:
    """Gemini-family fatal exit codes (55 untrusted, 53 turn limit) classify correctly."""
    events = run(backend(cli), request(f"[[fake:{mode}]]"))
    assert events[-1].failure is kind


@pytest.mark.parametrize("cli", CLIS)
def test_cut_stream_is_cut(cli: CliName) -> None:
    """A process that exits mid-stream without a result is a CUT with its partial text."""
    events = run(backend(cli), request("[[fake:cut]] abc"))
    check_shape(events)
    assert events[-1].failure is FailureKind.CUT
    assert events[-1].data["partial_text_len"] > 0


@pytest.mark.parametrize("cli", CLIS)
def test_malformed_lines_are_counted_and_parsing_goes_on(cli: CliName) -> None:
    """Non-JSON lines become non-terminal MALFORMED errors and the run still succeeds."""
    events = run(backend(cli), request("[[fake:malformed]] abc"))
    check_shape(events)
    malformed = [e for e in events if e.failure is FailureKind.MALFORMED]
    assert len(malformed) == 2
    assert not any(e.is_error for e in malformed)
    assert events[-1].kind is StreamKind.FINAL
    assert events[-1].data["malformed"] == 2


@pytest.mark.parametrize("cli", ["claude", "codex", "qwen"])
def test_internal_retries_surface_as_retry_events(cli: CliName) -> None:
    """The CLI's own retries are visible as retry events before a successful final."""
    events = run(backend(cli), request("[[fake:retry]] abc"))
    retries = [e for e in events if e.kind is StreamKind.RETRY]
    assert [r.data["attempt"] for r in retries] == [1, 2]
    assert events[-1].kind is StreamKind.FINAL


@pytest.mark.parametrize("cli", CLIS)
def test_tool_calls_and_results(cli: CliName) -> None:
    """Tool use and tool results are normalised with their ids."""
    events = run(backend(cli), request("[[fake:tools]]"))
    calls = [e for e in events if e.kind is StreamKind.TOOL_CALL]
    results = [e for e in events if e.kind is StreamKind.TOOL_RESULT]
    assert len(calls) == 1
    assert len(results) == 1
    assert calls[0].data["id"] == results[0].data["id"]


def test_hang_before_first_token_times_out_and_kills_the_group() -> None:
    """init then silence: the TTFT watchdog fires and the group (with its grandchild) is gone."""
    b = backend("claude")
    pgids: list[int] = []

    async def collect() -> list[StreamEvent]:
        events = []
        async for event in b.stream(request("[[fake:hang]]", ttft_timeout_s=1.0)):
            events.append(event)
            if event.kind is StreamKind.START:
                pgids.append(_newest_child_pgid())
        return events

    events = asyncio.run(collect())
    assert events[-1].failure is FailureKind.TIMEOUT
    assert events[-1].data["timeout"] == "ttft"
    assert pgids
    assert group_gone(pgids[0])


def _newest_child_pgid() -> int:
    """The process group of this process's newest child (the fake CLI)."""
    children = Path(f"/proc/{os.getpid()}/task/{os.getpid()}/children").read_text().split()
    return os.getpgid(int(children[-1]))


def test_stall_after_tokens_trips_the_idle_watchdog() -> None:
    """Text then silence: the inter-event idle watchdog fires, not TTFT."""
    events = run(backend("gemini"), request("[[fake:stall]] abc", idle_timeout_s=0.5))
    assert events[-1].failure is FailureKind.TIMEOUT
    assert events[-1].data["timeout"] == "idle"


def test_hang_after_result_is_killed_and_result_still_delivered() -> None:
    """A CLI that never exits after its result (and ignores SIGTERM) is killed; final stands."""
    pgids: list[int] = []

    async def collect() -> list[StreamEvent]:
        events = []
        async for event in backend("claude").stream(request("[[fake:hang_after_result]] q")):
            if event.kind is StreamKind.START:
                pgids.append(_newest_child_pgid())
            events.append(event)
        return events

    events = asyncio.run(collect())
    assert events[-1].kind is StreamKind.FINAL
    assert events[-1].text.startswith("echo:")
    assert events[-1].data["exit_code"] < 0  # killed by a signal
    assert group_gone(pgids[0])


def test_env_canary_does_not_reach_the_child() -> None:
    """Only allow-listed names reach the CLI; canaries and CLAUDECODE markers are scrubbed."""
    parent = {
        "PATH": os.environ["PATH"],
        "HOME": "/tmp",
        "FOO_API_KEY": "sk-canary-123",
        "CLAUDECODE": "1",
        "CLAUDE_CODE_SESSION_ID": "x",
        "ANTHROPIC_API_KEY": "sk-real",
        "LC_ALL": "C.UTF-8",
    }
    b = backend("claude", env=parent, credential_env=("ANTHROPIC_API_KEY",))
    events = run(b, request("[[fake:env]]"))
    child = json.loads(events[-1].text)
    assert "FOO_API_KEY" not in child
    assert "sk-canary-123" not in events[-1].text
    assert "CLAUDECODE" not in child
    assert "CLAUDE_CODE_SESSION_ID" not in child
    assert child["ANTHROPIC_API_KEY"] == "sk-real"
    assert child["LC_ALL"] == "C.UTF-8"


def test_private_home_is_set_for_the_child(tmp_path: Path) -> None:
    """Per-agent HOME isolation points HOME, CODEX_HOME and GEMINI_CLI_HOME at its own dir."""
    home = tmp_path / "agent-home"
    events = run(backend("codex", home=str(home)), request("[[fake:env]]"))
    child = json.loads(events[-1].text)
    assert child["HOME"] == str(home)
    assert child["CODEX_HOME"] == str(home / ".codex")
    assert home.is_dir()


def test_missing_executable_is_config() -> None:
    """A CLI that is not installed fails fast as CONFIG."""
    spec = CliAgentSpec(name="x", cli="claude", executable="/nonexistent/claude")
    events = run(CliBackend(spec, base_env={}), request("hi"))
    assert events == [events[-1]]
    assert events[-1].failure is FailureKind.CONFIG


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(prompt=st.text(min_size=1, max_size=40).filter(lambda s: "\x00" not in s))
def test_prompts_stay_literal(prompt: str) -> None:
    """Shell metacharacters and flag-like prompts come back byte for byte; nothing else runs."""
    full = "; rm -rf / $(x) `y` | & \n" + prompt
    events = run(backend("claude"), request(full))
    assert events[-1].kind is StreamKind.FINAL
    assert events[-1].text == f"echo: {full}"


@pytest.mark.parametrize("cli", CLIS)
def test_flag_like_prompt_is_not_a_flag(cli: CliName) -> None:
    """A prompt that looks like a dangerous flag stays the prompt."""
    events = run(backend(cli), request("--dangerously-skip-permissions"))
    assert events[-1].text == "echo: --dangerously-skip-permissions"


def test_resume_argv_per_cli() -> None:
    """Resume uses each CLI's own flag or subcommand; sandboxes map to safe modes."""
    req = request("go on", resume_session_id="S1")

    def argv(cli: CliName, **kw: object) -> list[str]:
        return build_argv(CliAgentSpec(name="a", cli=cli, executable=cli, **kw), req)  # type: ignore[arg-type]

    assert argv("claude")[-4:] == ["--resume", "S1", "--", "go on"]
    assert "plan" in argv("claude")
    assert argv("codex")[-4:] == ["resume", "S1", "--", "go on"]
    assert argv("codex", sandbox="workspace-write")[4:6] == ["--sandbox", "workspace-write"]
    assert argv("gemini")[-3:] == ["--resume", "S1", "--prompt=go on"]
    assert argv("qwen", model="m")[5:7] == ["-m", "m"]


def test_resumed_session_id_is_reported() -> None:
    """A resumed run reports the session it resumed."""
    events = run(backend("codex"), request("more", resume_session_id="thread-9"))
    assert events[0].session_id == "thread-9"
