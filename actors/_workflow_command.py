"""The command a workflow's ``execute`` step runs, as an earlier step declared it.

A step (normally ``code``) declares the command in its output as a fenced block whose info
string is ``synapse-execute`` and whose body is one JSON object::

    ```synapse-execute
    {"argv": ["/usr/bin/python3", "-m", "pytest", "-q"], "cwd": "/home/me/project"}
    ```

``argv`` is a non-empty list of strings (never a shell line); ``cwd`` is the directory to
run in. Nothing here decides whether the command may run: the gateway's execute lane checks
the allow-list, the roots, the environment and the timeout. The first step in graph order
that declares a command wins, so a later step (a review quoting or proposing a command)
cannot replace what the coder declared and the reviewer saw.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass

from actors._workflow_graph import WorkflowError

__all__ = ["FENCE", "DeclaredCommand", "declared_command"]

#: The info string of the fenced block that declares a command.
FENCE = "synapse-execute"
_BLOCK = re.compile(rf"^```{FENCE}[ \t]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)


@dataclass(frozen=True)
class DeclaredCommand:
    """One declared command.

    Attributes:
        step: the step whose output declared it.
        argv: the program and its arguments.
        cwd: the working directory, if the declaration gave one.
    """

    step: str
    argv: tuple[str, ...]
    cwd: str | None


def declared_command(outputs: Mapping[str, str]) -> DeclaredCommand | None:
    """Return the first command declared in ``outputs`` (step → output, graph order).

    Args:
        outputs: the outputs of the steps the execute step depends on.

    Returns:
        The command, or None when no output holds a ``synapse-execute`` block.

    Raises:
        WorkflowError: the first block found is not a valid declaration.
    """
    for step, output in outputs.items():
        match = _BLOCK.search(output)
        if match is not None:
            return _parse(step, match.group(1))
    return None


def _parse(step: str, body: str) -> DeclaredCommand:
    try:
        raw = json.loads(body)
    except ValueError as exc:
        msg = f"step {step} declared a command that is not JSON: {exc}"
        raise WorkflowError(msg, hint=f"write one JSON object in the {FENCE} block") from exc
    argv = raw.get("argv") if isinstance(raw, dict) else None
    cwd = raw.get("cwd") if isinstance(raw, dict) else None
    if not (isinstance(argv, list) and argv and all(isinstance(a, str) and a for a in argv)):
        msg = f"step {step} declared a command without a non-empty argv list of strings"
        raise WorkflowError(msg, hint='e.g. {"argv": ["/bin/echo", "hi"], "cwd": "/project"}')
    if cwd is not None and not (isinstance(cwd, str) and cwd):
        msg = f"step {step} declared a command whose cwd is not a path"
        raise WorkflowError(msg)
    return DeclaredCommand(step=step, argv=tuple(argv), cwd=cwd)
