"""Cursor project rules: ``.cursor/rules/*.mdc`` read as instruction entities.

A rule is Markdown with frontmatter ``description``, ``globs`` (a comma-separated string;
a YAML list is accepted too) and ``alwaysApply`` (a boolean: the string ``"true"`` is not
"always" to Cursor). Cursor attaches a rule always, when a file matching its globs is in
context, when the agent asks for it (description only), or when it is @-mentioned (none).

Every other client loads its instruction files whole, every time: only an always-applied
rule means the same there. :func:`rule_losses` says, per other client, what a rule would
lose (its globs, its on-request activation). Rules are read and shown (files in ``sync
status``, entities in the ledger) but never written into another client: instruction sync
works on whole instruction files, and a rule's scope cannot be carried into them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final

from adapters._frontmatter import text_value
from adapters.formats import Format, load
from events.client_config import Instruction, Loss, Scope, unsafe_name_reason
from events.errors import ConfigParseError, UnsafeInputError

__all__ = ["RULES_DIR", "RULE_SUFFIX", "activation", "parse_rule", "rule_losses", "rule_name"]

#: Where a project keeps its rules (user rules live in Cursor's app storage, not in files).
RULES_DIR: Final = ".cursor/rules"
RULE_SUFFIX: Final = ".mdc"
_CLIENT: Final = "cursor"


def rule_name(path: Path) -> str:
    """The instruction name of a rule file: ``rule.<stem>`` (``rule.typescript``).

    Raises:
        UnsafeInputError: the stem is not a plain name (control characters, ``..``).
    """
    stem = path.name[: -len(RULE_SUFFIX)] if path.name.endswith(RULE_SUFFIX) else path.stem
    reason = unsafe_name_reason(stem)
    if reason:
        shown = stem[:40].encode("unicode_escape").decode()
        raise UnsafeInputError(f"{path}: refusing entity {shown!r}: {reason}")
    return f"rule.{stem}"


def _globs(raw: object, path: Path) -> tuple[str, ...]:
    if raw is None:
        return ()
    if isinstance(raw, str):
        items = raw.split(",")
    elif isinstance(raw, list) and all(isinstance(g, str) for g in raw):
        items = raw
    else:
        raise ConfigParseError(f"{path}: globs must be a comma-separated string, got {raw!r}")
    return tuple(g.strip() for g in items if g.strip())


def parse_rule(path: Path, text: str, scope: Scope = Scope.PROJECT) -> Instruction:
    """Translate one rule file; its activation is kept in the Cursor extras.

    Raises:
        ConfigParseError: invalid frontmatter, or a field of the wrong shape.
        UnsafeInputError: a hostile file name.
    """
    name = rule_name(path)
    data = load(Format.MARKDOWN, text) if text.strip() else {}
    front: Mapping[str, Any] = data.get("frontmatter") or {}
    description = text_value(front.get("description"), f"{path}: description")
    rule: dict[str, Any] = {"alwaysApply": front.get("alwaysApply") is True}
    if description:
        rule["description"] = description
    globs = _globs(front.get("globs"), path)
    if globs:
        rule["globs"] = list(globs)
    return Instruction(
        name=name,
        scope=scope,
        body_markdown=str(data.get("body", "")),
        file_name=f"{RULES_DIR}/{path.name}",
        extras={_CLIENT: rule},
    )


def activation(rule: Instruction) -> str:
    """When Cursor attaches ``rule``: ``always``, ``globs``, ``agent`` or ``manual``."""
    own = rule.extras.get(_CLIENT, {})
    if own.get("alwaysApply") is True:
        return "always"
    if own.get("globs"):
        return "globs"
    return "agent" if own.get("description") else "manual"


def rule_losses(rule: Instruction, clients: Sequence[str]) -> list[Loss]:
    """What ``rule`` would lose in each of ``clients`` (none for an always-applied rule)."""
    mode = activation(rule)
    if mode == "always":
        return []
    if mode == "globs":
        globs = ", ".join(rule.extras[_CLIENT]["globs"])
        field, why = "globs", f"applies only to files matching {globs}; {{}} loads rules always"
    elif mode == "agent":
        field, why = "alwaysApply", "attached when the agent asks for it; {} has no such rules"
    else:
        field, why = "alwaysApply", "attached only when @-mentioned; {} has no such rules"
    return [
        Loss(client=c, entity_key=rule.key, field=field, reason=why.format(c))
        for c in clients
        if c != _CLIENT
    ]
