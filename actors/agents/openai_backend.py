"""An agent backend for any OpenAI-compatible streaming chat-completions endpoint.

Works with OpenAI, vLLM, Ollama's ``/v1`` and LiteLLM proxies. The HTTP status decides
failures before the stream starts (429 + ``Retry-After`` → RATE_LIMIT, 5xx → OVERLOADED,
401/403 → AUTH); after it starts, an in-band error chunk, a stall (TTFT or idle watchdog) or a
connection closed without ``[DONE]`` (CUT) end the stream with an in-band error.

The client is aiohttp (already installed with Ray), not httpx: on this path httpx spent 2.2 ms of
CPU per streamed request with a connection per request and up to 4.6 ms with keep-alive at 32
concurrent streams (its pool re-checks every pooled connection for each request,
encode/httpx#3215), aiohttp 0.5 and 0.2-0.3 ms; in the agent actor that is CPU every request
pays on a 2-core machine. After ``[DONE]`` the rest of the body is read (briefly) so the
connection goes back to the pool instead of being closed.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import os
import re
import urllib.parse
import urllib.request
from collections.abc import AsyncIterator, Mapping

import aiohttp

from actors.agent_stream import AgentBackend, AgentRequest, FailureKind, StreamEvent, StreamKind
from actors.agents._classify import classify_http_status
from actors.agents._openai import OpenAISseParser
from actors.agents._prompt import compose_prompt
from actors.agents.process import Deadlines

__all__ = ["LineTooLongError", "OpenAIBackend", "SseLines", "env_proxy", "parse_retry_after"]

_ERROR_BODY_CAP = 4096
#: How long to wait, after ``[DONE]``, for the rest of the body (the chunked encoding's end):
#: read, the connection goes back to the pool; unread, it must be closed.
_DRAIN_S = 1.0
#: The longest SSE line accepted, in characters (a broken server cannot grow memory unbounded).
MAX_LINE = 8 << 20
#: SSE line endings: CRLF, LF or CR, and nothing else (str.splitlines would also split a JSON
#: string holding a raw U+2028, which JSON allows unescaped).
_EOL = re.compile(r"\r\n|\r|\n")


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


def env_proxy(url: str) -> str | None:
    """The proxy ``HTTP_PROXY``/``HTTPS_PROXY`` name for ``url``, unless ``NO_PROXY`` bypasses it.

    Args:
        url: the URL to be requested.

    Returns:
        The proxy URL, or None for a direct connection.
    """
    parts = urllib.parse.urlsplit(url)
    proxies = urllib.request.getproxies_environment()
    if not parts.hostname or urllib.request.proxy_bypass(parts.hostname):
        return None
    return proxies.get(parts.scheme)


async def _drain(body: aiohttp.StreamReader) -> None:
    """Read what follows the answer, within :data:`_DRAIN_S`; errors no longer matter."""
    with contextlib.suppress(Exception):
        async with asyncio.timeout(_DRAIN_S):
            while await body.readany():
                pass


class LineTooLongError(Exception):
    """A line grew past :data:`MAX_LINE` without ending."""


class SseLines:
    """Cuts a byte stream into text lines, wherever the network reads happen to split it.

    Args:
        max_line: the longest unfinished line kept before :class:`LineTooLongError`.
    """

    def __init__(self, max_line: int = MAX_LINE) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self._partial = ""
        self._max = max_line
        self._after_cr = False  # the last read ended in CR: a leading LF completes a CRLF

    def feed(self, chunk: bytes) -> list[str]:
        """Return the lines ``chunk`` completes (without their line endings).

        Raises:
            LineTooLongError: the unfinished line is longer than ``max_line``.
        """
        text = self._decoder.decode(chunk)
        if not text:
            return []
        if self._after_cr and text[0] == "\n":
            text = text[1:]
        joined = self._partial + text
        lines = _EOL.split(joined)
        self._partial = lines.pop()
        self._after_cr = joined.endswith("\r")
        if len(self._partial) > self._max:
            raise LineTooLongError
        return lines

    def end(self) -> list[str]:
        """Return the last line if the stream ended without a line ending."""
        rest = self._partial + self._decoder.decode(b"", final=True)
        self._partial = ""
        return [rest] if rest else []


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
        session: aiohttp.ClientSession | None = None,
        connect_timeout_s: float = 5.0,
    ) -> None:
        """Configure the backend.

        Args:
            name: the agent's configured name.
            base_url: e.g. ``http://127.0.0.1:11434/v1``.
            model: model name sent in each request.
            api_key_env: NAME of the environment variable holding the key (never the key).
            env: where to read that variable (default: this process's environment).
            session: an aiohttp session to share (default: one owned by this backend, made on
                first use, inside the event loop that uses it).
            connect_timeout_s: TCP connect timeout.
        """
        self.name = name
        self._url = base_url.rstrip("/") + "/chat/completions"
        self._model = model
        self._api_key_env = api_key_env
        self._env = os.environ if env is None else env
        self._owns_session = session is None
        self._session = session
        self._timeout = aiohttp.ClientTimeout(total=None, sock_connect=connect_timeout_s)
        # Proxy variables are honoured, read once: aiohttp's trust_env re-reads them and
        # ~/.netrc (on a worker thread) for every request, ~10 % of the agent actor's CPU.
        self._proxy = env_proxy(self._url)

    def _headers(self) -> dict[str, str]:
        key = self._env.get(self._api_key_env) if self._api_key_env else None
        return {"Authorization": f"Bearer {key}"} if key else {}

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        return self._session

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
            response = await self._send(body, deadlines)
            async with response:
                if response.status != 200:
                    yield await self._http_error(parser, response, deadlines)
                    return
                async for event in self._read(parser, response.content, deadlines):
                    yield event
                if parser.done:
                    answered = True
                    yield parser.finish(None)
                    await _drain(response.content)
        except _Timeout as exc:
            timeout = exc.kind
        except TimeoutError:  # aiohttp's connect timeout (a ServerTimeoutError)
            timeout = "connect"
        except aiohttp.ClientConnectorError as exc:
            yield self._error(parser, FailureKind.OVERLOADED, f"cannot connect: {exc}")
            return
        except LineTooLongError:
            if not answered:
                msg = f"an SSE line longer than {MAX_LINE} characters"
                yield self._error(parser, FailureKind.MALFORMED, msg)
            return
        except aiohttp.ClientError as exc:
            if not parser.done:
                yield self._error(parser, FailureKind.CUT, f"stream cut: {exc}")
                return
        if answered:
            return  # (releasing the connection may still have failed: the answer stands)
        if timeout is None and not parser.done:
            yield self._error(parser, FailureKind.CUT, "stream ended without [DONE]")
            return
        yield parser.finish(None, "", timeout)

    async def _send(self, body: dict[str, object], deadlines: Deadlines) -> aiohttp.ClientResponse:
        """POST ``body``; the TTFT (or total) deadline also bounds the wait for the headers.

        Raises:
            _Timeout: no response headers before the deadline (a server that accepted the
                connection and went quiet).
        """
        wait, kind = deadlines.next_wait()
        phase = asyncio.timeout(wait)
        try:
            async with phase:
                return await self._client().post(
                    self._url,
                    json=body,
                    headers=self._headers(),
                    timeout=self._timeout,
                    proxy=self._proxy,
                )
        except TimeoutError:
            if phase.expired():
                raise _Timeout(str(kind)) from None
            raise  # aiohttp's own connect timeout

    async def _read(
        self, parser: OpenAISseParser, body: aiohttp.StreamReader, deadlines: Deadlines
    ) -> AsyncIterator[StreamEvent]:
        """Feed the parser line by line from whatever each network read brought."""
        splitter = SseLines()
        while not parser.done:
            wait, kind = deadlines.next_wait()
            if wait <= 0:
                raise _Timeout(str(kind))
            try:
                # Only activity moves a deadline, so none passing while we wait means this one
                # expired: the attempt is over and the interrupted read is not resumed.
                async with asyncio.timeout(wait):
                    chunk = await body.readany()
            except TimeoutError:
                raise _Timeout(str(kind)) from None
            if chunk:
                deadlines.activity()
            for line in splitter.feed(chunk) if chunk else splitter.end():
                for event in parser.feed(line):
                    if event.kind is StreamKind.DELTA:
                        deadlines.mark_first_token()
                    yield event
                if parser.done:
                    return
            if not chunk:
                return

    async def _http_error(
        self, parser: OpenAISseParser, response: aiohttp.ClientResponse, deadlines: Deadlines
    ) -> StreamEvent:
        """The error event for a non-200 answer, with the start of its body (read in time)."""
        raw = b""
        with contextlib.suppress(aiohttp.ClientError, TimeoutError):
            async with asyncio.timeout(max(0.0, deadlines.next_wait()[0])):
                while len(raw) < _ERROR_BODY_CAP and (more := await response.content.read(512)):
                    raw += more
        return parser.event(
            StreamKind.ERROR,
            text=f"HTTP {response.status}: {raw[:200].decode('utf-8', 'replace')}",
            is_error=True,
            failure=classify_http_status(response.status),
            retry_after_s=parse_retry_after(response.headers),
            data={"status": response.status},
        )

    @staticmethod
    def _error(parser: OpenAISseParser, failure: FailureKind, message: str) -> StreamEvent:
        data = {"partial_text_len": len(parser.text), "malformed": parser.malformed}
        return parser.event(
            StreamKind.ERROR, text=message[:200], is_error=True, failure=failure, data=data
        )

    async def aclose(self) -> None:
        """Close the HTTP session if this backend created it."""
        if self._owns_session and self._session is not None:
            await self._session.close()
            self._session = None


class _Timeout(Exception):
    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind
