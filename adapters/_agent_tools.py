"""Subagent tool names and model names, per client, against one canonical vocabulary.

Canonical tool references are ``read``, ``edit``, ``write``, ``bash``, ``grep``, ``glob``,
``ls``, ``webfetch``, ``websearch`` and ``mcp:<server>/<tool>`` (``<tool>`` may be ``*``). A
native tool with no canonical name is kept as ``"<client>:<native>"``, so it round-trips
into its own client and is reported as a loss anywhere else.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

__all__ = [
    "CLAUDE_TOOLS",
    "COPILOT_TOOLS",
    "GEMINI_TOOLS",
    "OPENCODE_PERMISSIONS",
    "QWEN_TOOLS",
    "ROVODEV_TOOLS",
    "ModelRule",
    "ToolVocabulary",
    "any_model",
    "claude_model",
    "full_model_id",
    "gemini_model",
    "openai_model",
    "provider_model",
]

ModelRule = Callable[[str], bool]
_CLAUDE_ALIASES = frozenset({"sonnet", "opus", "haiku", "opusplan"})


@dataclass(frozen=True)
class ToolVocabulary:
    """How one client spells tools in a subagent file.

    Attributes:
        client: the client id, used to qualify tools with no canonical name.
        native: canonical name → native name; several canonical names may share one native.
        aliases: further native spellings accepted when reading.
        mcp: ``"claude"`` (``mcp__server__tool``), ``"slash"`` (``server/tool``) or ``None``.
    """

    client: str
    native: Mapping[str, str]
    aliases: Mapping[str, str] = field(default_factory=dict)
    mcp: Literal["claude", "slash"] | None = None

    def _reverse(self, native: str) -> str | None:
        if native in self.aliases:
            return self.aliases[native]
        return next((c for c, n in self.native.items() if n == native), None)

    def to_canonical(self, native: str) -> str:
        """The canonical reference for a native tool name."""
        known = self._reverse(native)
        if known is not None:
            return known
        if self.mcp == "claude" and native.startswith("mcp__"):
            server, _, tool = native[5:].partition("__")
            return f"mcp:{server}/{tool or '*'}"
        if self.mcp == "slash" and native.count("/") == 1:
            return f"mcp:{native}"
        return f"{self.client}:{native}"

    def to_native(self, ref: str) -> tuple[str | None, str | None]:
        """Render a canonical reference.

        Returns:
            ``(native name or None, loss reason or None)``; a name with a reason is written
            but reads back as a different canonical tool.
        """
        own = f"{self.client}:"
        if ref.startswith(own):
            return ref[len(own) :], None
        if ref in self.native:
            native = self.native[ref]
            back = self._reverse(native)
            if back != ref:
                return native, f"{ref!r} is written as {native!r}, which reads back as {back!r}"
            return native, None
        if ref.startswith("mcp:") and "/" in ref:
            server, _, tool = ref[4:].partition("/")
            if self.mcp == "claude":
                return (f"mcp__{server}" if tool == "*" else f"mcp__{server}__{tool}"), None
            if self.mcp == "slash":
                return f"{server}/{tool}", None
            return None, f"{ref!r}: {self.client} subagents cannot name MCP tools"
        return None, f"tool {ref!r} has no {self.client} equivalent"


CLAUDE_TOOLS = ToolVocabulary(
    "claude-code",
    {
        "read": "Read",
        "edit": "Edit",
        "write": "Write",
        "bash": "Bash",
        "grep": "Grep",
        "glob": "Glob",
        "ls": "LS",
        "webfetch": "WebFetch",
        "websearch": "WebSearch",
    },
    mcp="claude",
)
GEMINI_TOOLS = ToolVocabulary(
    "gemini",
    {
        "read": "read_file",
        "edit": "replace",
        "write": "write_file",
        "bash": "run_shell_command",
        "grep": "search_file_content",
        "glob": "glob",
        "ls": "list_directory",
        "webfetch": "web_fetch",
        "websearch": "google_web_search",
    },
    aliases={"grep_search": "grep"},
)
QWEN_TOOLS = ToolVocabulary(
    "qwen",
    {
        "read": "read_file",
        "edit": "edit",
        "write": "write_file",
        "bash": "run_shell_command",
        "grep": "grep_search",
        "glob": "glob",
        "ls": "list_directory",
        "webfetch": "web_fetch",
        "websearch": "web_search",
    },
    aliases={"replace": "edit", "search_file_content": "grep"},
)
# Copilot's aliases are coarse: write folds into edit, glob into search, websearch into web.
COPILOT_TOOLS = ToolVocabulary(
    "copilot",
    {
        "read": "read",
        "edit": "edit",
        "write": "edit",
        "bash": "shell",
        "grep": "search",
        "glob": "search",
        "webfetch": "web",
        "websearch": "web",
    },
    aliases={"execute": "bash", "bash": "bash"},
    mcp="slash",
)
ROVODEV_TOOLS = ToolVocabulary(
    "rovodev",
    {
        "read": "open_files",
        "edit": "find_and_replace_code",
        "write": "create_file",
        "bash": "bash",
        "grep": "grep",
    },
)
#: OpenCode has no allowlist; denied tools become ``permission: {<key>: deny}`` entries.
OPENCODE_PERMISSIONS = ToolVocabulary(
    "opencode",
    {
        "read": "read",
        "edit": "edit",
        "write": "edit",
        "bash": "bash",
        "grep": "grep",
        "glob": "glob",
        "ls": "list",
        "webfetch": "webfetch",
        "websearch": "websearch",
    },
)


def any_model(model: str) -> bool:
    """Every model id is acceptable."""
    return bool(model)


def claude_model(model: str) -> bool:
    """A Claude alias (``sonnet``) or a full ``claude-*`` id."""
    return model in _CLAUDE_ALIASES or model.startswith("claude-")


def gemini_model(model: str) -> bool:
    """A ``gemini-*`` id."""
    return model.startswith("gemini-")


def openai_model(model: str) -> bool:
    """An OpenAI id such as ``gpt-5-codex`` or ``o3``."""
    return model.startswith(("gpt-", "o1", "o3", "o4", "codex-"))


def full_model_id(model: str) -> bool:
    """A full model id; bare Claude aliases mean nothing outside Claude."""
    return bool(model) and model not in _CLAUDE_ALIASES


def provider_model(model: str) -> bool:
    """OpenCode's ``provider/model`` form."""
    return "/" in model.strip("/")
