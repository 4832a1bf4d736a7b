"""A realistic, long-used ``~/.claude.json``: many projects, each with a prompt history.

Claude Code keeps per-project state in the same file as the user's MCP servers: for every
folder it was started in, ``projects[path]`` holds the trust flags, the last session's cost
and token counts, and a ``history`` of the prompts typed there (with any pasted text in
``pastedContents``). After months of use the file is 15–100 MB, nearly all of it history.
The generator writes that shape as Claude does (``JSON.stringify(state, null, 2)``), with
deterministic pseudo-random prompts, so a run is reproducible and the test data is fast to
make.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

__all__ = ["claude_state", "write_claude_state"]

_SENTENCE = (
    "refactor the parser so it keeps comments fix the failing test in the sync service add "
    "a benchmark for the watcher explain why this query is slow rename the adapter module "
    "update the README section review this diff and suggest smaller functions write a "
    "migration for the ledger table make the CLI print one error line check the event "
    "upcaster handles version two why does ray restart the actor here"
)
_WORDS = tuple(_SENTENCE.split(" "))
_PASTE = (
    'Traceback (most recent call last):\n  File "/srv/app/main.py", line {n}, in run\n'
    "    result = handler(request)\nKeyError: 'session_{n}'\n"
)


def _prompt(rng: random.Random) -> dict[str, Any]:
    words = rng.choices(_WORDS, k=rng.randint(6, 40))
    entry: dict[str, Any] = {"display": " ".join(words), "pastedContents": {}}
    if rng.random() < 0.15:  # a pasted log or snippet, the bulk of a real file
        text = "".join(_PASTE.format(n=rng.randint(1, 9999)) for _ in range(rng.randint(4, 60)))
        entry["pastedContents"] = {"1": {"id": 1, "type": "text", "content": text}}
        entry["display"] += f" [Pasted text #1 +{text.count(chr(10))} lines]"
    return entry


def _project(rng: random.Random, index: int, history: int) -> dict[str, Any]:
    return {
        "allowedTools": [],
        "history": [_prompt(rng) for _ in range(history)],
        "mcpContextUris": [],
        "mcpServers": {},
        "enabledMcpjsonServers": [],
        "disabledMcpjsonServers": [],
        "hasTrustDialogAccepted": True,
        "projectOnboardingSeenCount": rng.randint(0, 4),
        "hasClaudeMdExternalIncludesApproved": False,
        "hasClaudeMdExternalIncludesWarningShown": False,
        "lastCost": round(rng.random() * 3, 6),
        "lastAPIDuration": rng.randint(1000, 900_000),
        "lastDuration": rng.randint(1000, 9_000_000),
        "lastLinesAdded": rng.randint(0, 900),
        "lastLinesRemoved": rng.randint(0, 400),
        "lastTotalInputTokens": rng.randint(0, 900_000),
        "lastTotalOutputTokens": rng.randint(0, 90_000),
        "lastSessionId": f"{rng.getrandbits(128):032x}",
        "exampleFiles": [f"src/module_{index}_{i}.py" for i in range(5)],
    }


def claude_state(
    target_bytes: int, *, projects: int = 400, seed: int = 13, servers: int = 2
) -> dict[str, Any]:
    """A ``~/.claude.json`` value of roughly ``target_bytes`` once rendered.

    Args:
        target_bytes: the size to aim for (the result is within a few percent).
        projects: how many ``projects`` entries share the history.
        seed: the pseudo-random seed (same seed, same file).
        servers: user-scope MCP servers in the top-level ``mcpServers``.
    """
    rng = random.Random(seed)
    # Measured: one history entry renders to ~900 bytes on average (pastes, indent included).
    history = max(1, target_bytes // 900 // projects)
    state: dict[str, Any] = {
        "numStartups": 1432,
        "installMethod": "global",
        "autoUpdates": True,
        "tipsHistory": {f"tip-{i}": rng.randint(1, 1400) for i in range(40)},
        "promptQueueUseCount": 17,
        "projects": {
            f"/home/user/work/repo-{i:04d}": _project(rng, i, history) for i in range(projects)
        },
        "mcpServers": {
            f"server-{i}": {
                "type": "stdio",
                "command": "npx",
                "args": ["-y", f"@example/mcp-server-{i}", "/tmp"],
                "env": {},
            }
            for i in range(servers)
        },
        "hasCompletedOnboarding": True,
        "lastOnboardingVersion": "2.1.197",
        "cachedChangelog": "# Changelog\n" + "\n".join(f"- change {i}" for i in range(2000)),
    }
    return state


def write_claude_state(path: Path, target_bytes: int, **kwargs: Any) -> bytes:
    """Write :func:`claude_state` to ``path`` as Claude does; return the bytes written."""
    data = (json.dumps(claude_state(target_bytes, **kwargs), indent=2, ensure_ascii=False)).encode()
    path.write_bytes(data)
    return data
