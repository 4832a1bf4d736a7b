"""A long-used ``~/.claude.json`` (tens of MB of per-project history) is read, synced and
edited surgically; the large-text JSON path agrees with the full parser."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from actors._sync_io import PARSE_CACHE, scan_file
from actors.sync_service import SyncService, default_policy
from adapters.files import MAX_CONFIG_BYTES
from adapters.formats import DELETE, Edit, Format, _jsonc_lazy, apply_edits, load
from adapters.formats._jsonc_edit import _apply
from adapters.registry import load_adapters
from benchmarks._claude_state import claude_state
from events.errors import ConfigParseError
from events.store import EventStore, StoreConfig
from synapse._demo_sync import DEMO_ARG, demo_edit, seed_sandbox

SIZE = 20 * 1024 * 1024
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


def grow_claude_state(home: Path, size: int = SIZE) -> str:
    """Replace the sandbox's ``~/.claude.json`` by a long-used one keeping its servers."""
    path = home / ".claude.json"
    state = claude_state(size, projects=100)
    state["mcpServers"] = json.loads(path.read_text())["mcpServers"]
    text = json.dumps(state, indent=2, ensure_ascii=False) + "\n"
    path.write_text(text)
    return text


def service_on(tmp_path: Path) -> SyncService:
    home = tmp_path / "home"
    seed_sandbox(home)
    adapters = load_adapters()
    store = EventStore(StoreConfig(backend="sqlite", sqlite_path=tmp_path / "events.sqlite"))
    return SyncService(
        store,
        adapters,
        home=home,
        preimage_dir=tmp_path / "pre",
        policy=default_policy(list(adapters), "apply"),
    )


def test_large_state_is_scanned_and_an_edit_writes_only_the_servers_bytes(
    tmp_path: Path,
) -> None:
    """A 20 MB ``~/.claude.json`` (over the old 1 MiB limit) is scanned, its servers agree
    with the other clients, and an edit made in Gemini reaches it changing only the bytes of
    that one server: the history and everything else stay byte-identical."""
    service = service_on(tmp_path)
    before = grow_claude_state(service.home)
    assert len(before) > 10 * MAX_CONFIG_BYTES
    service.scan()
    claude = load_adapters()["claude-code"]
    cfg = claude.discover(service.home, [])[0]
    scan = scan_file(claude, cfg, [service.home], frozenset({"mcp_server"}))
    assert scan.error is None
    assert sorted(name for _, name in scan.entities) == ["filesystem", "github"]

    demo_edit(service.home)
    service.scan()
    after = (service.home / ".claude.json").read_text()
    assert DEMO_ARG in after
    head = next(i for i, (a, b) in enumerate(zip(before, after, strict=False)) if a != b)
    tail = next(i for i in range(1, len(before)) if before[-i] != after[-i]) - 1
    server = before.index('"filesystem": {', before.rindex('\n  "mcpServers": {'))
    server_end = before.index("\n    }", server)
    assert server < head, "everything before the server is byte-identical"
    assert len(before) - tail <= server_end + len("\n    }"), "and everything after it"
    expected = json.loads(before)
    expected["mcpServers"]["filesystem"]["args"].append(DEMO_ARG)
    assert json.loads(after) == expected


def test_unchanged_large_state_is_hashed_not_parsed_again(tmp_path: Path) -> None:
    """Rescanning an unchanged large ``~/.claude.json`` reuses its parse (one read and one
    hash); a changed byte parses it again."""
    home = tmp_path / "home"
    seed_sandbox(home)
    grow_claude_state(home, 2 * MAX_CONFIG_BYTES)
    claude = load_adapters()["claude-code"]
    cfg = claude.discover(home, [])[0]
    kinds = frozenset({"mcp_server"})
    first = scan_file(claude, cfg, [home], kinds)
    hits, misses = PARSE_CACHE.hits, PARSE_CACHE.misses
    again = scan_file(claude, cfg, [home], kinds)
    assert (PARSE_CACHE.hits, PARSE_CACHE.misses) == (hits + 1, misses)
    assert again == first
    cfg.path.write_text(cfg.path.read_text().replace('"numStartups": 1432', '"numStartups": 1433'))
    scan_file(claude, cfg, [home], kinds)
    assert PARSE_CACHE.misses == misses + 1


LARGE_BAD = {
    "duplicate key": '{"a": 1, "a": 2, "pad": "%s"}',
    "duplicate key deep": '{"pad": "%s", "p": {"x": [{"k": 1, "k": 2}]}}',
    "NaN": '{"pad": "%s", "p": {"n": NaN}}',
    "Infinity": '{"pad": "%s", "p": [-Infinity]}',
    "out of range": '{"pad": "%s", "p": [1e999]}',
    "trailing comma": '{"pad": "%s", "p": [1, 2,]}',
    "top-level trailing comma": '{"pad": "%s",}',
    "comment": '{"pad": "%s", // no\n "p": 1}',
    "nesting deeper than 64": '{"pad": "%s", "p": ' + "[" * 70 + "]" * 70 + "}",
    "unpaired surrogate": '{"pad": "%s", "p": ["\\ud800"]}',
    "content after": '{"pad": "%s"} {}',
    "truncated": '{"pad": "%s", "p": {"q": ',
}


@pytest.mark.parametrize("case", sorted(LARGE_BAD))
def test_large_strict_json_is_refused_like_the_full_parser_refuses_it(case: str) -> None:
    """Past the large-text threshold, every input the full parser refuses is still refused,
    by both the loader and the editor, with a ConfigParseError naming line and column."""
    text = LARGE_BAD[case] % ("x" * _jsonc_lazy.LAZY_FROM)
    with pytest.raises(ConfigParseError, match=r"line \d+, column \d+"):
        load(Format.JSON, text)
    with pytest.raises(ConfigParseError):
        apply_edits(Format.JSON, text, [Edit(("pad",), "y")])


KEYS = st.sampled_from(["a", "b", "mcpServers", "projects", 'q"', "é"])
SCALARS = st.none() | st.booleans() | st.integers(-(10**6), 10**6) | st.text(max_size=5)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS, inner, max_size=3),
    max_leaves=10,
)
EDITS = st.lists(
    st.tuples(st.lists(KEYS, min_size=1, max_size=4).map(tuple), VALUES | st.just(DELETE)),
    min_size=1,
    max_size=4,
)


def _eager(text: str, edits: list[Edit]) -> str:
    for edit in edits:
        text = _apply(text, edit.path, edit.value, strict=True)
    return text


@settings(max_examples=150)
@given(
    doc=st.dictionaries(KEYS, VALUES, max_size=4), indent=st.sampled_from([None, 2, 4]), raw=EDITS
)
def test_the_large_text_path_edits_exactly_like_the_full_parser(
    doc: dict[str, Any], indent: int | None, raw: list[Any]
) -> None:
    """With the threshold lowered to zero, every document takes the large-text path: its
    loads and its edits (cut out, edited, put back) are byte-for-byte those of the full
    parser, errors included."""
    text = json.dumps(doc, indent=indent)
    edits = [Edit(path, value) for path, value in raw]
    try:
        expected: str | type[Exception] = _eager(text, edits)
    except (ValueError, TypeError) as e:
        expected = type(e)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_jsonc_lazy, "LAZY_FROM", 0)
        assert load(Format.JSON, text) == doc
        if isinstance(expected, str):
            assert apply_edits(Format.JSON, text, edits) == expected
        else:
            with pytest.raises(expected):
                apply_edits(Format.JSON, text, edits)


def test_the_real_claude_file_edits_the_same_on_both_paths(monkeypatch: pytest.MonkeyPatch) -> None:
    """Claude's real ``~/.claude.json`` (golden fixture): a local-scope and a user-scope
    server edit give the same bytes on the large-text path as on the full parser."""
    text = (FIXTURES / "claude-code" / "home.claude.json").read_text()
    edits = [
        Edit(("projects", "/home/user/proj", "mcpServers", "new"), {"command": "x", "args": []}),
        Edit(("mcpServers", "fs-user", "args"), ["/opt/server.js"]),
        Edit(("mcpServers", "loophttp"), DELETE),
    ]
    expected = _eager(text, edits)
    monkeypatch.setattr(_jsonc_lazy, "LAZY_FROM", 0)
    assert apply_edits(Format.JSON, text, edits) == expected
