"""Which files of a ``.rovodev`` folder are saved prompts: the index says (clients.md §2.8).

Each ``prompts.yml`` entry makes its content file a command file whose
:attr:`~adapters.base.ConfigFile.entry` carries the name and description. Markdown files in
``.rovodev/prompts`` that no entry lists are returned too, holding nothing: scanning them
records what they hold, so a prompt written there later (or again, after an interrupted
write left the file without its entry) is checked against those bytes like any other write.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

from adapters._prompts import PROMPTS_DIR, PROMPTS_INDEX, PromptEntry, read_entries
from adapters.base import ConfigFile
from adapters.files import read_config
from adapters.formats import Format
from events.client_config import ClientId, Command, Scope
from events.errors import AdapterError

__all__ = ["INDEX_KIND", "UNLISTED_KIND", "PromptFiles", "prompt_files"]

#: Marks ``prompts.yml`` (scanned with the commands to validate it; it holds none itself).
INDEX_KIND = "prompt_index"
#: Marks a Markdown file in ``.rovodev/prompts`` that no entry lists.
UNLISTED_KIND = "prompt_unlisted"
_COMMAND = frozenset({Command.kind})


@dataclass(frozen=True)
class PromptFiles:
    """One ``.rovodev`` folder's index, listed content files and unlisted prompt files."""

    index: ConfigFile
    listed: list[ConfigFile] = field(default_factory=list)
    unlisted: list[ConfigFile] = field(default_factory=list)


def prompt_files(client: ClientId, base: Path, scope: Scope, project: Path | None) -> PromptFiles:
    """The prompt files under ``base/.rovodev`` (``base`` is the home or a project).

    An index that cannot be read, or holds a hostile entry, comes back carrying the reason
    and listing nothing (its scan then fails, so the prompts are never taken for deleted).
    A content file resolving outside ``.rovodev`` carries the reason too (its parse fails).
    """
    rovo = base / ".rovodev"
    kinds = frozenset({Command.kind, INDEX_KIND})
    index = ConfigFile(client, base / PROMPTS_INDEX, scope, Format.YAML, kinds, False, project)
    try:
        snap = read_config(index.path, allowed_roots=(base,))
        text = "" if snap is None else snap.data.decode("utf-8")
        entries = read_entries(text, index.path)
    except (AdapterError, OSError, ValueError) as e:
        failed = PromptEntry("prompts.yml", None, "prompts.yml", f"unreadable index: {e}")
        return PromptFiles(dataclasses.replace(index, entry=failed))
    real = rovo.resolve()
    listed = []
    for entry in entries:
        path = rovo / entry.content_file
        inside = path.resolve().is_relative_to(real)
        found = dataclasses.replace(
            entry, problem=None if inside else "its content_file resolves outside .rovodev"
        )
        listed.append(
            ConfigFile(client, path, scope, Format.MARKDOWN, _COMMAND, False, project, found)
        )
    folder = rovo / PROMPTS_DIR
    known = {f.path for f in listed}
    unlisted_kinds = frozenset({Command.kind, UNLISTED_KIND})
    unlisted = [
        ConfigFile(client, path, scope, Format.MARKDOWN, unlisted_kinds, False, project)
        for path in (sorted(folder.rglob("*.md")) if folder.is_dir() else [])
        if path not in known and not path.is_dir() and path.resolve().is_relative_to(real)
    ]
    return PromptFiles(index, listed, unlisted)
