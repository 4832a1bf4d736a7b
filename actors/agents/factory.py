"""Build backends and the execute policy from the agents config."""

from __future__ import annotations

import os
from collections.abc import Mapping

from actors.agent_stream import AgentBackend
from actors.agents.cli_backend import CliAgentSpec, CliBackend
from actors.agents.config import AgentConfig, ExecuteConfig
from actors.agents.execute import ExecutePolicy
from actors.agents.openai_backend import OpenAIBackend
from actors.agents.process import ProcessLimits
from actors.agents.scripted import ScriptedBackend

__all__ = ["build_backend", "execute_policy"]


def build_backend(
    agent: AgentConfig,
    *,
    base_env: Mapping[str, str] | None = None,
    limits: ProcessLimits | None = None,
) -> AgentBackend:
    """Create the backend for one configured agent.

    Args:
        agent: the agent's config.
        base_env: environment to read credentials from (default: this process's).
        limits: process limits for CLI agents.

    Returns:
        A :class:`CliBackend`, :class:`OpenAIBackend` or :class:`ScriptedBackend`.
    """
    env = dict(os.environ if base_env is None else base_env)
    if agent.backend == "scripted":
        return ScriptedBackend(
            agent.name, fail_first=agent.fail_first, cut_after_tokens=agent.cut_after_tokens
        )
    if agent.backend == "openai":
        return OpenAIBackend(
            agent.name,
            base_url=agent.base_url or "",  # both required by AgentConfig for openai
            model=agent.model or "",
            api_key_env=agent.api_key_env,
            env=env,
        )
    credentials = agent.credential_env + ((agent.api_key_env,) if agent.api_key_env else ())
    spec = CliAgentSpec(
        name=agent.name,
        cli=agent.backend,
        executable=agent.command,
        model=agent.model,
        sandbox=agent.sandbox,
        credential_env=credentials,
        home=agent.home,
        limits=limits or ProcessLimits(),
    )
    return CliBackend(spec, base_env=env)


def execute_policy(config: ExecuteConfig) -> ExecutePolicy:
    """The execute runner policy for an :class:`ExecuteConfig`."""
    return ExecutePolicy(
        enabled=config.enabled,
        commands=config.commands,
        roots=config.roots,
        timeout_s=config.timeout_s,
        max_output_bytes=config.max_output_bytes,
    )
