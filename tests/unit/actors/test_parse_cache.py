"""ParseCache: one parse per file content, private copies, bounded; scan_file reuses it."""

from __future__ import annotations

from pathlib import Path

from actors._parse_cache import ParseCache
from actors._sync_io import PARSE_CACHE, scan_file, synced_files
from adapters.registry import load_adapters
from synapse._demo_sync import seed_sandbox


def test_a_hit_needs_the_same_content_hash() -> None:
    """A value is returned only for the sha256 it was stored under."""
    cache = ParseCache()
    cache.put("f", "sha-1", [["mcp_server", "a", {"command": "x"}]])
    assert cache.get("f", "sha-1") == [["mcp_server", "a", {"command": "x"}]]
    assert cache.get("f", "sha-2") is None
    assert cache.get("g", "sha-1") is None


def test_callers_get_private_copies() -> None:
    """Changing a returned value does not change what the next caller gets."""
    cache = ParseCache()
    cache.put("f", "s", [{"args": ["a"]}])
    first = cache.get("f", "s")
    first[0]["args"].append("mutated")
    assert cache.get("f", "s") == [{"args": ["a"]}]


def test_one_entry_per_file_and_bounded() -> None:
    """A new hash replaces the file's entry; beyond the bound the least recent file goes."""
    cache = ParseCache(max_files=2)
    cache.put("a", "1", [])
    cache.put("a", "2", [])
    assert len(cache) == 1
    cache.put("b", "1", [])
    cache.get("a", "2")
    cache.put("c", "1", [])
    assert cache.get("b", "1") is None
    assert cache.get("a", "2") == []
    assert cache.get("c", "1") == []


def test_scan_file_reuses_the_parse_of_unchanged_bytes(tmp_path: Path) -> None:
    """A rescan of unchanged bytes hits the cache and finds the same entities; an edit
    is parsed afresh."""
    paths = seed_sandbox(tmp_path)
    adapter = load_adapters()["gemini"]
    kinds = frozenset({"mcp_server"})
    cfg = next(f for f in synced_files(adapter, tmp_path, [], kinds) if f.path == paths["gemini"])
    first = scan_file(adapter, cfg, [tmp_path], kinds)
    hits = PARSE_CACHE.hits
    again = scan_file(adapter, cfg, [tmp_path], kinds)
    assert PARSE_CACHE.hits == hits + 1
    assert again == first
    cfg.path.write_text(cfg.path.read_text().replace('"filesystem"', '"fs2"', 1))
    edited = scan_file(adapter, cfg, [tmp_path], kinds)
    assert PARSE_CACHE.hits == hits + 1
    assert ("mcp_server", "fs2") in edited.entities
    assert ("mcp_server", "filesystem") not in edited.entities
