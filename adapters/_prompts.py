"""Rovo Dev saved prompts: the ``.rovodev/prompts.yml`` index and its Markdown content files.

``prompts.yml`` lists ``prompts: [{name, description, content_file}]``; ``content_file`` is
relative to the ``.rovodev`` folder (``prompts/review.md``). A prompt is therefore two files:
its body in the content file, its name and description in the index. Reading refuses entries
that could reach outside ``.rovodev`` (absolute or ``..`` paths, NUL, hostile names); writing
produces surgical YAML edits that keep the index's comments and every other entry.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from adapters.formats import DELETE, Edit, Format, load
from events.client_config import unsafe_name_reason
from events.errors import ConfigParseError, UnsafeInputError

__all__ = [
    "PROMPTS_DIR",
    "PROMPTS_INDEX",
    "PromptEntry",
    "content_file_for",
    "delete_entry",
    "find_entry",
    "read_entries",
    "upsert_entry",
]

#: The index, relative to the home or project root.
PROMPTS_INDEX = ".rovodev/prompts.yml"
#: Where new content files go, relative to ``.rovodev``.
PROMPTS_DIR = "prompts"
#: Markdown files of ``.rovodev`` that are something else than a prompt (memory, review).
_RESERVED = frozenset({"agents.md", "agents.local.md", ".review-agent.md"})
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class PromptEntry:
    """One saved prompt as the index lists it.

    Attributes:
        name: the prompt's name (``/prompts NAME``).
        description: its description (None when the entry has none).
        content_file: the Markdown body, relative to ``.rovodev``.
        problem: why the content file must not be read (it resolves outside ``.rovodev``).
    """

    name: str
    description: str | None
    content_file: str
    problem: str | None = None


def content_file_for(name: str, taken: Collection[str] = ()) -> str:
    """The content file a new prompt ``name`` gets, relative to ``.rovodev``.

    A Rovo Dev name may hold spaces (``code review``) and the entry keeps it; the file name
    gets ``-`` for each run of them (``prompts/code-review.md``), numbered (``-2`` …) when
    another entry already uses that file (``code-review`` and ``code review`` both exist).

    Args:
        name: the prompt's name (``/`` separates namespace folders).
        taken: content files the index's other entries already use.
    """
    stem = "/".join(_SPACES.sub("-", segment) for segment in name.split("/"))
    used = {str(PurePosixPath(t)).casefold() for t in taken}
    candidate, n = f"{PROMPTS_DIR}/{stem}.md", 2
    while candidate.casefold() in used:
        candidate, n = f"{PROMPTS_DIR}/{stem}-{n}.md", n + 1
    return candidate


def _shown(value: str) -> str:
    return value[:40].encode("unicode_escape").decode()


def _content_problem(content_file: str) -> str | None:
    if not content_file or "\x00" in content_file or "\\" in content_file:
        return "content_file must be a non-empty relative path without NUL or backslashes"
    path = PurePosixPath(content_file)
    if path.is_absolute() or any(part in {"..", "."} for part in path.parts):
        return "content_file must stay inside .rovodev (no absolute or '..' paths)"
    if any(ord(ch) < 32 for ch in content_file):
        return "content_file contains control characters"
    if path.suffix != ".md":
        return "content_file must be a Markdown (.md) file"
    folded = str(path).casefold()
    if folded.startswith("subagents/") or folded in _RESERVED:
        return f"content_file {content_file!r} is another Rovo Dev file"
    return None


def _entry(item: object, where: Path, index: int) -> PromptEntry:
    if not isinstance(item, dict):
        raise ConfigParseError(f"{where}: prompts[{index}] must be a mapping")
    name, description, content = item.get("name"), item.get("description"), item.get("content_file")
    if not isinstance(name, str):
        raise ConfigParseError(f"{where}: prompts[{index}].name must be a string")
    reason = unsafe_name_reason(name, allow_slash=True)
    if reason:
        raise UnsafeInputError(f"{where}: refusing prompt {_shown(name)!r}: {reason}")
    if description is not None and not isinstance(description, str):
        raise ConfigParseError(f"{where}: prompts[{index}].description must be a string")
    if not isinstance(content, str):
        raise ConfigParseError(f"{where}: prompts[{index}].content_file must be a string")
    problem = _content_problem(content)
    if problem:
        raise UnsafeInputError(f"{where}: refusing prompt {_shown(name)!r}: {problem}")
    return PromptEntry(name, description, content)


def read_entries(text: str, where: Path) -> list[PromptEntry]:
    """The entries of a ``prompts.yml`` text, in file order.

    Args:
        text: the index's text (blank = no prompts).
        where: the index's path, for messages.

    Raises:
        ConfigParseError: invalid YAML, or an entry of the wrong shape.
        UnsafeInputError: a hostile name or content path, or two entries one name.
    """
    data = load(Format.YAML, text) if text.strip() else None
    if data is None:
        return []
    if not isinstance(data, dict):
        raise ConfigParseError(f"{where}: top level must be a mapping")
    items = data.get("prompts")
    if items is None:
        return []
    if not isinstance(items, list):
        raise ConfigParseError(f"{where}: prompts must be a list")
    entries = [_entry(item, where, i) for i, item in enumerate(items)]
    names: set[str] = set()
    files: set[str] = set()
    for entry in entries:
        name = entry.name.casefold()
        file = str(PurePosixPath(entry.content_file)).casefold()
        if name in names:
            raise UnsafeInputError(f"{where}: two prompts named {_shown(entry.name)!r}")
        if file in files:
            msg = f"{where}: two prompts share the content file {_shown(entry.content_file)!r}"
            raise UnsafeInputError(msg)
        names.add(name)
        files.add(file)
    return entries


def find_entry(entries: list[PromptEntry], name: str) -> int | None:
    """The list index of the entry named ``name`` (None: no such entry)."""
    return next((i for i, e in enumerate(entries) if e.name == name), None)


def upsert_entry(
    entries: list[PromptEntry], name: str, description: str | None, content_file: str
) -> list[Edit]:
    """Edits that make the index hold ``name`` with ``description`` (added at the end if new).

    Raises:
        UnsafeInputError: the existing entry points at another content file.
    """
    index = find_entry(entries, name)
    if index is None:
        item: dict[str, object] = {"name": name}
        if description is not None:
            item["description"] = description
        item["content_file"] = content_file
        if not entries:
            return [Edit(("prompts",), [item])]
        return [Edit(("prompts", len(entries)), item)]
    if entries[index].content_file != content_file:
        msg = f"prompt {_shown(name)!r} already points at {entries[index].content_file!r}"
        raise UnsafeInputError(msg)
    if entries[index].description == description:
        return []
    return [Edit(("prompts", index, "description"), DELETE if description is None else description)]


def delete_entry(entries: list[PromptEntry], name: str) -> list[Edit]:
    """Edits that remove the entry named ``name`` (none when it is already gone)."""
    index = find_entry(entries, name)
    return [] if index is None else [Edit(("prompts", index), DELETE)]
