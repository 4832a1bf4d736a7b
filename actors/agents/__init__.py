"""Agent backends: the real CLIs, OpenAI-compatible endpoints, a scripted demo backend, and
the hardened execute runner.

Every backend implements :class:`actors.agent_stream.AgentBackend` and yields normalised
:class:`~actors.agent_stream.StreamEvent` values ending in exactly one terminal event
(:func:`is_terminal`): ``final`` on success or ``error`` with ``is_error=True`` and a
:class:`~actors.agent_stream.FailureKind`. Non-terminal ``error`` events (a malformed line, a CLI
warning) have ``is_error=False``.
"""

from actors.agents.cli_backend import CliAgentSpec, CliBackend, build_argv
from actors.agents.config import (
    AgentConfig,
    AgentsConfig,
    ExecuteConfig,
    RouteConfig,
    default_config,
    load_config,
)
from actors.agents.errors import AgentConfigError, ExecuteRefusedError
from actors.agents.execute import (
    ExecuteAudit,
    ExecuteLedger,
    ExecutePolicy,
    ExecuteResult,
    ExecuteRunner,
    FileExecuteLedger,
    InMemoryExecuteLedger,
    redact_argv,
)
from actors.agents.factory import build_backend, execute_policy
from actors.agents.openai_backend import OpenAIBackend
from actors.agents.parsers import is_terminal, parse_stream, parser_for
from actors.agents.process import AgentProcess, Deadlines, ProcessLimits, child_env
from actors.agents.scripted import ScriptedBackend

__all__ = [
    "AgentConfig",
    "AgentConfigError",
    "AgentProcess",
    "AgentsConfig",
    "CliAgentSpec",
    "CliBackend",
    "Deadlines",
    "ExecuteAudit",
    "ExecuteConfig",
    "ExecuteLedger",
    "ExecutePolicy",
    "ExecuteRefusedError",
    "ExecuteResult",
    "ExecuteRunner",
    "FileExecuteLedger",
    "InMemoryExecuteLedger",
    "OpenAIBackend",
    "ProcessLimits",
    "RouteConfig",
    "ScriptedBackend",
    "build_argv",
    "build_backend",
    "child_env",
    "default_config",
    "execute_policy",
    "is_terminal",
    "load_config",
    "parse_stream",
    "parser_for",
    "redact_argv",
]
