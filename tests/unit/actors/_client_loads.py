"""What each client loads as personal instructions: a model of the clients, for tests.

Written from ``shared/reference/clients.md`` §3.3 and the clients' docs, independently of
the code under test, so a test can count how often each rule reaches a client:

* Claude Code: ``~/.claude/CLAUDE.md``, ``@path`` imports inlined.
* Codex: ``~/.codex/AGENTS.override.md`` if it exists, else ``~/.codex/AGENTS.md``.
* Gemini: ``~/.gemini/<name>`` for each name in ``context.fileName`` of
  ``~/.gemini/settings.json`` (default ``GEMINI.md``), imports inlined.
* Qwen: as Gemini, in ``~/.qwen``, default names ``QWEN.md`` and ``AGENTS.md``.
* Copilot CLI: ``~/.copilot/copilot-instructions.md``.
* OpenCode: the first that exists of ``~/.config/opencode/AGENTS.md`` and
  ``~/.claude/CLAUDE.md`` (its Claude Code compatibility).
* Rovo Dev: ``~/.rovodev/AGENTS.md``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

__all__ = ["CLIENTS", "PERSONAL", "loaded", "rule_count"]

#: Each client's personal file, where people keep their rules.
PERSONAL = {
    "claude-code": ".claude/CLAUDE.md",
    "codex": ".codex/AGENTS.md",
    "gemini": ".gemini/GEMINI.md",
    "qwen": ".qwen/QWEN.md",
    "copilot": ".copilot/copilot-instructions.md",
    "opencode": ".config/opencode/AGENTS.md",
    "rovodev": ".rovodev/AGENTS.md",
}
CLIENTS = tuple(PERSONAL)
_IMPORT = re.compile(r"^[ \t]*@(\S+)[ \t]*$", re.MULTILINE)
_COMMENT = re.compile(r"^\s*//.*$", re.MULTILINE)


def _inline(path: Path, home: Path, depth: int = 0) -> str:
    if not path.is_file():
        return ""
    text = path.read_text()
    if depth > 4:
        return text

    def expand(match: re.Match[str]) -> str:
        ref = match.group(1)
        target = home / ref[2:] if ref.startswith("~/") else path.parent / ref
        return _inline(target, home, depth + 1)

    return _IMPORT.sub(expand, text)


def _names(settings: Path, default: list[str]) -> list[str]:
    if not settings.is_file():
        return default
    text = re.sub(r",(\s*[}\]])", r"\1", _COMMENT.sub("", settings.read_text()))
    data = json.loads(text or "{}")
    value = data.get("context", {}).get("fileName", data.get("contextFileName"))
    if value is None:
        return default
    return [value] if isinstance(value, str) else list(value)


def loaded(client: str, home: Path) -> str:
    """Everything ``client`` loads as personal instructions, concatenated."""
    if client == "claude-code":
        return _inline(home / ".claude/CLAUDE.md", home)
    if client == "codex":
        override = home / ".codex/AGENTS.override.md"
        return (override if override.is_file() else home / ".codex/AGENTS.md").read_text()
    if client in ("gemini", "qwen"):
        folder = home / f".{client}"
        default = ["GEMINI.md"] if client == "gemini" else ["QWEN.md", "AGENTS.md"]
        names = _names(folder / "settings.json", default)
        return "".join(_inline(folder / name, home) for name in names)
    if client == "opencode":
        for path in (home / ".config/opencode/AGENTS.md", home / ".claude/CLAUDE.md"):
            if path.is_file():
                return path.read_text()
        return ""
    path = home / PERSONAL[client]
    return path.read_text() if path.is_file() else ""


def rule_count(client: str, home: Path, rule: str) -> int:
    """How many times ``client`` loads the line ``rule``."""
    return sum(line.strip() == rule for line in loaded(client, home).splitlines())
