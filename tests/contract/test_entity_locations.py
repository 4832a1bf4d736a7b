"""Every adapter honours the entity-location contract (:mod:`tests.contract.entity_locations`)."""

from __future__ import annotations

import sys
from pathlib import Path, PurePosixPath
from typing import ClassVar

from adapters._prompts import PROMPTS_INDEX, PromptEntry
from adapters.base import ClientAdapter, ConfigFile
from adapters.claude_code import ClaudeCodeAdapter
from adapters.codex import CodexAdapter
from adapters.copilot_cli import CopilotCliAdapter
from adapters.cursor import CursorAdapter
from adapters.formats import Format
from adapters.gemini_cli import GeminiCliAdapter
from adapters.opencode import OpenCodeAdapter
from adapters.qwen_code import QwenCodeAdapter
from adapters.registry import load_adapters
from adapters.rovodev import RovoDevAdapter
from events.client_config import Command, Entity, Lit, Scope
from tests.contract.entity_locations import Documented, EntityLocationContract, Home, put


class TestClaudeCodeLocations(EntityLocationContract):
    """Claude Code: ``.claude/commands``, ``.claude/agents``."""

    documented: ClassVar[Documented] = {
        "command": ((".claude/commands",), (".claude/commands",)),
        "subagent": ((".claude/agents",), (".claude/agents",)),
    }

    def make_adapter(self) -> ClientAdapter:
        return ClaudeCodeAdapter()


class TestCodexLocations(EntityLocationContract):
    """Codex: ``.codex/agents`` (no commands: custom prompts were removed upstream)."""

    documented: ClassVar[Documented] = {"subagent": ((".codex/agents",), (".codex/agents",))}

    def make_adapter(self) -> ClientAdapter:
        return CodexAdapter()


class TestGeminiLocations(EntityLocationContract):
    """Gemini CLI: ``.gemini/commands`` (TOML), ``.gemini/agents``."""

    documented: ClassVar[Documented] = {
        "command": ((".gemini/commands",), (".gemini/commands",)),
        "subagent": ((".gemini/agents",), (".gemini/agents",)),
    }

    def make_adapter(self) -> ClientAdapter:
        return GeminiCliAdapter()


class TestQwenLocations(EntityLocationContract):
    """Qwen Code: ``.qwen/commands``, ``.qwen/agents``."""

    documented: ClassVar[Documented] = {
        "command": ((".qwen/commands",), (".qwen/commands",)),
        "subagent": ((".qwen/agents",), (".qwen/agents",)),
    }

    def make_adapter(self) -> ClientAdapter:
        return QwenCodeAdapter()


class TestQwenMarkdownLocations(TestQwenLocations):
    """Qwen Code's ``.md`` commands: each is updated in its ``.md``, never copied to TOML."""

    # qwenlm.github.io/qwen-code-docs: commands are ``commands/**/*.md`` (Markdown + YAML
    # frontmatter) or the deprecated ``*.toml``; the loader globs both in each folder.
    def place(self, adapter: ClientAdapter, where: Home, rel: str, entity: Entity) -> Path:
        """A command is put in ``rel`` as ``<name>.md``, with a key only Qwen reads."""
        if entity.kind != Command.kind:
            return super().place(adapter, where, rel, entity)
        body = "".join(part.text for part in entity.body if isinstance(part, Lit))
        text = f"---\ndisable-model-invocation: true\n---\n{body}"
        return put(where.base / rel / f"{entity.name}.md", text)

    def test_a_md_beside_a_toml_of_its_name_is_the_one_synced(self, tmp_path: Path) -> None:
        """``x.md`` and ``x.toml`` in one scope: Qwen loads the ``.md`` (the last loaded
        wins), so an edit elsewhere lands in the ``.md``; the ``.toml`` keeps its bytes and
        is neither read nor written."""
        adapter = self.make_adapter()
        source = self.source_adapter(adapter)
        for scope in (Scope.USER, Scope.PROJECT):
            for entity in self.entities(Command.kind):
                case = f"both-{scope}-{entity.name}"
                where = self.scenario(tmp_path, case, scope)
                placed = self.place(adapter, where, ".qwen/commands", entity)
                toml = put(placed.with_suffix(".toml"), 'prompt = "Stale text."\n')
                edited = self.sync_an_edit(adapter, source, where, entity)
                found = self.files_holding(adapter, where, entity.key)
                assert [p for p, _ in found] == [placed], case
                assert found[0][1].synced() == edited.synced(), case
                assert "disable-model-invocation: true" in placed.read_text(), case
                assert toml.read_text() == 'prompt = "Stale text."\n', case


class TestCopilotLocations(EntityLocationContract):
    """Copilot CLI: ``.copilot/agents`` and ``.github/agents``."""

    documented: ClassVar[Documented] = {"subagent": ((".copilot/agents",), (".github/agents",))}

    def make_adapter(self) -> ClientAdapter:
        return CopilotCliAdapter()


class TestOpenCodeLocations(EntityLocationContract):
    """OpenCode: ``commands/`` and the legacy ``command/``, ``agents/`` and ``agent/``."""

    # opencode.ai/docs: "the legacy singular command/ is also discovered, but use
    # commands/ for new files"; agents likewise (``{agent,agents}/**/*.md``).
    documented: ClassVar[Documented] = {
        "command": (
            (".config/opencode/commands", ".config/opencode/command"),
            (".opencode/commands", ".opencode/command"),
        ),
        "subagent": (
            (".config/opencode/agents", ".config/opencode/agent"),
            (".opencode/agents", ".opencode/agent"),
        ),
    }

    def make_adapter(self) -> ClientAdapter:
        return OpenCodeAdapter()


class TestCursorLocations(EntityLocationContract):
    """Cursor: ``.cursor/commands``, ``.cursor/agents``."""

    documented: ClassVar[Documented] = {
        "command": ((".cursor/commands",), (".cursor/commands",)),
        "subagent": ((".cursor/agents",), (".cursor/agents",)),
    }

    def make_adapter(self) -> ClientAdapter:
        return CursorAdapter()


class TestRovoDevLocations(EntityLocationContract):
    """Rovo Dev: saved prompts (index + content file), ``.rovodev/subagents``."""

    # A content file may sit anywhere in ``.rovodev`` (its docs put it right there); new
    # ones go into ``.rovodev/prompts``.
    documented: ClassVar[Documented] = {
        "command": ((".rovodev/prompts", ".rovodev"), (".rovodev/prompts", ".rovodev")),
        "subagent": ((".rovodev/subagents",), (".rovodev/subagents",)),
    }

    def make_adapter(self) -> ClientAdapter:
        return RovoDevAdapter()

    def place(self, adapter: ClientAdapter, where: Home, rel: str, entity: Entity) -> Path:
        """A prompt is its ``prompts.yml`` entry plus its content file in ``rel``."""
        if entity.kind != Command.kind:
            return super().place(adapter, where, rel, entity)
        content = PurePosixPath(rel).relative_to(".rovodev") / f"{entity.name}.md"
        index = f"prompts:\n  - name: {entity.name}\n    content_file: {content}\n"
        put(where.base / PROMPTS_INDEX, index)
        entry = PromptEntry(entity.name, None, str(content))
        path = where.base / ".rovodev" / content
        cfg = ConfigFile(
            adapter.client,
            path,
            where.scope,
            Format.MARKDOWN,
            frozenset({Command.kind}),
            False,
            where.owner,
            entry,
        )
        return put(path, adapter.render(cfg, "", {entity.key: entity}).text)


def test_every_registered_adapter_has_a_location_contract() -> None:
    """A client added to the registry cannot skip the location contract."""
    module = sys.modules[__name__]
    covered = {
        type(cls().make_adapter())
        for cls in vars(module).values()
        if isinstance(cls, type)
        and issubclass(cls, EntityLocationContract)
        and cls.__name__.startswith("Test")
    }
    assert {type(a) for a in load_adapters().values()} <= covered
