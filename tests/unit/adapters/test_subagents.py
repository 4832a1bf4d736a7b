"""Subagents: per-client agent files ↔ canonical Subagent, surgical edits and loss reports."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.base import ClientAdapter, ConfigFile
from adapters.claude_code import ClaudeCodeAdapter
from adapters.codex import CodexAdapter
from adapters.copilot_cli import CopilotCliAdapter
from adapters.cursor import CursorAdapter
from adapters.formats import Format, load
from adapters.gemini_cli import GeminiCliAdapter
from adapters.opencode import OpenCodeAdapter
from adapters.qwen_code import QwenCodeAdapter
from adapters.rovodev import RovoDevAdapter
from events.client_config import Scope, Subagent
from events.errors import ConfigParseError, UnsafeInputError

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "agents"
HOME, PROJECT = Path("/home/user"), Path("/home/user/proj")
ALL = (
    ClaudeCodeAdapter,
    GeminiCliAdapter,
    QwenCodeAdapter,
    CopilotCliAdapter,
    OpenCodeAdapter,
    CodexAdapter,
    CursorAdapter,
    RovoDevAdapter,
)
GOLDEN = (
    (ClaudeCodeAdapter, "claude.code-reviewer.md", "code-reviewer"),
    (GeminiCliAdapter, "gemini.researcher.md", "researcher"),
    (QwenCodeAdapter, "qwen.tester.md", "tester"),
    (CopilotCliAdapter, "copilot.tester.agent.md", "tester"),
    (OpenCodeAdapter, "opencode.docs-writer.md", "docs-writer"),
    (CodexAdapter, "codex.tester.toml", "tester"),
)


def _file(adapter: ClientAdapter, name: str) -> ConfigFile:
    file = adapter.locate_subagent(name, Scope.PROJECT, HOME, PROJECT)
    assert file is not None
    return file


def _parse(adapter: ClientAdapter, name: str, text: str) -> Subagent:
    [agent] = adapter.parse(_file(adapter, name), text)
    assert isinstance(agent, Subagent)
    return agent


def _golden(adapter: ClientAdapter, fixture: str, name: str) -> tuple[str, Subagent]:
    text = (FIXTURES / fixture).read_text()
    return text, _parse(adapter, name, text)


def _claude() -> tuple[str, Subagent]:
    return _golden(ClaudeCodeAdapter(), "claude.code-reviewer.md", "code-reviewer")


def test_claude_agent_parses_to_canonical_fields_and_extras() -> None:
    """Claude frontmatter maps to canonical fields; color/hooks/memory/isolation are extras."""
    _, agent = _claude()
    assert agent.name == "code-reviewer"
    assert agent.scope is Scope.PROJECT
    assert agent.description.startswith("Reviews diffs")
    assert agent.prompt.startswith("You are a senior reviewer.")
    assert agent.model == "sonnet"
    assert agent.tools == (
        "read",
        "grep",
        "glob",
        "bash",
        "mcp:github/get_pull_request",
        "claude-code:Task",
    )
    assert agent.tools_deny == ("write",)
    assert agent.max_turns == 12
    assert agent.color == "blue"
    extras = agent.extras["claude-code"]
    assert extras["memory"] == "project"
    assert extras["isolation"] == "worktree"
    assert extras["permissionMode"] == "acceptEdits"
    assert extras["argument-hint"] == ["file"]
    assert "PostToolUse" in extras["hooks"]


def test_other_golden_agents_parse() -> None:
    """Gemini, Qwen, Copilot, OpenCode and Codex agents map to the same canonical fields."""
    _, gemini = _golden(GeminiCliAdapter(), "gemini.researcher.md", "researcher")
    assert gemini.tools == ("read", "grep", "webfetch")
    assert (gemini.model, gemini.temperature, gemini.max_turns) == ("gemini-2.5-pro", 0.2, 8)
    assert gemini.extras["gemini"] == {
        "kind": "local",
        "display_name": "Researcher",
        "timeout_mins": 5,
    }
    _, qwen = _golden(QwenCodeAdapter(), "qwen.tester.md", "tester")
    assert qwen.tools == ("read", "write", "bash")
    assert qwen.tools_deny == ("webfetch",)
    assert qwen.max_turns == 20
    assert qwen.extras["qwen"]["runConfig"] == {"max_time_minutes": 10}
    _, copilot = _golden(CopilotCliAdapter(), "copilot.tester.agent.md", "tester")
    assert copilot.tools == ("read", "grep", "bash", "mcp:github/create_issue")
    assert copilot.extras["copilot"] == {"target": "vscode"}
    _, opencode = _golden(OpenCodeAdapter(), "opencode.docs-writer.md", "docs-writer")
    assert opencode.name == "docs-writer"
    assert opencode.tools_deny == ("edit", "webfetch")
    assert opencode.max_turns == 15
    assert opencode.extras["opencode"]["permission"] == {"bash": {"git *": "allow", "*": "ask"}}
    assert opencode.extras["opencode"]["mode"] == "subagent"
    _, codex = _golden(CodexAdapter(), "codex.tester.toml", "tester")
    assert codex.prompt == "You write tests.\nRun them before you finish."
    assert codex.extras["codex"] == {"model_reasoning_effort": "high"}


@pytest.mark.parametrize(("cls", "fixture", "name"), GOLDEN)
def test_unchanged_agent_plans_no_edits(cls: type[ClientAdapter], fixture: str, name: str) -> None:
    """Planning a file's own agent yields no edits and no losses; the text is untouched."""
    adapter = cls()
    text, agent = _golden(adapter, fixture, name)
    file = _file(adapter, name)
    plan = adapter.plan(file, text, {agent.key: agent})
    assert (plan.edits, plan.losses) == ([], [])
    assert adapter.render(file, text, {agent.key: agent}).text == text


def test_field_edit_keeps_every_other_line_byte_identical() -> None:
    """Changing the description rewrites that key only; color, hooks and [file] survive."""
    adapter = ClaudeCodeAdapter()
    text, agent = _claude()
    changed = agent.model_copy(update={"description": "Reviews code."})
    new = adapter.render(_file(adapter, agent.name), text, {agent.key: changed}).text
    old_lines = [ln for ln in text.splitlines() if not ln.startswith("description:")]
    new_lines = [ln for ln in new.splitlines() if not ln.startswith("description:")]
    assert old_lines == new_lines
    assert "argument-hint: [file]" in new
    assert _parse(adapter, agent.name, new) == changed


def test_claude_to_claude_keeps_color_and_client_only_keys() -> None:
    """The agent-sync bug (color lost on a Claude round trip) does not happen."""
    adapter = ClaudeCodeAdapter()
    _, agent = _claude()
    user = adapter.locate_subagent(agent.name, Scope.USER, HOME)
    assert user is not None
    rendered = adapter.render(user, "", {agent.key: agent})
    assert rendered.losses == []
    [back] = adapter.parse(user, rendered.text)
    assert back.model_copy(update={"scope": agent.scope}) == agent
    assert back.color == "blue"


def test_update_from_another_client_leaves_claude_extras_alone() -> None:
    """A Gemini-sourced change (no Claude extras) edits fields, not hooks/memory/color."""
    adapter = ClaudeCodeAdapter()
    text, agent = _claude()
    from_gemini = Subagent(
        name=agent.name, description="New text", prompt=agent.prompt, max_turns=12, color="blue"
    )
    new = adapter.render(_file(adapter, agent.name), text, {agent.key: from_gemini}).text
    back = _parse(adapter, agent.name, new)
    assert back.extras == agent.extras
    assert back.description == "New text"


def test_claude_to_gemini_to_claude_keeps_core_and_reports_losses() -> None:
    """Name, description, prompt survive; Gemini gets only schema keys; the rest are losses."""
    claude, gemini = ClaudeCodeAdapter(), GeminiCliAdapter()
    _, agent = _claude()
    gfile = _file(gemini, agent.name)
    to_gemini = gemini.render(gfile, "", {agent.key: agent})
    lost = {loss.field for loss in to_gemini.losses}
    assert {"tools_deny", "color", "model"} <= lost
    assert {"extras.claude-code.hooks", "extras.claude-code.memory"} <= lost
    assert any("Task" in loss.reason for loss in to_gemini.losses if loss.field == "tools")
    front = load(Format.MARKDOWN, to_gemini.text)["frontmatter"]
    assert set(front) <= {"kind", "name", "description", "tools", "max_turns", "model"}
    [mid] = gemini.parse(gfile, to_gemini.text)
    assert isinstance(mid, Subagent)
    back = claude.render(_file(claude, agent.name), "", {mid.key: mid})
    [final] = claude.parse(_file(claude, agent.name), back.text)
    assert isinstance(final, Subagent)
    assert (final.name, final.description, final.prompt) == (
        agent.name,
        agent.description,
        agent.prompt,
    )
    assert final.tools == ("read", "grep", "glob", "bash")


def test_gemini_strict_schema_never_receives_unknown_own_keys() -> None:
    """A hand-added key in Gemini's own extras is reported, not written (it breaks Gemini)."""
    adapter = GeminiCliAdapter()
    agent = Subagent(
        name="r",
        description="d",
        extras={"gemini": {"display_name": "R", "color": "red"}},
    )
    rendered = adapter.render(_file(adapter, "r"), "", {agent.key: agent})
    front = load(Format.MARKDOWN, rendered.text)["frontmatter"]
    assert front["display_name"] == "R"
    assert "color" not in front
    assert [loss.field for loss in rendered.losses] == ["extras.gemini.color"]


def test_opencode_render_uses_permission_and_subagent_mode() -> None:
    """Denied tools become permission entries; allowlists and Claude model aliases are lost."""
    adapter = OpenCodeAdapter()
    _, agent = _claude()
    file = _file(adapter, agent.name)
    assert file.path == PROJECT / ".opencode/agents/code-reviewer.md"
    rendered = adapter.render(file, "", {agent.key: agent})
    front = load(Format.MARKDOWN, rendered.text)["frontmatter"]
    assert front["mode"] == "subagent"
    assert front["permission"] == {"edit": "deny"}
    assert front["steps"] == 12
    assert "name" not in front
    reasons = {loss.field: loss.reason for loss in rendered.losses}
    assert "tools" in reasons
    assert "model" in reasons
    assert "reads back as 'edit'" in reasons["tools_deny"]


def test_opencode_deny_changes_keep_other_permission_entries() -> None:
    """Dropping a denied tool removes its entry only; bash rules stay."""
    adapter = OpenCodeAdapter()
    text, agent = _golden(adapter, "opencode.docs-writer.md", "docs-writer")
    changed = agent.model_copy(update={"tools_deny": ("edit",)})
    new = adapter.render(_file(adapter, agent.name), text, {agent.key: changed}).text
    front = load(Format.MARKDOWN, new)["frontmatter"]
    assert front["permission"] == {"edit": "deny", "bash": {"git *": "allow", "*": "ask"}}
    assert _parse(adapter, agent.name, new) == changed


def test_copilot_coarse_tools_report_merges() -> None:
    """Copilot folds grep and glob into 'search': written once, the fold is reported."""
    adapter = CopilotCliAdapter()
    agent = Subagent(name="t", description="d", tools=("grep", "glob", "mcp:gh/*"))
    rendered = adapter.render(_file(adapter, "t"), "", {agent.key: agent})
    assert load(Format.MARKDOWN, rendered.text)["frontmatter"]["tools"] == ["search", "gh/*"]
    assert [loss.field for loss in rendered.losses] == ["tools"]


def test_codex_toml_agent_round_trips_and_loses_tools() -> None:
    """Codex keeps the prompt in developer_instructions and has no tool lists."""
    adapter = CodexAdapter()
    _, agent = _claude()
    slim = agent.model_copy(update={"model": "gpt-5-codex", "extras": {}})
    rendered = adapter.render(_file(adapter, agent.name), "", {agent.key: slim})
    assert {loss.field for loss in rendered.losses} == {"tools", "tools_deny", "max_turns", "color"}
    back = _parse(adapter, agent.name, rendered.text)
    assert (back.prompt, back.model, back.description) == (
        slim.prompt,
        "gpt-5-codex",
        slim.description,
    )


def test_tools_as_comma_string_or_list_parse_alike_and_keep_their_style() -> None:
    """`tools: A, B` and a YAML list are the same; an edit keeps the file's own style."""
    adapter = ClaudeCodeAdapter()
    csv = "---\nname: a\ndescription: d\ntools: Read, Grep\n---\nP\n"
    listed = "---\nname: a\ndescription: d\ntools:\n- Read\n- Grep\n---\nP\n"
    one, two = _parse(adapter, "a", csv), _parse(adapter, "a", listed)
    assert one == two
    assert one.tools == ("read", "grep")
    changed = two.model_copy(update={"tools": ("read",)})
    new = adapter.render(_file(adapter, "a"), listed, {two.key: changed}).text
    assert load(Format.MARKDOWN, new)["frontmatter"]["tools"] == ["Read"]


def test_unquoted_bracket_description_is_a_clear_error() -> None:
    """`description: [x]` parses as a YAML list; refuse it with a hint to quote it."""
    with pytest.raises(ConfigParseError, match="quote"):
        _parse(ClaudeCodeAdapter(), "a", "---\nname: a\ndescription: [x]\n---\nP\n")


def test_inherit_model_is_the_default() -> None:
    """`model: inherit` is canonical None and stays in the file when other fields change."""
    adapter = QwenCodeAdapter()
    text = "---\nname: a\ndescription: d\nmodel: inherit\n---\nP\n"
    agent = _parse(adapter, "a", text)
    assert agent.model is None
    new = adapter.render(
        _file(adapter, "a"), text, {agent.key: agent.model_copy(update={"description": "e"})}
    ).text
    assert "model: inherit" in new


def test_delete_removes_the_file() -> None:
    """A None target deletes the agent file."""
    adapter = ClaudeCodeAdapter()
    text, agent = _claude()
    plan = adapter.plan(_file(adapter, agent.name), text, {agent.key: None})
    assert plan.delete_file


@pytest.mark.parametrize("hostile", ["../etc", "a/b", ".hidden", "nul\x00", "x" * 300])
def test_hostile_agent_names_are_refused(hostile: str) -> None:
    """Names that could leave the agents directory are refused on locate and on parse."""
    adapter = ClaudeCodeAdapter()
    with pytest.raises(UnsafeInputError):
        adapter.locate_subagent(hostile, Scope.USER, HOME)
    text = f"---\nname: {hostile.encode('unicode_escape').decode()!r}\n---\nP\n"
    with pytest.raises(UnsafeInputError, match="refusing"):
        _parse(adapter, "ok", text.replace("'", '"'))


def test_agent_files_are_discovered(tmp_path: Path) -> None:
    """discover() lists existing agent files of both scopes; other suffixes are skipped."""
    adapter = CopilotCliAdapter()
    project = tmp_path / "proj"
    (project / ".github/agents").mkdir(parents=True)
    (project / ".github/agents/tester.agent.md").write_text("---\nname: tester\n---\n")
    (project / ".github/agents/notes.md").write_text("x")
    (tmp_path / ".copilot/agents").mkdir(parents=True)
    (tmp_path / ".copilot/agents/mine.agent.md").write_text("---\nname: mine\n---\n")
    files = [f for f in adapter.discover(tmp_path, [project]) if "subagent" in f.kinds]
    assert [(f.path.name, f.scope) for f in files] == [
        ("mine.agent.md", Scope.USER),
        ("tester.agent.md", Scope.PROJECT),
    ]


@pytest.mark.parametrize("cls", ALL)
def test_every_client_declares_subagent_capabilities(cls: type[ClientAdapter]) -> None:
    """capabilities() reports subagent fields; Rovo Dev says it has no skills."""
    caps = cls().capabilities()
    assert caps.supports("subagent", "prompt")
    assert caps.supports("skill", "content_sha256") is (cls is not RovoDevAdapter)
    assert ("no skills" in caps.notes) is (cls is RovoDevAdapter)


_MODELS = {
    "claude-code": ["sonnet", "claude-opus-4-1"],
    "gemini": ["gemini-2.5-pro"],
    "codex": ["gpt-5-codex"],
    "opencode": ["anthropic/claude-sonnet-4-5"],
}
_TEXT = st.text(st.sampled_from("abcXYZ 019.,:#-'\"[]{}!?é"), max_size=30)
_BODY = st.text(st.sampled_from("ab \n#-*`$@{}é"), max_size=60)


@st.composite
def _agents(draw: st.DrawFn, cls: type[ClientAdapter]) -> Subagent:
    dialect = cls.subagent_dialect
    assert dialect is not None
    values: dict[str, object] = {}
    vocab = dialect.tools
    refs = ["mcp:srv/tool", "mcp:srv/*", f"{dialect.client}:Custom"]
    if vocab is not None:
        refs += [r for r in vocab.native if vocab.to_native(r)[1] is None]
    for field in dialect.keys:
        if not draw(st.booleans()):
            continue
        if field == "description":
            values[field] = draw(_TEXT)
        elif field == "model":
            values[field] = draw(st.sampled_from(_MODELS.get(dialect.client, ["qwen3-coder"])))
        elif field in {"tools", "tools_deny"}:
            usable = [r for r in refs if vocab is not None and vocab.to_native(r)[1] is None]
            low = 1 if dialect.deny_as_permission else 0
            values[field] = tuple(
                draw(st.lists(st.sampled_from(usable), min_size=low, max_size=4, unique=True))
            )
        elif field == "max_turns":
            values[field] = draw(st.integers(1, 500))
        elif field == "temperature":
            values[field] = draw(st.sampled_from([0.0, 0.25, 1.0, 1.5]))
        else:
            values[field] = draw(st.sampled_from(["blue", "#ff8800"]))
    name = draw(st.from_regex(r"[a-z][a-z0-9-]{0,12}", fullmatch=True))
    return Subagent(name=name, scope=Scope.PROJECT, prompt=draw(_BODY), **values)  # type: ignore[arg-type]


@pytest.mark.parametrize("cls", ALL)
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_parse_of_render_is_identity_on_supported_fields(
    cls: type[ClientAdapter], data: st.DataObject
) -> None:
    """For every field a client supports, parse(render(agent)) == agent, with no losses."""
    adapter = cls()
    agent = data.draw(_agents(cls))
    file = _file(adapter, agent.name)
    rendered = adapter.render(file, "", {agent.key: agent})
    assert rendered.losses == []
    back = _parse(adapter, agent.name, rendered.text)
    assert back.synced() == agent.synced()
    assert adapter.plan(file, rendered.text, {agent.key: back}).edits == []
