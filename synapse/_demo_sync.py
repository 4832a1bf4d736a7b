"""A sandbox HOME with realistic configs for all eight clients, and the edits the demo syncs.

Every client starts with the same two MCP servers, each in its own syntax (comments, unknown
keys and env references included), so the first sync round finds them in agreement. The
OpenCode config is a symlink into a ``dotfiles`` folder, as a dotfile manager would leave it.
:func:`demo_edit` then changes one server in Gemini's settings (keeping its comment), which a
sync round carries to the seven others.

:func:`add_claude_entities` creates a command, a subagent and a skill in Claude's folders
while the system runs (the watchers must notice new folders), and :func:`edit_gemini_command`
edits the command's Gemini translation so it flows back. :func:`entity_paths` and
:func:`skill_readers` ask the adapters where each client keeps (or sees) them.

Each client's personal instruction file (``~/.claude/CLAUDE.md``, ``~/.codex/AGENTS.md``, …)
starts with the same two rules (Gemini's with its own ``## Gemini Added Memories`` too);
:func:`add_personal_rule` appends a third to Claude's, which must reach every other file once.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from adapters.base import ClientAdapter
from events.client_config import Command, Scope

__all__ = [
    "AGENT",
    "COMMAND",
    "COMMAND_EDIT",
    "DEMO_ARG",
    "DOTFILES",
    "PERSONAL_RULE",
    "SKILL",
    "add_claude_entities",
    "add_personal_rule",
    "by_root",
    "demo_edit",
    "edit_gemini_command",
    "entity_paths",
    "holds",
    "personal_files",
    "sandbox_paths",
    "seed_sandbox",
    "short",
    "skill_readers",
    "wait_all",
]

#: The argument :func:`demo_edit` adds to the ``filesystem`` server.
DEMO_ARG = "/srv/synapse-demo-edit"
#: Where the symlinked OpenCode config really lives, relative to the sandbox home.
DOTFILES = "dotfiles"

_FS_ARGS = '"-y", "@modelcontextprotocol/server-filesystem", "/tmp"'

_FILES: dict[str, tuple[str, str]] = {
    "claude-code": (
        ".claude.json",
        """{
  "numStartups": 12,
  "theme": "dark",
  "mcpServers": {
    "filesystem": {"type": "stdio", "command": "npx", "args": [%FS%], "env": {}},
    "github": {
      "type": "stdio",
      "command": "docker",
      "args": ["run", "-i", "--rm", "ghcr.io/github/github-mcp-server"],
      "env": {"GITHUB_PERSONAL_ACCESS_TOKEN": "${GITHUB_PERSONAL_ACCESS_TOKEN}"}
    }
  },
  "projects": {}
}
""",
    ),
    "codex": (
        ".codex/config.toml",
        """# my codex config - comments must survive
model = "gpt-5-codex"   # inline comment
approval_policy = "on-request"

[unknown_future_table]
keep_me = true

[mcp_servers.filesystem]
command = "npx"
args = [%FS%]

[mcp_servers.github]
command = "docker"
args = ["run", "-i", "--rm", "ghcr.io/github/github-mcp-server"]
env_vars = ["GITHUB_PERSONAL_ACCESS_TOKEN"]
""",
    ),
    "gemini": (
        ".gemini/settings.json",
        """{
  // Gemini settings: this comment must survive a sync
  "theme": "GitHub",
  "mcpServers": {
    // local files
    "filesystem": {"command": "npx", "args": [%FS%], "timeout": 30000},
    "github": {
      "command": "docker",
      "args": ["run", "-i", "--rm", "ghcr.io/github/github-mcp-server"],
      "env": {"GITHUB_PERSONAL_ACCESS_TOKEN": "$GITHUB_PERSONAL_ACCESS_TOKEN"},
      "trust": false
    }
  },
  "someFutureKey": {"keep": true}
}
""",
    ),
    "qwen": (
        ".qwen/settings.json",
        """{
  "$version": 4,
  // qwen keeps comments too
  "mcpServers": {
    "filesystem": {"command": "npx", "args": [%FS%]},
    "github": {
      "command": "docker",
      "args": ["run", "-i", "--rm", "ghcr.io/github/github-mcp-server"],
      "env": {"GITHUB_PERSONAL_ACCESS_TOKEN": "${GITHUB_PERSONAL_ACCESS_TOKEN}"}
    }
  },
  "ui": {"theme": "Default"}
}
""",
    ),
    "rovodev": (
        ".rovodev/mcp.json",
        """{
  "mcpServers": {
    "filesystem": {"command": "npx", "args": [%FS%]},
    "github": {
      "command": "docker",
      "args": ["run", "-i", "--rm", "ghcr.io/github/github-mcp-server"],
      "env": {"GITHUB_PERSONAL_ACCESS_TOKEN": "${GITHUB_PERSONAL_ACCESS_TOKEN}"}
    }
  }
}
""",
    ),
    "copilot": (
        ".copilot/mcp-config.json",
        """{
  "mcpServers": {
    "filesystem": {"type": "local", "command": "npx", "args": [%FS%], "tools": ["*"]},
    "github": {
      "type": "local",
      "command": "docker",
      "args": ["run", "-i", "--rm", "ghcr.io/github/github-mcp-server"],
      "env": {"GITHUB_PERSONAL_ACCESS_TOKEN": "${GITHUB_PERSONAL_ACCESS_TOKEN}"},
      "tools": ["*"]
    }
  }
}
""",
    ),
    "opencode": (
        ".config/opencode/opencode.jsonc",
        """{
  "$schema": "https://opencode.ai/config.json",
  // opencode: command is an array, env is "environment"
  "theme": "opencode",
  "mcp": {
    "filesystem": {"type": "local", "command": ["npx", %FS%], "enabled": true},
    "github": {
      "type": "local",
      "command": ["docker", "run", "-i", "--rm", "ghcr.io/github/github-mcp-server"],
      "environment": {"GITHUB_PERSONAL_ACCESS_TOKEN": "{env:GITHUB_PERSONAL_ACCESS_TOKEN}"},
      "enabled": true
    }
  }
}
""",
    ),
    "cursor": (
        ".cursor/mcp.json",
        """{
  "mcpServers": {
    "filesystem": {"command": "npx", "args": [%FS%]},
    "github": {
      "command": "docker",
      "args": ["run", "-i", "--rm", "ghcr.io/github/github-mcp-server"],
      "env": {"GITHUB_PERSONAL_ACCESS_TOKEN": "${env:GITHUB_PERSONAL_ACCESS_TOKEN}"}
    }
  }
}
""",
    ),
}

#: Each client's personal instruction file (Cursor keeps its user rules in app storage).
_PERSONAL = {
    "claude-code": ".claude/CLAUDE.md",
    "codex": ".codex/AGENTS.md",
    "gemini": ".gemini/GEMINI.md",
    "qwen": ".qwen/QWEN.md",
    "copilot": ".copilot/copilot-instructions.md",
    "opencode": ".config/opencode/AGENTS.md",
    "rovodev": ".rovodev/AGENTS.md",
}
_RULES = "# Personal rules\n\n- Answer in British English.\n- Keep commits small.\n"
_MEMORIES = "\n## Gemini Added Memories\n- The user prefers tea.\n"
#: The rule :func:`add_personal_rule` appends to Claude's file.
PERSONAL_RULE = "- Never force-push to main."

#: Clients whose config the sandbox keeps behind a symlink into :data:`DOTFILES`.
SYMLINKED = ("opencode",)


def seed_sandbox(home: Path) -> dict[str, Path]:
    """Write the eight clients' configs into ``home``.

    Args:
        home: the sandbox home directory (created if missing).

    Returns:
        Client id → the config path as the client names it (a symlink for OpenCode).
    """
    home.mkdir(parents=True, exist_ok=True)
    out: dict[str, Path] = {}
    for client, (rel, text) in _FILES.items():
        path = home / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        body = text.replace("%FS%", _FS_ARGS)
        if client in SYMLINKED:
            real = home / DOTFILES / Path(rel).name
            real.parent.mkdir(parents=True, exist_ok=True)
            real.write_text(body)
            path.unlink(missing_ok=True)
            os.symlink(real, path)
        else:
            path.write_text(body)
        out[client] = path
    for client, path in personal_files(home).items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(_RULES + (_MEMORIES if client == "gemini" else ""))
    return out


def personal_files(home: Path) -> dict[str, Path]:
    """Client id → its personal instruction file under ``home``."""
    return {client: home / rel for client, rel in _PERSONAL.items()}


def add_personal_rule(home: Path) -> Path:
    """Append :data:`PERSONAL_RULE` to ``~/.claude/CLAUDE.md``; return that file."""
    path = personal_files(home)["claude-code"]
    path.write_text(path.read_text() + PERSONAL_RULE + "\n")
    return path


def sandbox_paths(home: Path) -> dict[str, Path]:
    """Client id → its seeded user config path under ``home`` (as :func:`seed_sandbox` wrote)."""
    return {client: home / rel for client, (rel, _) in _FILES.items()}


def demo_edit(home: Path) -> str:
    """Add :data:`DEMO_ARG` to Gemini's ``filesystem`` server, keeping the file's comments.

    Returns:
        The client whose file was edited (``"gemini"``).
    """
    path = home / _FILES["gemini"][0]
    text = path.read_text()
    old = f'"args": [{_FS_ARGS}]'
    if old not in text:
        msg = f"{path} no longer holds the seeded filesystem server"
        raise ValueError(msg)
    path.write_text(text.replace(old, f'"args": [{_FS_ARGS}, "{DEMO_ARG}"]', 1))
    return "gemini"


#: The names of the command, subagent and skill :func:`add_claude_entities` creates.
COMMAND, AGENT, SKILL = "review", "reviewer", "changelog"
#: The phrase of the command's prompt that :func:`edit_gemini_command` replaces, and by what.
COMMAND_EDIT = ("for bugs and missing tests.", "like a security auditor: secrets, injection.")

_CLAUDE_ENTITIES = {
    f".claude/commands/{COMMAND}.md": f"""---
description: Review a change
argument-hint: "<path>"
allowed-tools: Bash(git diff:*)
---
Review $ARGUMENTS {COMMAND_EDIT[0]}
""",
    f".claude/agents/{AGENT}.md": f"""---
name: {AGENT}
description: Reviews a change for bugs and missing tests
tools: Read, Grep
model: sonnet
---
You are a careful code reviewer. Point at lines and suggest fixes.
""",
    f".claude/skills/{SKILL}/SKILL.md": f"""---
name: {SKILL}
description: Write a changelog entry from the staged diff
---
Read `git diff --staged` and write one Keep a Changelog entry.
""",
}


def add_claude_entities(home: Path) -> list[Path]:
    """Create Claude's ``/review`` command, ``reviewer`` subagent and ``changelog`` skill.

    Returns:
        The files written, in order (command, subagent, skill).
    """
    out = []
    for rel, text in _CLAUDE_ENTITIES.items():
        path = home / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        out.append(path)
    return out


def edit_gemini_command(path: Path) -> str:
    """Replace :data:`COMMAND_EDIT`'s phrase in Gemini's TOML command at ``path``.

    Returns:
        The edited ``prompt = ...`` line.

    Raises:
        ValueError: the file no longer holds the phrase the demo seeded.
    """
    text = path.read_text()
    old, new = COMMAND_EDIT
    if old not in text:
        msg = f"{path} no longer holds {old!r}"
        raise ValueError(msg)
    text = text.replace(old, new, 1)
    path.write_text(text)
    return next(ln for ln in text.splitlines() if new in ln)


def entity_paths(
    adapters: dict[str, ClientAdapter], home: Path, kind: str, name: str
) -> dict[str, Path]:
    """Client → the user-scope file that holds (or would hold) a command or subagent.

    Clients without the kind (Codex and Copilot have no commands) are left out.
    """
    out = {}
    for client, adapter in adapters.items():
        if kind == Command.kind:
            cfg = adapter.locate_command(name, Scope.USER, home)
        else:
            cfg = adapter.locate_subagent(name, Scope.USER, home)
        if cfg is not None:
            out[client] = cfg.path
    return out


def skill_readers(adapters: dict[str, ClientAdapter], home: Path, name: str) -> dict[str, Path]:
    """Client → the first of its user skill roots holding skill ``name`` (clients that see it)."""
    out = {}
    for client, adapter in adapters.items():
        for root in adapter.skill_roots(home, []):
            if (root.path / name / "SKILL.md").is_file():
                out[client] = root.path
                break
    return out


def by_root(home: Path, readers: Mapping[str, Path]) -> str:
    """``readers`` grouped by root, e.g. ``~/.agents/skills: codex, gemini | ~/.x: y``."""
    roots: dict[Path, list[str]] = {}
    for client, root in sorted(readers.items()):
        roots.setdefault(root, []).append(client)
    return " | ".join(f"{short(home, r)}: {', '.join(c)}" for r, c in roots.items())


def short(home: Path, path: Path) -> str:
    """``path`` written relative to ``home`` as ``~/...`` when it lies under it."""
    return "~/" + path.relative_to(home).as_posix() if path.is_relative_to(home) else str(path)


def holds(path: Path, text: str) -> Callable[[], bool]:
    """A check that ``path`` exists and contains ``text`` (missing or unreadable: not yet)."""

    def check() -> bool:
        try:
            return text in path.read_text()
        except OSError:
            return False

    return check


def wait_all(
    checks: Mapping[str, Callable[[], bool]], started: float, deadline_s: float
) -> dict[str, float]:
    """Poll ``checks`` until all pass or ``deadline_s`` after ``started`` (monotonic) ends.

    Returns:
        Name → seconds from ``started`` to the first poll it passed; failed checks are absent.
    """
    seen: dict[str, float] = {}
    while True:
        for name, check in checks.items():
            if name not in seen and check():
                seen[name] = time.monotonic() - started
        if len(seen) == len(checks) or time.monotonic() >= started + deadline_s:
            return seen
        time.sleep(0.05)
