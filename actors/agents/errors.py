"""Errors raised by the agent backends, their config and the execute runner.

All derive from :class:`events.errors.ActorError`::

    ActorError
    ├── AgentConfigError        the agents config file is missing, unreadable or invalid
    └── ExecuteRefusedError     the execute runner refused a command before running it
"""

from __future__ import annotations

from events.errors import ActorError

__all__ = ["AgentConfigError", "ExecuteRefusedError"]


class AgentConfigError(ActorError):
    """The agents config file could not be loaded or is invalid."""


class ExecuteRefusedError(ActorError):
    """The execute runner refused a command (disabled, not allowed, cwd escape)."""
