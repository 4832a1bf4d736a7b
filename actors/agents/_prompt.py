"""Turn an :class:`AgentRequest` into the one prompt string a CLI or model receives."""

from __future__ import annotations

from actors.agent_stream import AgentRequest

__all__ = ["compose_prompt"]

_CONTINUATION_TAIL = 2000


def compose_prompt(request: AgentRequest) -> str:
    """Join context, prompt and continuation instructions.

    Args:
        request: the attempt's request.

    Returns:
        The prompt text; it always travels as one argv element or one JSON string, never
        through a shell.
    """
    parts: list[str] = []
    if request.context:
        parts.append(f"Context:\n{request.context}\n")
    parts.append(request.prompt)
    if request.continuation_of:
        tail = request.continuation_of[-_CONTINUATION_TAIL:]
        parts.append(
            "\nYou already wrote the answer below up to where it stops. Continue exactly from "
            f"there without repeating anything:\n{tail}"
        )
    return "\n".join(parts)
