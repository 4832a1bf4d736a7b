"""Run an agent CLI as a supervised child process: argv only, own process group, watchdogs.

Process hygiene is the main reliability risk of CLI agents (agents.md §0.3): Claude's
stream-json mode can stop producing output without exiting, keep running after its final
``result``, or block on an open stdin pipe, and agents spawn grandchildren. So every child here
gets ``stdin=DEVNULL``, its own session (process group), an allow-listed environment, bounded
stdout and stderr, and a watchdog; and every exit path kills the whole group.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import AsyncGenerator, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from types import TracebackType

__all__ = [
    "BASE_ENV_NAMES",
    "AgentProcess",
    "Deadlines",
    "OutputCapError",
    "ProcessLimits",
    "ProcessTimeoutError",
    "TimeoutKind",
    "child_env",
    "kill_process_group",
    "wait_exit",
]

BASE_ENV_NAMES: tuple[str, ...] = ("PATH", "HOME", "LANG", "TERM", "TMPDIR")
# Claude Code marks its children with these; an inherited marker makes a nested CLI refuse or
# misbehave, so they never pass unless a name is configured explicitly.
_SCRUB_PREFIXES = ("CLAUDECODE", "CLAUDE_CODE_")
_EXIT_POLL_S = 0.02


def child_env(
    base: Mapping[str, str],
    *,
    allow: Iterable[str] = (),
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Build a child environment from an allow-list, never by copying the parent's.

    Args:
        base: the parent environment to pick from.
        allow: extra variable names to pass through (e.g. an agent's credential variable).
        extra: values to set on top (e.g. a per-agent ``HOME``).

    Returns:
        ``PATH``, ``HOME``, ``LANG``, ``LC_*``, ``TERM``, ``TMPDIR`` and the allowed names that
        exist in ``base``, minus ``CLAUDECODE`` / ``CLAUDE_CODE_*`` unless named in ``allow``,
        plus ``extra``.
    """
    explicit = set(allow)
    names = set(BASE_ENV_NAMES) | explicit
    env = {
        key: value
        for key, value in base.items()
        if (key in names or key.startswith("LC_"))
        and (key in explicit or not key.startswith(_SCRUB_PREFIXES))
    }
    env.update(extra or {})
    return env


class TimeoutKind(StrEnum):
    """Which watchdog fired."""

    TTFT = "ttft"
    IDLE = "idle"
    TOTAL = "total"


class ProcessTimeoutError(Exception):
    """A watchdog fired while waiting for output."""

    def __init__(self, kind: TimeoutKind) -> None:
        """Remember which watchdog fired."""
        super().__init__(f"{kind} timeout")
        self.kind = kind


class OutputCapError(Exception):
    """The child wrote more stdout (or a longer line) than allowed."""


@dataclass
class Deadlines:
    """The TTFT, inter-event idle and total deadlines of one attempt.

    Before the first token only the TTFT and total deadlines apply: a model may think for a long
    time without output, and an idle watchdog in that phase would kill it early (LiteLLM's
    #30337 trap). After the first token, the idle deadline applies between any two lines.
    """

    ttft_s: float
    idle_s: float
    total_s: float
    first_token: bool = False
    _start: float = field(default_factory=time.monotonic)
    _last: float = field(default_factory=time.monotonic)

    def activity(self) -> None:
        """Record that the child wrote something (resets the idle watchdog)."""
        self._last = time.monotonic()

    def mark_first_token(self) -> None:
        """End the TTFT phase."""
        self.first_token = True

    def next_wait(self) -> tuple[float, TimeoutKind]:
        """Seconds until the nearest deadline, and which one it is (may be ≤ 0)."""
        now = time.monotonic()
        options = [(self._start + self.total_s - now, TimeoutKind.TOTAL)]
        if self.first_token:
            options.append((self._last + self.idle_s - now, TimeoutKind.IDLE))
        else:
            options.append((self._start + self.ttft_s - now, TimeoutKind.TTFT))
        return min(options)


@dataclass(frozen=True)
class ProcessLimits:
    """Mechanical limits of a child process.

    Attributes:
        kill_grace_s: time between SIGTERM and SIGKILL to the group.
        final_grace_s: how long a child may take to exit after its final event.
        max_output_bytes: total stdout allowed.
        max_line_bytes: longest stdout line allowed.
        max_stderr_bytes: stderr kept for classification (the tail; the rest is drained).
    """

    kill_grace_s: float = 2.0
    final_grace_s: float = 2.0
    max_output_bytes: int = 32 * 1024 * 1024
    max_line_bytes: int = 8 * 1024 * 1024
    max_stderr_bytes: int = 64 * 1024


def kill_process_group(pgid: int, sig: signal.Signals = signal.SIGKILL) -> bool:
    """Signal a whole process group; a group that is already gone is fine.

    Args:
        pgid: the process group id (the leader's pid, since children start a new session).
        sig: the signal to send.

    Returns:
        True if the group existed.
    """
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        return False
    return True


async def wait_exit(proc: asyncio.subprocess.Process, timeout_s: float | None = None) -> bool:
    """Wait until the process itself has exited, whoever still holds its pipes.

    On Python 3.11, ``Process.wait()`` also waits for stdout/stderr to close, so a grandchild
    holding a pipe makes it hang; the return code, though, is set as soon as the child exits.

    Args:
        proc: the process.
        timeout_s: give up after this long (None: wait forever).

    Returns:
        True if it exited within the time.
    """
    deadline = None if timeout_s is None else time.monotonic() + timeout_s
    while proc.returncode is None:
        if deadline is not None and time.monotonic() >= deadline:
            return False
        await asyncio.sleep(_EXIT_POLL_S)
    return True


class AgentProcess:
    """One running child in its own process group; use as an async context manager."""

    def __init__(self, proc: asyncio.subprocess.Process, limits: ProcessLimits) -> None:
        """Wrap a started process; use :meth:`spawn` instead."""
        self._proc = proc
        self._limits = limits
        self._out_bytes = 0
        self._stderr = bytearray()
        self._stderr_task = asyncio.ensure_future(self._drain_stderr())
        self.pid = proc.pid
        self.pgid = proc.pid  # start_new_session makes the child its group's leader
        self.killed = False

    @classmethod
    async def spawn(
        cls,
        argv: Sequence[str],
        *,
        env: Mapping[str, str],
        cwd: str | None = None,
        limits: ProcessLimits | None = None,
    ) -> AgentProcess:
        """Start ``argv`` (never through a shell) with stdin closed, in a new session.

        Args:
            argv: executable and arguments.
            env: the complete child environment (build it with :func:`child_env`).
            cwd: working directory.
            limits: output and kill limits.

        Returns:
            The running process.

        Raises:
            FileNotFoundError: the executable does not exist.
            PermissionError: it is not executable.
        """
        limits = limits or ProcessLimits()
        proc = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=dict(env),
            cwd=cwd,
            start_new_session=True,
            limit=limits.max_line_bytes,
        )
        return cls(proc, limits)

    async def _drain_stderr(self) -> None:
        assert self._proc.stderr is not None
        cap = self._limits.max_stderr_bytes
        while chunk := await self._proc.stderr.read(65536):
            self._stderr += chunk
            if len(self._stderr) > cap:
                del self._stderr[: len(self._stderr) - cap]

    @property
    def stderr_text(self) -> str:
        """The captured stderr tail, decoded leniently."""
        return self._stderr.decode("utf-8", "replace")

    @property
    def returncode(self) -> int | None:
        """The exit code once the leader has exited (negative for a signal)."""
        return self._proc.returncode

    async def lines(self, deadlines: Deadlines) -> AsyncGenerator[str, None]:
        """Yield stdout lines until EOF, enforcing the deadlines and the output caps.

        Args:
            deadlines: the attempt's watchdogs; the caller marks the first token on it.

        Yields:
            Decoded lines, newline included.

        Raises:
            ProcessTimeoutError: a deadline passed with no line.
            OutputCapError: too much output, or one line longer than the line cap.
        """
        assert self._proc.stdout is not None
        while True:
            wait, kind = deadlines.next_wait()
            if wait <= 0:
                raise ProcessTimeoutError(kind)
            try:
                raw = await asyncio.wait_for(self._proc.stdout.readline(), wait)
            except TimeoutError:
                continue  # the loop re-reads the deadlines and raises the right kind
            except ValueError as exc:  # asyncio's line-length limit
                raise OutputCapError("stdout line over the cap") from exc
            if not raw:
                return
            self._out_bytes += len(raw)
            if self._out_bytes > self._limits.max_output_bytes:
                raise OutputCapError("stdout over the cap")
            deadlines.activity()
            yield raw.decode("utf-8", "replace")

    async def wait_or_kill(self, grace_s: float) -> int | None:
        """Give the child ``grace_s`` to exit on its own, then kill its group.

        Args:
            grace_s: seconds to wait.

        Returns:
            The exit code (negative if killed by a signal).
        """
        if not await wait_exit(self._proc, grace_s):
            await self.kill()
        return self._proc.returncode

    async def kill(self) -> None:
        """SIGTERM the group, wait ``kill_grace_s`` for the leader, then SIGKILL the group."""
        self.killed = True
        if kill_process_group(self.pgid, signal.SIGTERM):
            await wait_exit(self._proc, self._limits.kill_grace_s)
        # Always sweep: grandchildren may ignore SIGTERM or outlive the leader.
        kill_process_group(self.pgid, signal.SIGKILL)
        await wait_exit(self._proc)

    async def collect_stderr(self) -> str:
        """Wait (bounded by ``kill_grace_s``) for stderr to reach EOF and return its tail.

        Returns:
            The captured stderr text.
        """
        if not self._stderr_task.done():
            # A grandchild may hold stderr open; then classify from what arrived so far.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._stderr_task), self._limits.kill_grace_s)
        return self.stderr_text

    async def aclose(self) -> None:
        """Make sure nothing of the group survives and stderr is collected."""
        if self._proc.returncode is None:
            await self.kill()
        else:
            kill_process_group(self.pgid, signal.SIGKILL)
        try:
            await asyncio.wait_for(self._stderr_task, self._limits.kill_grace_s)
        except TimeoutError:
            self._stderr_task.cancel()

    async def __aenter__(self) -> AgentProcess:
        """Enter: nothing to do, the process already runs."""
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Exit: kill and reap the whole group."""
        await self.aclose()
