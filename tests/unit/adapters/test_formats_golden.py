"""Golden round trips and surgical edits on real files written by the client CLIs."""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest

from adapters.formats import DELETE, Edit, Format, apply_edits, load
from events.errors import ConfigParseError

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "formats"

GOLDEN = [
    ("claude/home.claude.json", Format.JSON),
    ("claude/project.mcp.json", Format.JSON),
    ("claude/project.mcp.json.v2.1.330", Format.JSON),
    ("copilot/config.json", Format.JSON),
    ("copilot/mcp-config.json", Format.JSON),
    ("copilot/settings.json", Format.JSON),
    ("gemini/home.settings.json", Format.JSONC),
    ("gemini/project.settings.json", Format.JSONC),
    ("qwen/home.settings.json", Format.JSONC),
    ("qwen/home.settings.json.orig", Format.JSONC),
    ("qwen/migrated-from-v1.settings.json", Format.JSONC),
    ("qwen/project.settings.json", Format.JSONC),
    ("opencode/home.opencode.jsonc", Format.JSONC),
    ("opencode/project.opencode.jsonc", Format.JSONC),
    ("codex/home.config.toml", Format.TOML),
    ("codex/project.config.toml", Format.TOML),
    ("codex/after-mcp-add-comments-dropped.toml", Format.TOML),
    ("rovodev.config.yml", Format.YAML),
]


def _read(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def _changed_lines(before: str, after: str) -> list[str]:
    diff = difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
    return [line for line in diff if line[:1] in "+-" and line[:3] not in ("+++", "---")]


@pytest.mark.parametrize(("name", "fmt"), GOLDEN)
def test_real_file_loads_and_round_trips_byte_identical(name: str, fmt: Format) -> None:
    """Every real client file loads in its format and survives a no-edit pass byte-identically."""
    text = _read(name)
    assert isinstance(load(fmt, text), dict)
    assert apply_edits(fmt, text, []) == text


@pytest.mark.parametrize(("name", "fmt"), GOLDEN)
def test_setting_existing_values_returns_the_same_string(name: str, fmt: Format) -> None:
    """Re-setting every top-level key to its current value changes nothing at all."""
    text = _read(name)
    data = load(fmt, text)
    edits = [Edit((key,), value) for key, value in data.items()]
    assert apply_edits(fmt, text, edits) is text or apply_edits(fmt, text, edits) == text


@pytest.mark.parametrize(
    "name",
    [
        "gemini/home.settings.json",
        "qwen/home.settings.json",
        "opencode/project.opencode.jsonc",
    ],
)
def test_commented_files_are_refused_as_strict_json(name: str) -> None:
    """JSONC files with // comments are errors in strict JSON, naming line and column."""
    with pytest.raises(ConfigParseError, match=r"comments are not allowed.*line 2, column 3"):
        load(Format.JSON, _read(name))


def test_gemini_arg_change_touches_one_line_and_keeps_comment() -> None:
    """Changing one server arg in Gemini settings keeps the // comment and every other byte."""
    text = _read("gemini/home.settings.json")
    out = apply_edits(Format.JSONC, text, [Edit(("mcpServers", "fsuser", "excludeTools", 0), "d")])
    assert _changed_lines(text, out) == ['-        "c",', '+        "d",']
    assert "// user comment must survive?" in out
    assert load(Format.JSONC, out)["mcpServers"]["fsuser"]["excludeTools"][0] == "d"


def test_gemini_new_server_is_appended_in_file_style() -> None:
    """A new server lands after the last one, 2-space indented like Gemini writes it."""
    text = _read("gemini/project.settings.json")
    server = {"command": "node", "args": ["a.js"], "timeout": 20}
    out = apply_edits(Format.JSONC, text, [Edit(("mcpServers", "new"), server)])
    assert out.startswith(text[: text.rindex("    }\n  }")])
    assert out.endswith(
        '    },\n    "new": {\n      "command": "node",\n      "args": [\n        "a.js"\n'
        '      ],\n      "timeout": 20\n    }\n  }\n}'
    )
    assert load(Format.JSONC, out)["mcpServers"]["new"] == server


def test_deleting_a_server_removes_member_and_comma_cleanly() -> None:
    """Deleting the last server also removes the dangling comma; strict JSON stays valid."""
    text = _read("copilot/mcp-config.json")
    out = apply_edits(Format.JSON, text, [Edit(("mcpServers", "remsse"), DELETE)])
    data = load(Format.JSON, out)
    assert list(data["mcpServers"]) == ["ctx", "remhttp"]
    assert out == text.replace(
        ',\n    "remsse": {\n      "tools": [\n        "*"\n      ],\n      "type": "sse",\n'
        '      "url": "http://127.0.0.1:9/sse"\n    }',
        "",
    )


def test_delete_removes_same_line_comment_with_member() -> None:
    """A member's trailing // comment goes with it; comments elsewhere stay."""
    text = '{\n  // keep\n  "a": 1, // about a\n  "b": 2\n}\n'
    out = apply_edits(Format.JSONC, text, [Edit(("a",), DELETE)])
    assert out == '{\n  // keep\n  "b": 2\n}\n'


def test_add_server_to_empty_object_and_missing_key() -> None:
    """New servers go into `{}` and into files without `mcpServers`, as pretty strict JSON."""
    server = {"command": "npx", "args": ["-y", "x"]}
    for text in ("{}", "{}\n", '{\n  "otherTop": 1\n}\n'):
        out = apply_edits(Format.JSON, text, [Edit(("mcpServers", "gh"), server)])
        assert load(Format.JSON, out)["mcpServers"] == {"gh": server}
        assert '\n  "mcpServers": {\n    "gh": {\n      "command": "npx",' in out
    out = apply_edits(Format.JSON, '{\n  "otherTop": 1\n}\n', [Edit(("mcpServers", "gh"), server)])
    assert out.startswith('{\n  "otherTop": 1,\n  "mcpServers": {')
    assert out.endswith("  }\n}\n")


def test_compact_single_line_file_stays_compact() -> None:
    """A one-line file gets its new key inline, in its own separator style."""
    text = _read("copilot/config.json")
    out = apply_edits(Format.JSON, text, [Edit(("trusted_folders", 1), "/x")])
    assert out == '{"trusted_folders":["/home/user/proj","/x"]}\n'


def test_inline_opencode_object_keeps_layout_and_comment() -> None:
    """Editing inside OpenCode's one-line objects keeps them one line and keeps the comment."""
    text = _read("opencode/project.opencode.jsonc")
    out = apply_edits(
        Format.JSONC,
        text,
        [Edit(("mcp", "projsrv", "enabled"), True), Edit(("permission", "bash"), DELETE)],
    )
    expected = text.replace('"enabled": false', '"enabled": true').replace(
        '"permission": { "bash": { "git *": "allow", "*": "ask" }, "edit"', '"permission": { "edit"'
    )
    assert out == expected
    assert '"enabled": true' in out
    assert '  "permission": { "edit": "ask" }\n' in out
    assert "// project comment" in out


def test_number_formats_survive_edits_elsewhere() -> None:
    """Unrelated numbers keep their spelling (20 stays 20, 1.50 stays 1.50, 1e3 stays 1e3)."""
    text = '{\n  "a": 20,\n  "b": 1.50,\n  "c": 1e3,\n  "d": "x"\n}\n'
    out = apply_edits(Format.JSONC, text, [Edit(("d",), "y")])
    assert out == text.replace('"x"', '"y"')


def test_codex_delete_server_keeps_other_comments() -> None:
    """Deleting a Codex server removes its section; header, inline and other comments stay."""
    text = _read("codex/home.config.toml")
    out = apply_edits(Format.TOML, text, [Edit(("mcp_servers", "remote"), DELETE)])
    assert "[mcp_servers.remote]" not in out
    assert 'bearer_token_env_var = "MY_TOKEN"' not in out
    assert out.startswith("# my codex config - comment must survive\n")
    assert 'model = "gpt-5-codex"   # inline comment\n' in out
    assert "[unknown_future_table]\nkeep_me = true\n" in out
    assert set(load(Format.TOML, out)["mcp_servers"]) == {"withenv", "projadd"}


def test_codex_number_format_and_comments_survive_an_edit() -> None:
    """20 stays 20 and the profile comment stays when another key changes (unlike codex#45432)."""
    text = _read("codex/project.config.toml")
    out = apply_edits(Format.TOML, text, [Edit(("mcp_servers", "projsrv", "cwd"), "/other")])
    assert _changed_lines(text, out) == ['-cwd = "/home/user/proj"', '+cwd = "/other"']
    text = _read("codex/after-mcp-add-comments-dropped.toml")
    out = apply_edits(Format.TOML, text, [Edit(("model",), "gpt-5")])
    assert 'model = "gpt-5-mini"  # profile comment' in out
    assert "startup_timeout_sec = 20.0" in out


def test_codex_new_server_goes_in_as_quoted_section_after_related_ones() -> None:
    """A server named `a.b` becomes `[mcp_servers."a.b"]` after the last mcp_servers section."""
    text = _read("codex/home.config.toml")
    server = {"command": "x", "args": ["y"], "env": {"K": "v"}}
    out = apply_edits(Format.TOML, text, [Edit(("mcp_servers", "a.b"), server)])
    added = (
        '[mcp_servers."a.b"]\ncommand = "x"\nargs = ["y"]\n\n[mcp_servers."a.b".env]\nK = "v"\n\n'
    )
    projects = '[projects."/home/user/proj"]'
    assert out == text.replace(projects, added + projects)
    assert load(Format.TOML, out)["mcp_servers"]["a.b"] == server


def test_codex_servers_table_created_in_file_without_one() -> None:
    """With no mcp_servers yet, a server becomes one `[mcp_servers.name]` section at the end."""
    out = apply_edits(Format.TOML, 'model = "m"\n', [Edit(("mcp_servers", "n"), {"command": "c"})])
    assert out == 'model = "m"\n\n[mcp_servers.n]\ncommand = "c"\n'


def test_rovodev_yaml_edit_changes_only_edited_lines() -> None:
    """A YAML edit keeps comments, flow-style spacing and every untouched line."""
    text = _read("rovodev.config.yml")
    out = apply_edits(Format.YAML, text, [Edit(("agent", "temperature"), 0.5)])
    assert _changed_lines(text, out) == ["-  temperature: 0.3", "+  temperature: 0.5"]
    out = apply_edits(Format.YAML, text, [Edit(("toolPermissions", "bash", "default"), DELETE)])
    assert _changed_lines(text, out) == ["-    default: ask"]
    assert "# bash.env must be preserved" in out
