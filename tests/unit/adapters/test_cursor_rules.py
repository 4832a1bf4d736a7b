"""Cursor project rules (``.cursor/rules/*.mdc``) read as instruction entities."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters._cursor_rules import activation, rule_losses
from adapters.cursor import CursorAdapter
from adapters.formats import Format, apply_edits
from events.client_config import Instruction
from events.errors import ConfigParseError

#: As Cursor writes it: ``globs`` an unquoted comma-separated string (not valid plain YAML).
TS_RULE = """---
description: TypeScript conventions
globs: **/*.ts,**/*.tsx
alwaysApply: false
---
# TypeScript
- Prefer `const`.
"""
ALWAYS_RULE = "---\ndescription: Core\nalwaysApply: true\n---\nBe brief.\n"


def rules_of(project: Path, **files: str) -> list[Instruction]:
    """Write ``files`` (stem → text) as the project's rules; the rules Cursor reads, by path."""
    for name, text in files.items():
        path = project / ".cursor/rules" / f"{name}.mdc"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    adapter = CursorAdapter()
    out = []
    for cfg in adapter.discover(project.parent / "home", [project]):
        if cfg.kinds == {"instruction"}:
            out += [
                e for e in adapter.parse(cfg, cfg.path.read_text()) if isinstance(e, Instruction)
            ]
    return out


def test_rules_are_discovered_and_parsed_with_their_activation(tmp_path: Path) -> None:
    """Each ``.mdc`` is an instruction ``rule.<stem>`` holding its text, globs and mode."""
    proj = tmp_path / "proj"
    core, ts = rules_of(proj, typescript=TS_RULE, core=ALWAYS_RULE)
    assert ts.name == "rule.typescript"
    assert ts.file_name == ".cursor/rules/typescript.mdc"
    assert ts.body_markdown == "# TypeScript\n- Prefer `const`.\n"
    assert ts.extras["cursor"] == {
        "description": "TypeScript conventions",
        "globs": ["**/*.ts", "**/*.tsx"],
        "alwaysApply": False,
    }
    assert activation(ts) == "globs"
    assert activation(core) == "always"


def test_what_other_clients_cannot_express_is_reported_as_a_loss(tmp_path: Path) -> None:
    """Globs (and on-request rules) are lost in every other client; an always rule is not."""
    proj = tmp_path / "proj"
    core, ts = rules_of(proj, typescript=TS_RULE, core=ALWAYS_RULE)
    losses = rule_losses(ts, ["cursor", "claude-code", "codex"])
    assert [(x.client, x.field) for x in losses] == [("claude-code", "globs"), ("codex", "globs")]
    assert "**/*.ts, **/*.tsx" in losses[0].reason
    assert rule_losses(core, ["claude-code"]) == []
    [agent] = rules_of(tmp_path / "p2", helper="---\ndescription: Use for SQL\n---\nSQL.\n")
    [manual] = rules_of(tmp_path / "p3", manual="Only when asked.\n")
    assert activation(agent) == "agent"
    assert activation(manual) == "manual"
    assert [x.field for x in rule_losses(manual, ["gemini"])] == ["alwaysApply"]


def test_always_apply_as_a_string_is_not_always(tmp_path: Path) -> None:
    """``alwaysApply: "true"`` (a string) does not make a rule always-applied in Cursor."""
    [rule] = rules_of(tmp_path / "proj", r='---\nalwaysApply: "true"\nglobs: "*.py"\n---\nx\n')
    assert activation(rule) == "globs"


def test_a_malformed_rule_is_a_parse_error_naming_the_field(tmp_path: Path) -> None:
    """``globs: {a: 1}`` is neither a string nor a list: a clear error, not a silent skip."""
    with pytest.raises(ConfigParseError, match="globs"):
        rules_of(tmp_path / "proj", bad="---\nglobs: {a: 1}\n---\nx\n")


def test_rules_are_never_written(tmp_path: Path) -> None:
    """Planning a rule file yields no edits, whatever is desired."""
    proj = tmp_path / "proj"
    [rule] = rules_of(proj, typescript=TS_RULE)
    adapter = CursorAdapter()
    [cfg] = [f for f in adapter.discover(tmp_path, [proj]) if f.kinds == {"instruction"}]
    changed = rule.model_copy(update={"body_markdown": "other\n"})
    plan = adapter.plan(cfg, TS_RULE, {rule.key: changed})
    assert plan.edits == []
    assert apply_edits(Format.MARKDOWN, TS_RULE, plan.edits) == TS_RULE
    assert any(".cursor/rules" in n for n in adapter.capabilities().notes)
