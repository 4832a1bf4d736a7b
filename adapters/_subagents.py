"""Subagents: one Markdown (or Codex TOML) file per agent ↔ canonical :class:`Subagent`.

A :class:`SubagentDialect` declares where a client keeps agent files and which native key
holds each canonical field; :class:`SubagentCodec` parses a file and plans surgical edits.
Fields a client cannot hold, tools with no native name, models of another family and other
clients' extras come back as losses and are never written. Keys of the client's own extras
round-trip untouched (Claude ``color``/``hooks``/``memory``…); a strict client (Gemini) gets
only the keys its schema allows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError

from adapters._agent_tools import ModelRule, ToolVocabulary, any_model
from adapters._frontmatter import text_value, tool_names
from adapters.files import check_entity_name
from adapters.formats import DELETE, Edit, Format, load
from events.client_config import Scope, Subagent, unsafe_name_reason
from events.errors import ConfigParseError, UnsafeInputError

__all__ = ["FIELDS", "SubagentCodec", "SubagentDialect", "SubagentEdits"]

#: Canonical fields besides name and prompt, in the order they are written.
FIELDS = ("description", "model", "tools", "tools_deny", "max_turns", "temperature", "color")
_INHERIT = "inherit"


@dataclass(frozen=True)
class SubagentDialect:
    """One client's subagent file format.

    Attributes:
        client: the client id (extras key and loss attribution).
        fmt: ``MARKDOWN`` (frontmatter + body) or ``TOML`` (Codex).
        suffix: file-name suffix, e.g. ``.md`` or ``.agent.md``.
        user_dirs: directories under home, the first is where new files go.
        project_dirs: directories under a project, the first is where new files go.
        keys: canonical field → native key path inside the frontmatter / TOML table.
        name_key: the key holding the name, or ``None`` when the file stem is the name.
        body_key: TOML key holding the prompt; ``None`` for the Markdown body.
        tools: the tool vocabulary, ``None`` when the client has no tool lists.
        tools_style: how a new tool list is written: ``"csv"`` string or YAML ``"list"``.
        deny_as_permission: ``tools_deny`` becomes ``permission: {tool: deny}`` (OpenCode).
        model_ok: whether a model id means something to this client.
        allowed_keys: when set, the only top-level keys the client accepts (strict schema).
        defaults: keys written when a file is created (OpenCode ``mode: subagent``).
        nested: agent files in sub-folders count too, named by their path below the agents
            folder (OpenCode: ``.opencode/agents/team/reviewer.md`` is ``team/reviewer``).
    """

    client: str
    fmt: Format
    suffix: str
    user_dirs: tuple[str, ...]
    project_dirs: tuple[str, ...]
    keys: Mapping[str, tuple[str, ...]]
    name_key: str | None = "name"
    body_key: str | None = None
    tools: ToolVocabulary | None = None
    tools_style: Literal["csv", "list"] = "list"
    deny_as_permission: bool = False
    model_ok: ModelRule = any_model
    allowed_keys: frozenset[str] | None = None
    defaults: Mapping[str, Any] = field(default_factory=dict)
    nested: bool = False

    @property
    def supported(self) -> frozenset[str]:
        """Canonical fields this client can hold."""
        return frozenset({"name", "prompt", *self.keys})

    @property
    def parents(self) -> dict[str, Callable[[str, Any], bool]]:
        """Keys whose mapping mixes canonical entries with others, and which entries are ours."""
        out: dict[str, Callable[[str, Any], bool]] = {}
        for fname, key in self.keys.items():
            if len(key) == 2:
                out[key[0]] = _child_is(key[1])
            elif fname == "tools_deny" and self.deny_as_permission:
                out[key[0]] = _is_deny
        return out

    def name_of(self, path: Path) -> str:
        """The agent name a file's path implies: its stem, below its sub-folders if nested."""
        stem = path.name[: -len(self.suffix)] if path.name.endswith(self.suffix) else path.stem
        if not self.nested:
            return stem
        return "/".join((*_below(path.parent, (*self.user_dirs, *self.project_dirs)), stem))


def _below(folder: Path, rels: tuple[str, ...]) -> tuple[str, ...]:
    """The parts of ``folder`` below the first agents folder (one of ``rels``) it is in."""
    parts = folder.parts
    ends = [
        i + len(rel)
        for rel in (Path(r).parts for r in rels)
        for i in range(len(parts) - len(rel) + 1)
        if parts[i : i + len(rel)] == rel
    ]
    return parts[min(ends) :] if ends else ()


def _child_is(child: str) -> Callable[[str, Any], bool]:
    def owned(key: str, _value: Any) -> bool:
        return key == child

    return owned


def _is_deny(_key: str, value: Any) -> bool:
    return bool(value == "deny")


@dataclass(frozen=True)
class SubagentEdits:
    """Edits for one agent file, what was lost, and whether the file goes away."""

    edits: list[Edit]
    losses: list[tuple[str, str]]
    delete_file: bool = False


def _str(value: object, where: str) -> str:
    # A bare number or boolean is text to the clients (``color: 1`` is "1"); a list is not.
    text = text_value(value, where)
    return "" if text is None else text


def _dig(data: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    node: Any = data
    for key in path:
        if not isinstance(node, Mapping) or key not in node:
            return None
        node = node[key]
    return node


@dataclass(frozen=True)
class SubagentCodec:
    """Parse and plan one client's subagent files."""

    dialect: SubagentDialect

    def _split(self, text: str, where: Path) -> tuple[dict[str, Any], str]:
        d = self.dialect
        data = load(d.fmt, text) if text.strip() else {}
        if d.fmt is Format.MARKDOWN:
            return dict(data.get("frontmatter") or {}), str(data.get("body", ""))
        front = dict(data)
        body = front.pop(d.body_key or "", "")
        return front, _str(body, f"{where}: {d.body_key}")

    def _tools(self, raw: object, where: str) -> tuple[str, ...] | None:
        items = tool_names(raw, where)
        if items is None:
            return None
        vocab = self.dialect.tools
        assert vocab is not None
        return tuple(vocab.to_canonical(t) for t in items)

    def parse(self, path: Path, text: str, scope: Scope) -> Subagent:
        """Translate one agent file.

        Raises:
            ConfigParseError: invalid syntax or a field of the wrong type.
            UnsafeInputError: a hostile agent name.
        """
        d = self.dialect
        front, body = self._split(text, path)
        raw_name = front.get(d.name_key) if d.name_key else None
        name = _safe_name(raw_name if raw_name is not None else d.name_of(path), path, d.nested)
        values: dict[str, Any] = {}
        for fname, key in d.keys.items():
            raw = _dig(front, key)
            where = f"{path}: {'.'.join(key)}"
            if fname == "tools_deny" and d.deny_as_permission:
                values[fname] = self._denied(raw)
            elif raw is None:
                continue
            elif fname in {"tools", "tools_deny"}:
                values[fname] = self._tools(raw, where)
            elif fname == "max_turns":
                if isinstance(raw, bool) or not isinstance(raw, int):
                    raise ConfigParseError(f"{where} must be an integer, got {raw!r}")
                values[fname] = raw
            elif fname == "temperature":
                if isinstance(raw, bool) or not isinstance(raw, int | float):
                    raise ConfigParseError(f"{where} must be a number, got {raw!r}")
                values[fname] = float(raw)
            else:
                values[fname] = _str(raw, where)
        if values.get("model") == _INHERIT:
            values["model"] = None
        extras = self._own_extras(front)
        try:
            return Subagent(
                name=name,
                scope=scope,
                prompt=body,
                extras={d.client: extras} if extras else {},
                **values,
            )
        except ValidationError as e:
            raise ConfigParseError(f"{path}: {e.errors()[0]['msg']}") from e

    def _denied(self, raw: object) -> tuple[str, ...] | None:
        vocab = self.dialect.tools
        if not isinstance(raw, Mapping) or vocab is None:
            return None
        denied = tuple(vocab.to_canonical(k) for k, v in raw.items() if v == "deny")
        return denied or None

    def _own_extras(self, front: Mapping[str, Any]) -> dict[str, Any]:
        """Frontmatter keys no canonical field owns; shared parents keep their other entries."""
        d = self.dialect
        managed = {k[0] for k in d.keys.values() if len(k) == 1} | {d.name_key}
        managed -= d.parents.keys()
        extras: dict[str, Any] = {}
        for key, value in front.items():
            if key in managed:
                continue
            owned = d.parents.get(key)
            if owned is not None and isinstance(value, Mapping) and value:
                value = {k: v for k, v in value.items() if not owned(k, v)}
                if not value:
                    continue
            extras[key] = value
        return extras

    def plan(self, path: Path, current_text: str, desired: Subagent | None) -> SubagentEdits:
        """Edits turning the file's agent into ``desired`` (``None`` deletes the file).

        Only keys whose canonical value changed are touched, so an unchanged field keeps its
        exact spelling (a comma string stays a comma string). Own extras are authoritative
        only when ``desired`` carries extras for this client; otherwise they are left alone.
        """
        d = self.dialect
        current = self.parse(path, current_text, Scope.USER) if current_text.strip() else None
        if desired is None:
            return SubagentEdits([], [], delete_file=current is not None)
        front = self._split(current_text, path)[0] if current is not None else {}
        losses = self._losses(desired)
        if current is not None and _same(current, desired, d.client):
            return SubagentEdits([], losses)
        edits: list[Edit] = []
        if d.name_key and (current is None or current.name != desired.name):
            edits.append(self._edit((d.name_key,), desired.name))
        for fname, native_key in d.keys.items():
            want, had = getattr(desired, fname), getattr(current, fname, None)
            if current is not None and want == had:
                continue
            edits += self._field_edits(fname, native_key, want, had, front, losses)
        if current is None or current.prompt != desired.prompt:
            edits.append(Edit((d.body_key,) if d.body_key else ("body",), desired.prompt))
        edits += self._extras_edits(desired, current, losses)
        return SubagentEdits(edits, losses)

    def _edit(self, path: tuple[str, ...], value: Any) -> Edit:
        prefix: tuple[str, ...] = ("frontmatter",) if self.dialect.fmt is Format.MARKDOWN else ()
        return Edit((*prefix, *path), value)

    def _losses(self, desired: Subagent) -> list[tuple[str, str]]:
        d = self.dialect
        out = [
            (f, f"{d.client} subagents have no {f!r}")
            for f in FIELDS
            if f not in d.keys and getattr(desired, f) is not None
        ]
        if desired.model is not None and "model" in d.keys and not d.model_ok(desired.model):
            out.append(("model", f"model {desired.model!r} means nothing to {d.client}"))
        for client, extras in desired.extras.items():
            if client != d.client:
                out += [(f"extras.{client}.{k}", f"{client}-only key") for k in extras]
        return out

    def _field_edits(
        self,
        fname: str,
        key: tuple[str, ...],
        want: Any,
        had: Any,
        front: Mapping[str, Any],
        losses: list[tuple[str, str]],
    ) -> list[Edit]:
        d = self.dialect
        if fname == "model" and want is not None and not d.model_ok(want):
            return []  # reported as a loss; the client's own model stays
        permission = fname == "tools_deny" and d.deny_as_permission
        if fname not in {"tools", "tools_deny"} or (want is None and not permission):
            return [self._edit(key, DELETE if want is None else want)]
        assert d.tools is not None
        natives: list[str] = []
        for ref in want or ():
            native, why = d.tools.to_native(ref)
            if why:
                losses.append((fname, why))
            if native is not None and native not in natives:
                natives.append(native)
        if permission:
            gone = [d.tools.to_native(r)[0] for r in had or () if r not in (want or ())]
            edits = [self._edit((*key, n), DELETE) for n in gone if n and n not in natives]
            return edits + [self._edit((*key, n), "deny") for n in natives]
        as_list = d.tools_style == "list" or isinstance(_dig(front, key), list)
        return [self._edit(key, natives if as_list else ", ".join(natives))]

    def _extras_edits(
        self, desired: Subagent, current: Subagent | None, losses: list[tuple[str, str]]
    ) -> list[Edit]:
        d = self.dialect
        had = current.extras.get(d.client, {}) if current is not None else {}
        if d.client not in desired.extras:
            if current is not None:
                return []
            return [self._edit((k,), v) for k, v in d.defaults.items()]
        own = desired.extras[d.client]
        edits: list[Edit] = []
        parents = d.parents
        for key, value in own.items():
            if d.allowed_keys is not None and key not in d.allowed_keys:
                losses.append((f"extras.{d.client}.{key}", f"{d.client} rejects unknown keys"))
            elif key in parents and isinstance(value, Mapping):
                prior = had.get(key)
                old: Mapping[str, Any] = prior if isinstance(prior, Mapping) else {}
                edits += [self._edit((key, k), v) for k, v in value.items() if old.get(k) != v]
                edits += [self._edit((key, k), DELETE) for k in old if k not in value]
            elif had.get(key) != value or key not in had:
                edits.append(self._edit((key,), value))
        for key in had.keys() - own.keys():
            prior = had[key]
            if key in parents and isinstance(prior, Mapping):
                edits += [self._edit((key, k), DELETE) for k in prior]
            else:
                edits.append(self._edit((key,), DELETE))
        return edits


def _same(current: Subagent, desired: Subagent, client: str) -> bool:
    if current.synced() != desired.synced():
        return False
    return client not in desired.extras or current.extras.get(client) == desired.extras[client]


def _safe_name(name: object, path: Path, nested: bool = False) -> str:
    if not isinstance(name, str):
        raise ConfigParseError(f"{path}: agent name {name!r} is not a string")
    try:
        for segment in name.split("/") if nested else [name]:
            check_entity_name(segment)
    except UnsafeInputError as e:
        raise UnsafeInputError(f"{path}: refusing entity {name[:40]!r}: {e.message}") from e
    reason = unsafe_name_reason(name, allow_slash=nested)
    if reason:
        raise UnsafeInputError(f"{path}: refusing entity {name[:40]!r}: {reason}")
    return name
