"""Slash commands: Markdown (Claude, OpenCode) ↔ TOML (Gemini, Qwen), one file per command.

Placeholders are stored structurally (:class:`~events.client_config.ArgsPlaceholder` …):
Markdown ``$ARGUMENTS`` / ``$1`` / ``!`cmd``` / ``@path`` ↔ TOML ``{{args}}`` / – /
``!{cmd}`` / ``@{path}``. Names are namespaced paths: ``git/commit`` is
``commands/git/commit.md`` or ``commands/git/commit.toml`` (Gemini shows ``/git:commit``).

Qwen Code's Markdown commands (``braces=True``) keep TOML's placeholder syntax in a Markdown
body: its loader substitutes ``{{args}}``, ``!{cmd}`` and ``@{path}`` in ``.md`` and ``.toml``
alike, and its 1.x docs spell the arguments ``$ARGUMENTS``; both read as the arguments, and a
write keeps the spelling the file already uses (``{{args}}`` for a new body). Its frontmatter
carries ``description`` and ``argument-hint`` only (``front_fields``); other keys are the
client's own and are kept.

Plain Markdown (Cursor, ``plain=True``) has no frontmatter fields and substitutes nothing: the
text typed after the command simply follows it. A write keeps only the body, reports the
description, argument hint, model and tool list as lost, and writes placeholders as their
Markdown text (``$ARGUMENTS``, ``!`cmd```, ``@path``), each reported as lost because Cursor
will not substitute it. Reading parses those same tokens back into placeholders, so an edit
made in Cursor does not turn Gemini's ``{{args}}`` into literal text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from adapters._frontmatter import text_value, tool_names
from adapters.formats import DELETE, Edit, Format, load
from events.client_config import (
    ArgPlaceholder,
    ArgsPlaceholder,
    BodyPart,
    Command,
    EntityKey,
    FilePlaceholder,
    Lit,
    Scope,
    ShellPlaceholder,
)
from events.errors import ConfigParseError

__all__ = ["CommandCodec", "CommandEdits", "command_name"]

_MD_TOKENS = re.compile(
    r"\$ARGUMENTS|\$(?P<n>[1-9])|!`(?P<sh>[^`]+)`|(?<![\w@])@(?P<file>[\w./-]*[\w/])"
)
_TOML_TOKENS = re.compile(r"\{\{args\}\}|!\{(?P<sh>[^}]+)\}|@\{(?P<file>[^}]+)\}")
_BRACE_TOKENS = re.compile(r"\{\{args\}\}|\$ARGUMENTS|!\{(?P<sh>[^}]+)\}|@\{(?P<file>[^}]+)\}")
_MD_FIELDS = {"description": "description", "argument-hint": "argument_hint", "model": "model"}
_FRONT_FIELDS = ("description", "argument_hint", "model", "allowed_tools")
_FIELD_OF = {**_MD_FIELDS, "allowed-tools": "allowed_tools"}
_PLAIN_LOSS = "not substituted by plain Markdown commands; written as literal text"


def command_name(path: Path, suffix: str) -> str:
    """The namespaced name of a command file: the path below its ``command(s)`` directory.

    ``suffix`` is the client's command suffix; a file of another suffix the client also reads
    (Qwen's ``.md`` beside its ``.toml``) loses its own.
    """
    parts = path.parts
    roots = [i for i, p in enumerate(parts) if p in {"commands", "command"}]
    if not roots:
        raise ConfigParseError(f"{path}: not inside a commands directory")
    rel = parts[roots[-1] + 1 :]
    if not rel:
        return ""
    name = "/".join(rel)
    end = suffix if name.endswith(suffix) else path.suffix
    return name[: -len(end)] if end else name


def _split(text: str, pattern: re.Pattern[str]) -> tuple[BodyPart, ...]:
    parts: list[BodyPart] = []
    pos = 0
    for m in pattern.finditer(text):
        parts.append(Lit(text[pos : m.start()]))
        groups = m.groupdict()
        if groups.get("sh"):
            parts.append(ShellPlaceholder(groups["sh"]))
        elif groups.get("file"):
            parts.append(FilePlaceholder(groups["file"]))
        elif groups.get("n"):
            parts.append(ArgPlaceholder(int(groups["n"])))
        else:
            parts.append(ArgsPlaceholder())
        pos = m.end()
    parts.append(Lit(text[pos:]))
    merged: list[BodyPart] = []
    for part in parts:
        if isinstance(part, Lit) and merged and isinstance(merged[-1], Lit):
            merged[-1] = Lit(merged[-1].text + part.text)
        elif not (isinstance(part, Lit) and not part.text):
            merged.append(part)
    return tuple(merged)


@dataclass(frozen=True)
class CommandEdits:
    """Edits for one command file, what was lost, and whether the file goes away."""

    edits: list[Edit]
    losses: list[tuple[str, str]]
    delete_file: bool = False


@dataclass(frozen=True)
class CommandCodec:
    """Read and write commands in one client's file format.

    Attributes:
        fmt: ``MARKDOWN`` (frontmatter + body) or ``TOML`` (``prompt`` + ``description``).
        plain: Markdown without frontmatter fields or placeholder substitution (Cursor);
            frontmatter someone else put in the file is left alone and not read.
        detached_description: the description lives outside the file (Rovo Dev's
            ``prompts.yml``): it is supported, never written here and never reported lost.
        braces: a Markdown body with TOML's placeholders, ``$ARGUMENTS`` read too (Qwen).
        front_fields: the frontmatter fields the client reads; the others are reported lost
            and, found in a file, kept as the client's own keys.
    """

    fmt: Format
    plain: bool = False
    detached_description: bool = False
    braces: bool = False
    front_fields: tuple[str, ...] = _FRONT_FIELDS

    @property
    def supported(self) -> frozenset[str]:
        """The canonical command fields this format can express."""
        if self.plain:
            return frozenset({"body", "description"} if self.detached_description else {"body"})
        if self.fmt is Format.TOML:
            return frozenset({"description", "body"})
        return frozenset({*self.front_fields, "body"})

    @property
    def suffix(self) -> str:
        """File suffix of a command file."""
        return ".md" if self.fmt is Format.MARKDOWN else ".toml"

    def parse(
        self,
        path: Path,
        text: str,
        scope: Scope,
        client: str,
        *,
        name: str | None = None,
        description: str | None = None,
    ) -> Command:
        """Translate one command file.

        Args:
            path: the file.
            text: its text.
            scope: the file's scope.
            client: the client reading it (its own extra fields are kept under its id).
            name: the command's name when the file path does not give it (Rovo Dev).
            description: the description kept outside the file (``detached_description``).
        """
        name = command_name(path, self.suffix) if name is None else name
        data = load(self.fmt, text) if text.strip() else {}
        if self.fmt is Format.TOML:
            prompt = data.get("prompt", "")
            if not isinstance(prompt, str):
                raise ConfigParseError(f"{path}: prompt must be a string")
            extras = {k: v for k, v in data.items() if k not in {"prompt", "description"}}
            return Command(
                name=name,
                scope=scope,
                description=text_value(data.get("description"), f"{path}: description"),
                body=_split(prompt, _TOML_TOKENS),
                extras={client: extras} if extras else {},
            )
        if self.plain:
            body = _split(str(data.get("body", "")), _MD_TOKENS)
            return Command(name=name, scope=scope, description=description, body=body)
        front: Mapping[str, Any] = data.get("frontmatter") or {}
        known = {k for k, f in _FIELD_OF.items() if f in self.front_fields}
        tools = None
        if "allowed-tools" in known:
            tools = tool_names(front.get("allowed-tools"), f"{path}: allowed-tools")
        extras = {k: v for k, v in front.items() if k not in known}
        # An unquoted ``argument-hint: [file]`` is YAML for a list; Claude shows it as text.
        fields = {
            field: text_value(front.get(key), f"{path}: {key}", flow=key == "argument-hint")
            for key, field in _MD_FIELDS.items()
            if key in known
        }
        return Command(
            name=name,
            scope=scope,
            **fields,
            allowed_tools=tools or None,
            body=_split(str(data.get("body", "")), _BRACE_TOKENS if self.braces else _MD_TOKENS),
            extras={client: extras} if extras else {},
        )

    def body_text(
        self, body: tuple[BodyPart, ...], *, args: str | None = None
    ) -> tuple[str, list[str]]:
        """Render a body; returns the text and the reasons for anything lost.

        Args:
            body: the parts.
            args: how to spell the arguments (default: the format's own spelling).
        """
        out: list[str] = []
        lost: list[str] = []
        toml = self.fmt is Format.TOML or self.braces
        for part in body:
            if isinstance(part, Lit):
                out.append(part.text)
                continue
            if isinstance(part, ArgsPlaceholder):
                out.append(args or ("{{args}}" if toml else "$ARGUMENTS"))
            elif isinstance(part, ArgPlaceholder):
                if toml:
                    lost.append(f"positional ${part.n} has no TOML equivalent")
                out.append(f"${part.n}")
            elif isinstance(part, ShellPlaceholder):
                out.append(f"!{{{part.command}}}" if toml else f"!`{part.command}`")
            else:
                out.append(f"@{{{part.path}}}" if toml else f"@{part.path}")
            if self.plain:
                lost.append(f"{out[-1]} {_PLAIN_LOSS}")
        return "".join(out), lost

    @staticmethod
    def _front(command: Command) -> dict[str, Any]:
        front = {key: getattr(command, field) for key, field in _MD_FIELDS.items()}
        front["allowed-tools"] = command.allowed_tools
        return front

    def plan(
        self,
        key: EntityKey,
        current: Command | None,
        desired: Command | None,
        client: str,
        text: str = "",
    ) -> CommandEdits:
        """Edits turning ``current`` into ``desired`` in this command's file.

        Args:
            key: the command's key.
            current: what the file holds now (``None``: no file yet).
            desired: what it should hold (``None``: delete the file).
            client: the client whose file it is (its own extras are written back).
            text: the file's current text (keeps a tool list's YAML shape).
        """
        if desired is None:
            return CommandEdits([], [], delete_file=current is not None)
        if current is not None and current.synced() == desired.synced():
            return CommandEdits([], [])
        body, lost = self.body_text(desired.body, args=self._args_spelling(text))
        losses = [("body", why) for why in lost]
        own = desired.extras.get(client, {})
        if self.plain:
            losses += [
                (f, "plain Markdown commands have no frontmatter")
                for f in _FRONT_FIELDS
                if getattr(desired, f) is not None
                and not (f == "description" and self.detached_description)
            ]
            if "/" in key.name and not self.detached_description:
                shown = key.name.rsplit("/", 1)[-1]
                losses.append(("name", f"command folders are flattened: shown as /{shown}"))
            return CommandEdits([Edit(("body",), body)], losses)
        if self.fmt is Format.TOML:
            losses += [
                (f, "not supported by TOML commands")
                for f in ("argument_hint", "model", "allowed_tools")
                if getattr(desired, f) is not None
            ]
            values: dict[str, Any] = {"description": desired.description, "prompt": body}
            edits = [Edit((k,), v) for k, v in values.items() if v is not None]
            if desired.description is None and current and current.description is not None:
                edits.append(Edit(("description",), DELETE))
            return CommandEdits(edits + [Edit((k,), v) for k, v in own.items()], losses)
        losses += [
            (f, "not read from this client's Markdown commands")
            for f in _FRONT_FIELDS
            if f not in self.front_fields and getattr(desired, f) is not None
        ]
        # Two spellings of Qwen's arguments read alike: an unchanged body keeps its text.
        same = self.braces and current is not None and current.body == desired.body
        return CommandEdits(
            [
                *self._front_edits(current, desired, text),
                *[Edit(("frontmatter", k), v) for k, v in own.items()],
                *([] if same else [Edit(("body",), body)]),
            ],
            losses,
        )

    def _args_spelling(self, text: str) -> str | None:
        """``$ARGUMENTS`` when a Qwen body already spells the arguments so (else default)."""
        if not self.braces or not text.strip():
            return None
        body = str(load(Format.MARKDOWN, text).get("body", ""))
        return "$ARGUMENTS" if "$ARGUMENTS" in body and "{{args}}" not in body else None

    def _front_edits(self, current: Command | None, desired: Command, text: str) -> list[Edit]:
        """Frontmatter edits for the fields that changed; an unchanged field keeps its
        spelling (``argument-hint: [file]`` stays a YAML list, a tool list stays a list)."""
        had = {} if current is None else self._front(current)
        raw: Mapping[str, Any] = {}
        if text.strip():
            raw = load(Format.MARKDOWN, text).get("frontmatter") or {}
        edits = []
        for key, value in self._front(desired).items():
            if _FIELD_OF[key] not in self.front_fields:
                continue
            if current is not None and had.get(key) == value:
                continue
            if value is None:
                if had.get(key) is not None:
                    edits.append(Edit(("frontmatter", key), DELETE))
                continue
            if key == "allowed-tools" and not isinstance(raw.get(key), list):
                value = ", ".join(value)
            elif key == "allowed-tools":
                value = list(value)
            edits.append(Edit(("frontmatter", key), value))
        return edits
