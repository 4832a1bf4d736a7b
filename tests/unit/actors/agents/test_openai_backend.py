"""OpenAIBackend against the fake OpenAI server, one test per fault shape."""

from __future__ import annotations

import asyncio
import socket
import threading

import aiohttp
import pytest

from actors.agent_stream import AgentRequest, Capability, FailureKind, StreamEvent, StreamKind
from actors.agents.openai_backend import OpenAIBackend, env_proxy, parse_retry_after
from actors.agents.parsers import is_terminal
from tests.fakes.fake_openai import run_fake_openai, serve_fake_openai


def collect(base_url: str, prompt: str = "hello big world", **kw: object) -> list[StreamEvent]:
    fields: dict[str, object] = {"ttft_timeout_s": 5.0, "idle_timeout_s": 5.0}
    fields.update(kw)
    req = AgentRequest(request_id="r", capability=Capability.ANALYZE, prompt=prompt, **fields)  # type: ignore[arg-type]

    async def go() -> list[StreamEvent]:
        backend = OpenAIBackend(
            "oa", base_url=base_url, model="m", api_key_env="FAKE_KEY", env={"FAKE_KEY": "k"}
        )
        try:
            return [event async for event in backend.stream(req)]
        finally:
            await backend.aclose()

    events = asyncio.run(go())
    assert [e.seq for e in events] == list(range(len(events)))
    assert sum(is_terminal(e) for e in events) == 1
    assert is_terminal(events[-1])
    return events


def test_streams_tokens_to_final() -> None:
    """A healthy stream yields start, one delta per token and a final with usage."""
    with serve_fake_openai() as server:
        events = collect(server.base_url)
        assert server.bodies[0]["stream"] is True
    assert events[0].kind is StreamKind.START
    assert [e.text for e in events if e.kind is StreamKind.DELTA] == [
        "echo: ",
        "hello ",
        "big ",
        "world",
    ]
    assert events[-1].kind is StreamKind.FINAL
    assert events[-1].text == "echo: hello big world"
    assert events[-1].usage["completion_tokens"] == 4


def test_answers_reuse_one_connection() -> None:
    """After [DONE] the backend reads the body's end, so the next request reuses the connection.

    An unread remainder would make the client close the connection: one TCP connect per
    request.
    """
    req = AgentRequest(request_id="r", capability=Capability.ANALYZE, prompt="hi")

    async def go(base_url: str) -> list[list[StreamEvent]]:
        backend = OpenAIBackend("oa", base_url=base_url, model="m")
        try:
            return [[e async for e in backend.stream(req)] for _ in range(3)]
        finally:
            await backend.aclose()

    with serve_fake_openai(keep_alive=True) as server:
        answers = asyncio.run(go(server.base_url))
        assert (server.requests, server.connections) == (3, 1)
    assert [a[-1].text for a in answers] == ["echo: hi"] * 3
    assert all(sum(is_terminal(e) for e in a) == 1 for a in answers)


def test_429_is_rate_limit_with_retry_after() -> None:
    """429 with Retry-After becomes RATE_LIMIT carrying the delay."""
    with run_fake_openai(fail_first=1, fail_status=429, retry_after=7) as url:
        events = collect(url)
    assert events[-1].failure is FailureKind.RATE_LIMIT
    assert events[-1].retry_after_s == 7.0


@pytest.mark.parametrize("status", [500, 502, 503, 529])
def test_5xx_is_overloaded(status: int) -> None:
    """Server errors are OVERLOADED (retryable with backoff)."""
    with run_fake_openai(fail_first=1, fail_status=status) as url:
        assert collect(url)[-1].failure is FailureKind.OVERLOADED


def test_401_is_auth() -> None:
    """A rejected key is AUTH."""
    with run_fake_openai(fail_first=1, fail_status=401) as url:
        assert collect(url)[-1].failure is FailureKind.AUTH


def test_cut_after_k_tokens_is_cut_with_partial_text() -> None:
    """A connection closed mid-stream is CUT and says how much text was delivered."""
    with run_fake_openai(cut_after=2) as url:
        events = collect(url)
    assert [e.text for e in events if e.kind is StreamKind.DELTA] == ["echo: ", "hello "]
    assert events[-1].failure is FailureKind.CUT
    assert events[-1].data["partial_text_len"] == len("echo: hello ")


def test_stall_after_tokens_is_idle_timeout() -> None:
    """Tokens then silence trips the idle watchdog."""
    with run_fake_openai(stall_after=2) as url:
        events = collect(url, idle_timeout_s=0.5)
    assert events[-1].failure is FailureKind.TIMEOUT
    assert events[-1].data["timeout"] == "idle"


def test_slow_first_token_is_ttft_timeout() -> None:
    """No token within the TTFT budget is a TTFT timeout."""
    with run_fake_openai(ttft_s=30) as url:
        events = collect(url, ttft_timeout_s=0.5)
    assert events[-1].failure is FailureKind.TIMEOUT
    assert events[-1].data["timeout"] == "ttft"


def test_server_silent_before_headers_is_ttft_timeout() -> None:
    """A server that accepts the connection and never answers trips the TTFT watchdog."""
    with socket.create_server(("127.0.0.1", 0)) as silent:  # never accepts: the kernel does
        port = silent.getsockname()[1]
        events = collect(f"http://127.0.0.1:{port}/v1", ttft_timeout_s=0.5)
    assert events[-1].failure is FailureKind.TIMEOUT
    assert events[-1].data["timeout"] == "ttft"


def test_error_body_that_stalls_still_gives_the_status() -> None:
    """A 503 whose body never finishes is still an OVERLOADED error, within the TTFT budget."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]

        def answer_then_stall() -> None:
            conn, _ = server.accept()
            with conn:
                conn.recv(65536)
                conn.sendall(b"HTTP/1.1 503 Busy\r\nContent-Length: 1000\r\n\r\nqueue full")
                conn.recv(1)  # hold the connection until the client gives up

        holder = threading.Thread(target=answer_then_stall, daemon=True)
        holder.start()
        events = collect(f"http://127.0.0.1:{port}/v1", ttft_timeout_s=0.5)
        holder.join(5)
    assert events[-1].failure is FailureKind.OVERLOADED
    assert events[-1].data["status"] == 503
    assert "queue full" in events[-1].text


def test_malformed_chunk_is_counted_and_stream_continues() -> None:
    """One bad SSE line does not kill the stream (LiteLLM #40404 shape)."""
    with run_fake_openai(malformed_at=1) as url:
        events = collect(url)
    assert events[-1].kind is StreamKind.FINAL
    assert events[-1].data["malformed"] == 1
    assert any(e.failure is FailureKind.MALFORMED and not e.is_error for e in events)


def test_inband_error_is_terminal() -> None:
    """An in-band error chunk ends the stream with the status it carries."""
    with run_fake_openai(error_after=1) as url:
        events = collect(url)
    assert events[-1].failure is FailureKind.OVERLOADED


def test_fault_header_overrides_per_request() -> None:
    """The x-fake-fault header selects a fault for one request only."""
    with run_fake_openai() as url:

        async def go() -> list[StreamEvent]:
            session = aiohttp.ClientSession(headers={"x-fake-fault": "cut_after=1"})
            backend = OpenAIBackend("oa", base_url=url, model="m", session=session)
            req = AgentRequest(request_id="r", capability=Capability.PLAN, prompt="a b")
            try:
                return [e async for e in backend.stream(req)]
            finally:
                await session.close()

        assert asyncio.run(go())[-1].failure is FailureKind.CUT


def test_unreachable_endpoint_is_overloaded() -> None:
    """A refused connection is retryable elsewhere (OVERLOADED), not a crash."""
    with run_fake_openai() as url:
        dead = url
    assert collect(dead)[-1].failure is FailureKind.OVERLOADED


def test_proxy_variables_are_honoured(monkeypatch: pytest.MonkeyPatch) -> None:
    """HTTP_PROXY carries the request (the fake answers as the proxy), NO_PROXY bypasses it."""
    for name in ("http_proxy", "https_proxy", "no_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    assert env_proxy("http://upstream.invalid/v1/chat/completions") is None
    with serve_fake_openai() as proxy:
        monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{proxy.port}")
        monkeypatch.setenv("NO_PROXY", "bypassed.invalid")
        assert env_proxy("http://bypassed.invalid/v1/chat/completions") is None
        # upstream.invalid does not resolve: only the proxy can have answered.
        events = collect("http://upstream.invalid/v1", prompt="via proxy")
        assert proxy.requests == 1
    assert events[-1].kind is StreamKind.FINAL
    assert events[-1].text == "echo: via proxy"


def test_parse_retry_after() -> None:
    """Retry-After seconds and retry-after-ms are read; HTTP-dates are ignored."""
    assert parse_retry_after({"retry-after-ms": "1500"}) == 1.5
    assert parse_retry_after({"retry-after": "3"}) == 3.0
    assert parse_retry_after({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}) is None
    assert parse_retry_after({}) is None
