"""A sandbox HOME with realistic configs for all eight clients, and one edit to sync.

Every client starts with the same two MCP servers, each in its own syntax (comments, unknown
keys and env references included), so the first sync round finds them in agreement. The
OpenCode config is a symlink into a ``dotfiles`` folder, as a dotfile manager would leave it.
:func:`demo_edit` then changes one server in Gemini's settings (keeping its comment), which a
sync round carries to the seven others.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["DEMO_ARG", "DOTFILES", "demo_edit", "sandbox_paths", "seed_sandbox"]

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
    return out


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
