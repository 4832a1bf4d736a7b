"""An agent backend for any OpenAI-compatible streaming chat-completions endpoint.

Works with OpenAI, vLLM, Ollama's ``/v1`` and LiteLLM proxies. The HTTP status decides
failures before the stream starts (429 + ``Retry-After`` → RATE_LIMIT, 5xx → OVERLOADED,
401/403 → AUTH); after it starts, an in-band error chunk, a stall (TTFT or idle watchdog) or a
connection closed without ``[DONE]`` (CUT) end the stream with an in-band error.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import os
import sys
from collections.abc import AsyncIterator, Mapping

import httpx

from actors.agent_stream import AgentBackend, AgentRequest, FailureKind, StreamEvent, StreamKind
from actors.agents._classify import classify_http_status
from actors.agents._openai import OpenAISseParser
from actors.agents._prompt import compose_prompt
from actors.agents.process import Deadlines

__all__ = ["OpenAIBackend", "parse_retry_after"]

_ERROR_BODY_CAP = 4096
#: How long to wait, after ``[DONE]``, for the rest of the body (the chunked encoding's end):
#: read, the connection goes back to the pool; unread, httpx must close it.
_DRAIN_S = 1.0

# httpcore runs ``import sniffio`` inside a function called several times per request. When
# sniffio is not installed (it is optional since anyio 4) every call searches sys.path again:
# ~0.1-0.3 ms each, the largest Python cost of a short streamed request in the agent actor.
# A None entry makes that import fail at once, exactly as it would have failed anyway.
if importlib.util.find_spec("sniffio") is None:
    sys.modules.setdefault("sniffio", None)  # type: ignore[arg-type]


def parse_retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds to wait from ``retry-after-ms`` or ``Retry-After`` (seconds form only).

    Args:
        headers: response headers (case-insensitive mapping).

    Returns:
        The delay in seconds, or None if absent or not a number.
    """
    for name, scale in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            return max(float(value) / scale, 0.0)
        except ValueError:
            continue  # an HTTP-date; callers fall back to their own backoff
    return None


async def _drain(lines: AsyncIterator[str]) -> None:
    """Read what follows the answer, within :data:`_DRAIN_S`; errors no longer matter."""
    with contextlib.suppress(Exception):
        async with asyncio.timeout(_DRAIN_S):
            async for _ in lines:
                pass


class OpenAIBackend(AgentBackend):
    """Streams chat completions from one OpenAI-compatible endpoint."""

    def __init__(
        self,
        name: str,
        *,
        base_url: str,
        model: str,
        api_key_env: str | None = None,
        env: Mapping[str, str] | None = None,
        client: httpx.AsyncClient | None = None,
        connect_timeout_s: float = 5.0,
    ) -> None:
        """Configure the backend.

        Args:
            name: the agent's configured name.
            base_url: e.g. ``http://127.0.0.1:11434/v1``.
            model: model name sent in each request.
            api_key_env: NAME of the environment variable holding the key (never the key).
            env: where to read that variable (default: this process's environment).
            client: an httpx client to share (default: one owned by this backend).
            connect_timeout_s: TCP connect timeout.
        """
        self.name = name
        self._url = base_url.rstrip("/") + "/chat/completions"
        self._model = model
        self._api_key_env = api_key_env
        self._env = os.environ if env is None else env
        self._owns_client = client is None
        self._client = client or httpx.AsyncClient(
            timeout=httpx.Timeout(None, connect=connect_timeout_s)
        )

    def _headers(self) -> dict[str, str]:
        key = self._env.get(self._api_key_env) if self._api_key_env else None
        return {"Authorization": f"Bearer {key}"} if key else {}

    async def stream(self, request: AgentRequest) -> AsyncIterator[StreamEvent]:
        """Run one streaming completion and yield normalised events.

        Args:
            request: the attempt.

        Yields:
            ``start``, ``delta``/``tool_call`` events, then one terminal event.
        """
        parser = OpenAISseParser()
        yield parser.event(StreamKind.START, data={"model": self._model})
        body = {
            "model": self._model,
            "messages": [{"role": "user", "content": compose_prompt(request)}],
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        deadlines = Deadlines(
            request.ttft_timeout_s, request.idle_timeout_s, request.total_timeout_s
        )
        timeout: str | None = None
        answered = False
        try:
            async with self._client.stream(
                "POST", self._url, json=body, headers=self._headers()
            ) as response:
                if response.status_code != 200:
                    yield await self._http_error(parser, response)
                    return
                lines = response.aiter_lines()
                async for event in self._read(parser, lines, deadlines):
                    yield event
                if parser.done:
                    answered = True
                    yield parser.finish(None)
                    await _drain(lines)
        except _Timeout as exc:
            timeout = exc.kind
        except httpx.TimeoutException:
            timeout = "connect"
        except httpx.ConnectError as exc:
            yield self._error(parser, FailureKind.OVERLOADED, f"cannot connect: {exc}")
            return
        except httpx.TransportError as exc:
            if not parser.done:
                yield self._error(parser, FailureKind.CUT, f"stream cut: {exc}")
                return
        if answered:
            return  # (closing the response may still have failed: the answer stands)
        if timeout is None and not parser.done:
            yield self._error(parser, FailureKind.CUT, "stream ended without [DONE]")
            return
        yield parser.finish(None, "", timeout)

    async def _read(
        self, parser: OpenAISseParser, lines: AsyncIterator[str], deadlines: Deadlines
    ) -> AsyncIterator[StreamEvent]:
        while not parser.done:
            wait, kind = deadlines.next_wait()
            if wait <= 0:
                raise _Timeout(str(kind))
            try:
                # Only activity moves a deadline, so none passing while we wait means this one
                # expired: the attempt is over and the cancelled line iterator is not reused.
                async with asyncio.timeout(wait):
                    line = await anext(lines)
            except StopAsyncIteration:
                return
            except TimeoutError:
                raise _Timeout(str(kind)) from None
            deadlines.activity()
            for event in parser.feed(line):
                if event.kind is StreamKind.DELTA:
                    deadlines.mark_first_token()
                yield event

    async def _http_error(self, parser: OpenAISseParser, response: httpx.Response) -> StreamEvent:
        raw = b""
        async for chunk in response.aiter_bytes():
            raw += chunk
            if len(raw) >= _ERROR_BODY_CAP:
                break
        return parser.event(
            StreamKind.ERROR,
            text=f"HTTP {response.status_code}: {raw[:200].decode('utf-8', 'replace')}",
            is_error=True,
            failure=classify_http_status(response.status_code),
            retry_after_s=parse_retry_after(response.headers),
            data={"status": response.status_code},
        )

    @staticmethod
    def _error(parser: OpenAISseParser, failure: FailureKind, message: str) -> StreamEvent:
        data = {"partial_text_len": len(parser.text), "malformed": parser.malformed}
        return parser.event(
            StreamKind.ERROR, text=message[:200], is_error=True, failure=failure, data=data
        )

    async def aclose(self) -> None:
        """Close the HTTP client if this backend created it."""
        if self._owns_client:
            await self._client.aclose()


class _Timeout(Exception):
    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind
