"""The agents config file: which agents exist, how to reach them, and how routes pick them.

A config is TOML or JSON::

    [[agents]]
    name = "claude"
    backend = "claude"            # claude | gemini | codex | qwen | openai | scripted
    capabilities = ["plan", "code", "review"]
    enabled = false               # CLIs found on PATH are offered, never silently enabled

    [[agents]]
    name = "local-llm"
    backend = "openai"
    base_url = "http://127.0.0.1:11434/v1"
    model = "qwen2.5-coder"
    api_key_env = "OLLAMA_API_KEY"  # the NAME of the variable, never its value
    capabilities = ["analyze"]

    [routes.code]
    strategy = "weighted"
    agents = ["claude", "demo-a"]

Breaker, retry and timeout settings (``[defaults]``, per agent) and the answer cache
(``[cache]``) are described in :mod:`actors.agents.resilience`.
"""

from __future__ import annotations

import json
import re
import shutil
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from actors.agent_stream import Capability
from actors.agents.errors import AgentConfigError
from actors.agents.resilience import (
    BreakerSettings,
    CacheSettings,
    ResilienceSettings,
    RetrySettings,
    TimeoutSettings,
)

__all__ = [
    "AgentConfig",
    "AgentsConfig",
    "BackendKind",
    "ExecuteConfig",
    "RouteConfig",
    "default_config",
    "load_config",
]

BackendKind = Literal["claude", "gemini", "codex", "qwen", "openai", "scripted"]
CLI_KINDS: tuple[BackendKind, ...] = ("claude", "gemini", "codex", "qwen")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

# What each CLI is offered for by default (agents.md §1.5: read-only/plan modes for all).
_CLI_CAPABILITIES: dict[str, list[Capability]] = {
    "claude": [Capability.PLAN, Capability.CODE, Capability.REVIEW],
    "gemini": [Capability.ANALYZE, Capability.REVIEW, Capability.PLAN],
    "codex": [Capability.CODE, Capability.EXECUTE, Capability.REVIEW],
    "qwen": [Capability.CODE, Capability.ANALYZE],
}


class AgentConfig(BaseModel):
    """One configured agent."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
    backend: BackendKind
    executable: str | None = None
    model: str | None = None
    base_url: str | None = None
    api_key_env: str | None = None
    credential_env: tuple[str, ...] = ()
    capabilities: tuple[Capability, ...] = ()
    weight: float = Field(default=1.0, gt=0)
    sandbox: Literal["read-only", "workspace-write"] = "read-only"
    enabled: bool = True
    home: str | None = None
    fail_first: int = Field(default=0, ge=0)  # scripted only: injected failures
    cut_after_tokens: int | None = Field(default=None, ge=0)  # scripted only
    #: This agent's own resilience keys; unnamed keys come from ``[defaults]``.
    breaker: BreakerSettings | None = None
    retry: RetrySettings | None = None
    timeouts: TimeoutSettings | None = None

    @field_validator("api_key_env")
    @classmethod
    def _is_a_name(cls, value: str | None) -> str | None:
        if value is not None and not _ENV_NAME.match(value):
            raise ValueError("api_key_env must be the NAME of an environment variable, not a key")
        return value

    @field_validator("credential_env")
    @classmethod
    def _are_names(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for name in value:
            if not _ENV_NAME.match(name):
                raise ValueError(f"credential_env entries must be variable names: {name!r}")
        return value

    @model_validator(mode="after")
    def _backend_fields(self) -> AgentConfig:
        if self.backend == "openai" and (not self.base_url or not self.model):
            raise ValueError(f"agent {self.name!r}: openai backends need base_url and model")
        return self

    @property
    def command(self) -> str:
        """The CLI executable (defaults to the backend's own name)."""
        return self.executable or self.backend


class RouteConfig(BaseModel):
    """How one capability picks among agents."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    strategy: str = Field(default="weighted", pattern=r"^[a-z_]+$")
    agents: tuple[str, ...] = ()


class ExecuteConfig(BaseModel):
    """The execute runner's settings (off by default)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = False
    commands: tuple[str, ...] = ()
    roots: tuple[str, ...] = ()
    timeout_s: float = Field(default=60.0, gt=0)
    max_output_bytes: int = Field(default=1024 * 1024, gt=0)


class AgentsConfig(BaseModel):
    """The whole agents config."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    agents: tuple[AgentConfig, ...] = ()
    routes: dict[Capability, RouteConfig] = Field(default_factory=dict)
    execute: ExecuteConfig = ExecuteConfig()
    defaults: ResilienceSettings = ResilienceSettings()
    cache: CacheSettings = CacheSettings()

    @model_validator(mode="after")
    def _consistent(self) -> AgentsConfig:
        names = [agent.name for agent in self.agents]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"duplicate agent names: {', '.join(duplicates)}")
        for capability, route in self.routes.items():
            unknown = [n for n in route.agents if n not in names]
            if unknown:
                raise ValueError(f"route {capability}: unknown agents {', '.join(unknown)}")
        for problem in self.defaults.problems():
            raise ValueError(f"defaults.{problem}")
        for agent in self.agents:
            for problem in self.resilience(agent.name).problems():
                raise ValueError(f"agents.{agent.name}.{problem}")
        return self

    def resilience(self, name: str) -> ResilienceSettings:
        """The agent's resilience settings: ``[defaults]`` with its own keys on top.

        Raises:
            KeyError: no such agent.
        """
        agent = self.agent(name)
        return self.defaults.merged(agent.breaker, agent.retry, agent.timeouts)

    def agent(self, name: str) -> AgentConfig:
        """The agent called ``name``.

        Raises:
            KeyError: no such agent.
        """
        for agent in self.agents:
            if agent.name == name:
                return agent
        raise KeyError(name)

    def enabled_agents(self) -> list[AgentConfig]:
        """Agents that may receive traffic."""
        return [agent for agent in self.agents if agent.enabled]


def default_config(path_lookup: Callable[[str], str | None] = shutil.which) -> AgentsConfig:
    """A config that works out of the box: scripted agents enabled, found CLIs offered.

    Args:
        path_lookup: finds an executable by name (``shutil.which``; a fake in tests).

    Returns:
        Two enabled scripted agents covering every capability, plus one *disabled* entry per
        agent CLI found on PATH, and a route per capability listing every agent that has it
        (disabled agents are skipped by the router until the user enables them).
    """
    agents = [
        AgentConfig(name="demo-a", backend="scripted", capabilities=tuple(Capability)),
        AgentConfig(name="demo-b", backend="scripted", capabilities=tuple(Capability)),
    ]
    for kind in CLI_KINDS:
        found = path_lookup(kind)
        if found:
            agents.append(
                AgentConfig(
                    name=kind,
                    backend=kind,
                    executable=found,
                    capabilities=tuple(_CLI_CAPABILITIES[kind]),
                    enabled=False,
                )
            )
    routes = {
        capability: RouteConfig(
            agents=tuple(a.name for a in agents if capability in a.capabilities)
        )
        for capability in Capability
    }
    return AgentsConfig(agents=tuple(agents), routes=routes)


def load_config(path: str | Path) -> AgentsConfig:
    """Load and validate a TOML (``.toml``) or JSON (anything else) agents config.

    Args:
        path: the file.

    Returns:
        The validated config.

    Raises:
        AgentConfigError: unreadable file, bad syntax, or invalid content; the message names
            the file and the first problem.
    """
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise AgentConfigError(f"cannot read agents config {file}: {exc.strerror}") from exc
    try:
        raw = tomllib.loads(text) if file.suffix == ".toml" else json.loads(text)
    except (tomllib.TOMLDecodeError, ValueError) as exc:
        raise AgentConfigError(f"agents config {file} is not valid: {exc}") from exc
    try:
        return AgentsConfig.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = _where(raw, first["loc"])
        raise AgentConfigError(
            f"agents config {file}: {where}{first['msg']}",
            hint=f"{exc.error_count()} problem(s) in total",
        ) from exc


def _where(raw: object, loc: tuple[int | str, ...]) -> str:
    """``"agents[1] (claude).retry.max_attempts: "`` for a pydantic error location."""
    parts: list[str] = []
    node = raw
    for part in loc:
        if isinstance(part, int) and parts:
            parts[-1] += f"[{part}]"
            item = node[part] if isinstance(node, list) and part < len(node) else None
            if isinstance(item, dict) and isinstance(item.get("name"), str):
                parts[-1] += f" ({item['name']})"
            node = item
        else:
            parts.append(str(part))
            node = node.get(part) if isinstance(node, dict) else None
    return ".".join(parts) + ": " if parts else ""
