"""A small OpenAI-compatible streaming server on 127.0.0.1 with fault injection.

Serves ``POST /v1/chat/completions`` with ``stream: true`` as SSE over chunked HTTP/1.1, closing
each connection after its answer unless started with ``keep_alive=True`` (then a complete answer
leaves the connection open for the next request, as vLLM, Ollama or llama.cpp do; the benchmarks
run it so, with aiohttp clients, as httpx's pool slows down sharply with many kept-alive
connections, encode/httpx#3215). The answer echoes the last user message ("echo: <text>"), one
word per chunk. Faults come from keyword arguments of :func:`run_fake_openai` or, per request,
from an ``x-fake-fault`` header such as ``cut_after=3,gap_s=0.01``:

- ``fail_first`` / ``fail_status``: the first N requests get that status (e.g. 503);
- ``retry_after``: sent as ``Retry-After`` with failures (use with ``fail_status=429``);
- ``cut_after``: close the connection after k tokens, without ``[DONE]``;
- ``stall_after``: stop sending after k tokens but keep the connection open;
- ``malformed_at``: send a malformed chunk before token k (the stream then continues);
- ``error_after``: send an in-band ``data: {"error": ...}`` after k tokens and close;
- ``ttft_s`` / ``gap_s``: delay before the first token / between tokens.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, fields, replace
from typing import Any


@dataclass(frozen=True)
class Faults:
    fail_first: int = 0
    fail_status: int = 503
    retry_after: float | None = None
    cut_after: int | None = None
    stall_after: int | None = None
    malformed_at: int | None = None
    error_after: int | None = None
    ttft_s: float = 0.0
    gap_s: float = 0.0

    def with_header(self, header: str | None) -> Faults:
        if not header:
            return self
        types = {f.name: f.type for f in fields(self)}
        updates: dict[str, Any] = {}
        for part in header.split(","):
            name, _, value = part.strip().partition("=")
            if name in types:
                updates[name] = float(value) if "float" in str(types[name]) else int(value)
        return replace(self, **updates)


class FakeOpenAIServer:
    """The server; use :func:`run_fake_openai` in tests."""

    def __init__(self, faults: Faults, *, keep_alive: bool = False) -> None:
        self.faults = faults
        self.keep_alive = keep_alive
        self.requests = 0
        self.connections = 0
        self.bodies: list[dict[str, Any]] = []
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._tasks: set[asyncio.Task[None]] = set()
        self.port = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> None:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("fake OpenAI server did not start")

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(
            asyncio.start_server(self._handle, "127.0.0.1", 0)
        )
        self.port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()

    async def _shutdown(self) -> None:
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)  # type: ignore[arg-type]
        self.connections += 1
        try:
            while await self._respond(reader, writer):
                pass  # keep-alive: the next request on the same connection
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self._tasks.discard(task)  # type: ignore[arg-type]
            writer.close()

    async def _respond(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        """Answer one request; True when the connection may carry another."""
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        request = json.loads(body or b"{}")
        self.requests += 1
        self.bodies.append(request)
        faults = self.faults.with_header(headers.get("x-fake-fault"))
        if self.requests <= faults.fail_first:
            await self._fail(writer, faults)
            return False
        messages = request.get("messages") or [{"content": ""}]
        words = f"echo: {messages[-1].get('content', '')}".split(" ")
        tokens = [w + (" " if i < len(words) - 1 else "") for i, w in enumerate(words)]
        broken = (faults.cut_after, faults.stall_after, faults.error_after) != (None,) * 3
        close = broken or not self.keep_alive or headers.get("connection", "").lower() == "close"
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n"
            + (b"Connection: close\r\n" if close else b"")
            + b"\r\n"
        )
        await asyncio.sleep(faults.ttft_s)
        for i, token in enumerate(tokens):
            if i == faults.cut_after:
                await writer.drain()
                return False  # close without the terminating chunk: a cut connection
            if i == faults.stall_after:
                await writer.drain()
                await asyncio.sleep(3600)
            if i == faults.error_after:
                await self._frame(
                    writer, {"error": {"message": "upstream overloaded", "code": 529}}
                )
                writer.write(b"0\r\n\r\n")
                return False
            if i == faults.malformed_at:
                await self._send(writer, "data: {not json\n\n")
            await self._frame(writer, _chunk({"role": "assistant", "content": token}, None))
            await asyncio.sleep(faults.gap_s)
        await self._frame(writer, _chunk({}, "stop"))
        await self._frame(
            writer,
            {
                "id": "chatcmpl-fake",
                "choices": [],
                "usage": {"prompt_tokens": 3, "completion_tokens": len(tokens)},
            },
        )
        await self._send(writer, "data: [DONE]\n\n")
        writer.write(b"0\r\n\r\n")
        await writer.drain()
        return not close

    async def _fail(self, writer: asyncio.StreamWriter, faults: Faults) -> None:
        body = json.dumps({"error": {"message": "fake failure", "code": faults.fail_status}})
        extra = f"Retry-After: {faults.retry_after:g}\r\n" if faults.retry_after is not None else ""
        writer.write(
            (
                f"HTTP/1.1 {faults.fail_status} Fake\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n{extra}Connection: close\r\n\r\n{body}"
            ).encode()
        )
        await writer.drain()

    async def _frame(self, writer: asyncio.StreamWriter, obj: dict[str, Any]) -> None:
        await self._send(writer, f"data: {json.dumps(obj)}\n\n")

    async def _send(self, writer: asyncio.StreamWriter, text: str) -> None:
        data = text.encode()
        writer.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        await writer.drain()


def _chunk(delta: dict[str, Any], finish: str | None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": "fake-model",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


@contextlib.contextmanager
def serve_fake_openai(*, keep_alive: bool = False, **faults: Any) -> Iterator[FakeOpenAIServer]:
    """Start the server in a thread; yields the server (``.base_url``, ``.requests``,
    ``.connections``)."""
    server = FakeOpenAIServer(Faults(**faults), keep_alive=keep_alive)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@contextlib.contextmanager
def run_fake_openai(**faults: Any) -> Iterator[str]:
    """Start the server in a thread and yield its base URL (``http://127.0.0.1:<port>/v1``)."""
    with serve_fake_openai(**faults) as server:
        yield server.base_url
