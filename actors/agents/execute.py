"""The execute runner: run one allow-listed command, at most once, inside a project root.

Hardening follows reliability.md §B and recipe R-13: off unless enabled; argv lists only, never a
shell; executables from an allow-list resolved to absolute paths when the runner is built; the
working directory realpath'd and required under an allowed root; an allow-listed environment;
its own process group, killed entirely on timeout; capped output; rlimits set in the child
before exec; and an idempotency key so a command runs at most once, even across a crash
("unknown" is an answer, a second run is not).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import resource
import shutil
import signal
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

from actors.agents._ledger import ExecuteLedger, FileExecuteLedger, InMemoryExecuteLedger
from actors.agents._redact import redact_argv
from actors.agents.errors import ExecuteRefusedError
from actors.agents.process import child_env, kill_process_group, wait_exit

__all__ = [
    "ExecuteAudit",
    "ExecuteLedger",
    "ExecutePolicy",
    "ExecuteResult",
    "ExecuteRunner",
    "FileExecuteLedger",
    "InMemoryExecuteLedger",
    "redact_argv",
]

_FORBIDDEN_TREES = ("/proc", "/sys", "/dev")
_CHUNK = 65536

ExecuteStatus = Literal["completed", "timeout", "output_capped", "unknown"]


@dataclass(frozen=True)
class ExecutePolicy:
    """What the runner may do.

    Attributes:
        enabled: the runner refuses everything unless this is True.
        commands: allowed executables, as names (looked up on PATH) or absolute paths.
        roots: directories a command may run in (or below).
        env_allow: extra environment names passed to the command.
        timeout_s: wall-clock limit; the whole process group is killed after it.
        kill_grace_s: time between SIGTERM and SIGKILL.
        max_output_bytes: per-stream cap; more output kills the command.
        rlimit_cpu_s / rlimit_nofile / rlimit_fsize_bytes / rlimit_nproc: child rlimits
            (None leaves a limit alone; NPROC counts all the user's processes, so it is off
            by default).
    """

    enabled: bool = False
    commands: tuple[str, ...] = ()
    roots: tuple[str, ...] = ()
    env_allow: tuple[str, ...] = ()
    timeout_s: float = 60.0
    kill_grace_s: float = 1.0
    max_output_bytes: int = 1024 * 1024
    rlimit_cpu_s: int | None = 60
    rlimit_nofile: int | None = 256
    rlimit_fsize_bytes: int | None = 64 * 1024 * 1024
    rlimit_nproc: int | None = None


class ExecuteResult(BaseModel):
    """The outcome of one execute request (``unknown``: claimed earlier, never recorded)."""

    model_config = ConfigDict(frozen=True)

    status: ExecuteStatus
    exit_code: int | None
    stdout: str = ""
    stderr: str = ""
    truncated: bool = False
    duration: float = 0.0
    argv_redacted: list[str]
    cwd: str
    key: str | None = None


class ExecuteAudit(BaseModel):
    """One audit record per execute attempt; never holds secret values."""

    model_config = ConfigDict(frozen=True)

    key: str | None
    argv_redacted: list[str]
    argv_sha256: str
    cwd: str
    status: ExecuteStatus
    exit_code: int | None
    duration: float
    replayed: bool


def _rlimit_setter(policy: ExecutePolicy) -> Callable[[], None]:
    wanted = [
        (resource.RLIMIT_CPU, policy.rlimit_cpu_s),
        (resource.RLIMIT_NOFILE, policy.rlimit_nofile),
        (resource.RLIMIT_FSIZE, policy.rlimit_fsize_bytes),
        (resource.RLIMIT_NPROC, policy.rlimit_nproc),
    ]

    def apply() -> None:  # runs in the child between fork and exec
        for res, value in wanted:
            if value is None:
                continue
            _, hard = resource.getrlimit(res)
            limit = value if hard == resource.RLIM_INFINITY else min(value, hard)
            resource.setrlimit(res, (limit, limit))

    return apply


class ExecuteRunner:
    """Runs allow-listed commands under an :class:`ExecutePolicy`."""

    def __init__(
        self,
        policy: ExecutePolicy,
        *,
        ledger: ExecuteLedger[ExecuteResult] | None = None,
        base_env: Mapping[str, str] | None = None,
        on_audit: Callable[[ExecuteAudit], None] | None = None,
    ) -> None:
        """Resolve the allow-list and roots once, now.

        Args:
            policy: what is allowed.
            ledger: idempotency ledger (default: in memory).
            base_env: environment to pick allow-listed names from (default: ``os.environ``).
            on_audit: receives one :class:`ExecuteAudit` per request.

        Raises:
            ExecuteRefusedError: an allowed command cannot be found.
        """
        self.policy = policy
        self._ledger: ExecuteLedger[ExecuteResult] = ledger or InMemoryExecuteLedger()
        self._env = child_env(os.environ if base_env is None else base_env, allow=policy.env_allow)
        self._on_audit = on_audit
        self._by_name: dict[str, str] = {}
        self._real: set[str] = set()
        for command in policy.commands:
            found = shutil.which(command, path=self._env.get("PATH", os.defpath))
            if found is None:
                raise ExecuteRefusedError(f"allowed command not found: {command}")
            self._by_name[os.path.basename(command)] = os.path.abspath(found)
            self._real.add(os.path.realpath(found))
        self._roots = [Path(os.path.realpath(root)) for root in policy.roots]

    def resolve(self, argv: Sequence[str], cwd: str) -> tuple[list[str], str]:
        """Check a request and return the argv with an absolute executable and the real cwd.

        Args:
            argv: command and arguments.
            cwd: requested working directory (absolute).

        Returns:
            ``(argv, real_cwd)`` ready to run.

        Raises:
            ExecuteRefusedError: disabled, empty argv, command not allowed, or cwd not allowed.
        """
        if not self.policy.enabled:
            raise ExecuteRefusedError("execute is disabled", hint="enable it in the agents config")
        if not argv:
            raise ExecuteRefusedError("empty command")
        head = argv[0]
        if os.sep in head:
            if os.path.realpath(head) not in self._real:
                raise ExecuteRefusedError(f"command not allowed: {head}")
            exe = os.path.abspath(head)
        elif head in self._by_name:
            exe = self._by_name[head]
        else:
            raise ExecuteRefusedError(f"command not allowed: {head}")
        return [exe, *argv[1:]], self._check_cwd(cwd)

    def _check_cwd(self, cwd: str) -> str:
        if not os.path.isabs(cwd) or ".." in Path(cwd).parts:
            raise ExecuteRefusedError(f"working directory must be absolute, without '..': {cwd}")
        real = os.path.realpath(cwd)
        for path in (cwd, real):
            if any(path == tree or path.startswith(tree + "/") for tree in _FORBIDDEN_TREES):
                raise ExecuteRefusedError(f"working directory not allowed: {cwd}")
        if not any(Path(real).is_relative_to(root) for root in self._roots):
            raise ExecuteRefusedError(f"working directory outside the allowed roots: {cwd}")
        if not os.path.isdir(real):
            raise ExecuteRefusedError(f"working directory does not exist: {cwd}")
        return real

    async def run(self, argv: Sequence[str], *, cwd: str, key: str | None = None) -> ExecuteResult:
        """Run a command at most once per idempotency key.

        Args:
            argv: command and arguments (no shell is involved).
            cwd: working directory, under an allowed root.
            key: idempotency key; a repeat returns the recorded outcome or ``unknown``.

        Returns:
            The result; for a repeated key, the first run's result (or ``unknown``).

        Raises:
            ExecuteRefusedError: the request is not allowed (checked before claiming the key).
        """
        exe_argv, real_cwd = self.resolve(argv, cwd)
        redacted = redact_argv(argv)
        if key is not None and not self._ledger.claim(key):
            prior = self._ledger.lookup(key) or ExecuteResult(
                status="unknown", exit_code=None, argv_redacted=redacted, cwd=real_cwd, key=key
            )
            self._audit(argv, prior, replayed=True)
            return prior
        result = await self._spawn(exe_argv, real_cwd, redacted, key)
        if key is not None:
            self._ledger.record(key, result)
        self._audit(argv, result, replayed=False)
        return result

    def _audit(self, argv: Sequence[str], result: ExecuteResult, *, replayed: bool) -> None:
        if self._on_audit is None:
            return
        digest = hashlib.sha256(json.dumps(list(argv)).encode()).hexdigest()
        self._on_audit(
            ExecuteAudit(
                key=result.key,
                argv_redacted=result.argv_redacted,
                argv_sha256=digest,
                cwd=result.cwd,
                status=result.status,
                exit_code=result.exit_code,
                duration=result.duration,
                replayed=replayed,
            )
        )

    async def _spawn(
        self, argv: list[str], cwd: str, redacted: list[str], key: str | None
    ) -> ExecuteResult:
        started = time.monotonic()
        proc = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            cwd=cwd,
            env=self._env,
            start_new_session=True,
            # rlimits must be set in the child before exec; nothing else runs there.
            preexec_fn=_rlimit_setter(self.policy),
        )
        capped = asyncio.Event()
        out, err = bytearray(), bytearray()

        async def pump(stream: asyncio.StreamReader | None, buf: bytearray) -> None:
            assert stream is not None
            while chunk := await stream.read(_CHUNK):
                room = self.policy.max_output_bytes - len(buf)
                buf += chunk[: max(room, 0)]
                if len(chunk) > room:
                    capped.set()
                    kill_process_group(proc.pid)  # `yes` would otherwise run until the timeout
                    return

        readers = asyncio.gather(pump(proc.stdout, out), pump(proc.stderr, err))
        status: ExecuteStatus = "completed"
        try:
            if not await wait_exit(proc, self.policy.timeout_s):
                status = "timeout"
            # Kill the group either way: background children must not outlive the command
            # or hold its pipes open.
            await self._kill(proc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(readers, self.policy.kill_grace_s)
        finally:
            if proc.returncode is None:
                await self._kill(proc)
            readers.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await readers
        if capped.is_set():
            status = "output_capped"
        marker = f"\n[... output truncated at {self.policy.max_output_bytes} bytes]"
        stdout = out.decode("utf-8", "replace") + (marker if capped.is_set() else "")
        return ExecuteResult(
            status=status,
            exit_code=proc.returncode,
            stdout=stdout,
            stderr=err.decode("utf-8", "replace"),
            truncated=capped.is_set(),
            duration=time.monotonic() - started,
            argv_redacted=redacted,
            cwd=cwd,
            key=key,
        )

    async def _kill(self, proc: asyncio.subprocess.Process) -> None:
        if proc.returncode is None and kill_process_group(proc.pid, signal.SIGTERM):
            await wait_exit(proc, self.policy.kill_grace_s)
        kill_process_group(proc.pid, signal.SIGKILL)
        await wait_exit(proc)
