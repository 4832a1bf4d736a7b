"""Agent backends that drive the Claude, Gemini, Codex and Qwen CLIs headlessly.

Each attempt spawns the CLI in its JSON-lines streaming mode (agents.md §1) through
:class:`~actors.agents.process.AgentProcess`, feeds stdout to the CLI's parser and yields the
normalised events. The terminal event is held back until the process has exited (or has been
killed a grace period after its final result), so no process outlives its stream.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Literal

from actors.agent_stream import AgentBackend, AgentRequest, FailureKind, StreamEvent, StreamKind
from actors.agents._prompt import compose_prompt
from actors.agents.parsers import parser_for
from actors.agents.process import (
    AgentProcess,
    Deadlines,
    OutputCapError,
    ProcessLimits,
    ProcessTimeoutError,
    child_env,
)

__all__ = ["CliAgentSpec", "CliBackend", "CliName", "Sandbox", "build_argv"]

CliName = Literal["claude", "gemini", "codex", "qwen"]
# danger-full-access is deliberately not expressible.
Sandbox = Literal["read-only", "workspace-write"]


@dataclass(frozen=True)
class CliAgentSpec:
    """How to run one configured CLI agent.

    Attributes:
        name: the agent's configured name.
        cli: which CLI it is.
        executable: path (or PATH name) of the CLI.
        model: model override, if any.
        sandbox: read-only (Claude/Gemini/Qwen plan mode) or workspace-write.
        credential_env: names of environment variables the CLI may see (its credentials).
        home: if set, a private HOME (and CODEX_HOME / GEMINI_CLI_HOME) for this agent.
        cwd: working directory of the CLI.
        limits: kill grace, final grace and output caps.
    """

    name: str
    cli: CliName
    executable: str
    model: str | None = None
    sandbox: Sandbox = "read-only"
    credential_env: tuple[str, ...] = ()
    home: str | None = None
    cwd: str | None = None
    limits: ProcessLimits = field(default_factory=ProcessLimits)


def _claude_argv(spec: CliAgentSpec, prompt: str, resume: str | None) -> list[str]:
    mode = "plan" if spec.sandbox == "read-only" else "default"
    argv = [spec.executable, "-p", "--output-format", "stream-json", "--verbose"]
    argv += ["--permission-mode", mode]
    argv += ["--model", spec.model] if spec.model else []
    argv += ["--resume", resume] if resume else []
    # "--" ends option parsing, so a prompt starting with "-" cannot become a flag.
    return [*argv, "--", prompt]


def _gemini_like_argv(spec: CliAgentSpec, prompt: str, resume: str | None) -> list[str]:
    mode = "plan" if spec.sandbox == "read-only" else "default"
    argv = [spec.executable, "-o", "stream-json", "--approval-mode", mode]
    argv += ["-m", spec.model] if spec.model else []
    argv += ["--resume", resume] if resume else []
    # The "=" form keeps a prompt that starts with "-" the option's value.
    return [*argv, f"--prompt={prompt}"]


def _codex_argv(spec: CliAgentSpec, prompt: str, resume: str | None) -> list[str]:
    argv = [spec.executable, "exec", "--json", "--skip-git-repo-check"]
    argv += ["--sandbox", spec.sandbox]
    argv += ["-m", spec.model] if spec.model else []
    # exec's own options go before the subcommand, where the parent command parses them.
    argv += ["resume", resume] if resume else []
    return [*argv, "--", prompt]


def build_argv(spec: CliAgentSpec, request: AgentRequest) -> list[str]:
    """The argv for one attempt, including resume flags when the request resumes a session.

    Args:
        spec: the agent.
        request: the attempt.

    Returns:
        The argv list; the prompt is always exactly one element.
    """
    prompt = compose_prompt(request)
    resume = request.resume_session_id
    if spec.cli == "claude":
        return _claude_argv(spec, prompt, resume)
    if spec.cli == "codex":
        return _codex_argv(spec, prompt, resume)
    return _gemini_like_argv(spec, prompt, resume)


def _home_env(spec: CliAgentSpec) -> dict[str, str]:
    if spec.home is None:
        return {}
    os.makedirs(spec.home, mode=0o700, exist_ok=True)
    return {
        "HOME": spec.home,
        "CODEX_HOME": os.path.join(spec.home, ".codex"),
        "GEMINI_CLI_HOME": spec.home,
    }


class CliBackend(AgentBackend):
    """An :class:`AgentBackend` that runs one CLI process per attempt."""

    def __init__(self, spec: CliAgentSpec, *, base_env: Mapping[str, str] | None = None) -> None:
        """Configure the backend.

        Args:
            spec: the agent to run.
            base_env: the environment to pick allow-listed names from (default: this
                process's environment, read once here).
        """
        self.name = spec.name
        self.spec = spec
        self._base_env = dict(os.environ if base_env is None else base_env)

    def child_environment(self) -> dict[str, str]:
        """The exact environment the CLI will get."""
        return child_env(self._base_env, allow=self.spec.credential_env, extra=_home_env(self.spec))

    async def stream(self, request: AgentRequest) -> AsyncIterator[StreamEvent]:
        """Run one attempt and yield its events, ending with exactly one terminal event.

        Args:
            request: the attempt.

        Yields:
            Normalised events with increasing ``seq``.
        """
        parser = parser_for(self.spec.cli)
        limits = self.spec.limits
        try:
            proc = await AgentProcess.spawn(
                build_argv(self.spec, request),
                env=self.child_environment(),
                cwd=self.spec.cwd,
                limits=limits,
            )
        except OSError as exc:
            yield parser.event(
                StreamKind.ERROR,
                text=f"cannot start {self.spec.executable}: {exc.strerror or exc}",
                is_error=True,
                failure=FailureKind.CONFIG,
            )
            return
        deadlines = Deadlines(
            request.ttft_timeout_s, request.idle_timeout_s, request.total_timeout_s
        )
        timeout: str | None = None
        capped = False
        async with proc:
            try:
                async with contextlib.aclosing(proc.lines(deadlines)) as lines:
                    async for line in lines:
                        for event in parser.feed(line):
                            if event.kind is StreamKind.DELTA:
                                deadlines.mark_first_token()
                            yield event
                        if parser.done:
                            break
            except ProcessTimeoutError as exc:
                timeout = str(exc.kind)
                await proc.kill()
            except OutputCapError:
                capped = True
                await proc.kill()
            grace = limits.final_grace_s if parser.done else limits.kill_grace_s
            exit_code = await proc.wait_or_kill(grace)
            stderr = await proc.collect_stderr()
        if capped and not parser.done:
            yield parser.event(
                StreamKind.ERROR,
                text="agent output over the cap",
                is_error=True,
                failure=FailureKind.MALFORMED,
                data={"exit_code": exit_code},
            )
            return
        yield parser.finish(exit_code, stderr, timeout)
