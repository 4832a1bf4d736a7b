"""Bad input never deletes, never overwrites, and always leaves an event and an alert."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import pytest

from actors._sync_io import scan_client
from actors.sync_service import SyncService, default_policy
from adapters.files import read_config
from adapters.registry import load_adapters
from events.store import EventStore, StoreConfig
from synapse._demo_sync import DEMO_ARG, demo_edit, seed_sandbox

GOOD = '{"mcpServers": {"filesystem": {"command": "npx", "args": []}}}'
BAD_CLAUDE: dict[str, bytes] = {
    "truncated": b'{"mcpServers": {"filesystem": {"comm',
    "empty": b"",
    "invalid-json": b'{"mcpServers": [}',
    "jsonc-in-strict-json": b'{\n // comment\n "mcpServers": {}}',
    "bom": b"\xef\xbb\xbf" + b'{"mcpServers": {}}',
    "duplicate-keys": b'{"mcpServers": {}, "mcpServers": {}}',
    "nan": b'{"mcpServers": {}, "n": NaN}',
    "deep-nesting": b'{"a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
    "over-1MiB": b'{"pad": "' + b"x" * (1024 * 1024 + 10) + b'"}',
    "binary": b'{"mcpServers": {}}\x00\x01\x02',
    "dotdot-name": b'{"mcpServers": {"../evil": {"command": "x"}}}',
    "nul-name": b'{"mcpServers": {"a\\u0000b": {"command": "x"}}}',
    "case-collision": b'{"mcpServers": {"Foo": {"command": "x"}, "foo": {"command": "y"}}}',
    "not-utf8": b'{"mcpServers": {"\xff\xfe": {}}}',
}


def system(tmp_path: Path) -> tuple[SyncService, dict[str, Path]]:
    home = tmp_path / "home"
    paths = seed_sandbox(home)
    store = EventStore(StoreConfig(backend="sqlite", sqlite_path=tmp_path / "events.sqlite"))
    adapters = load_adapters()
    service = SyncService(
        store,
        adapters,
        home=home,
        preimage_dir=tmp_path / "pre",
        policy=default_policy(list(adapters), "apply"),
    )
    service.scan()
    return service, paths


def types(service: SyncService) -> list[str]:
    return [type(service.store.decode(n)).__qualname__ for n in service.store.read(0, 100_000)]


@pytest.mark.parametrize("case", sorted(BAD_CLAUDE))
def test_bad_file_is_left_intact_alerted_and_deletes_nothing(tmp_path: Path, case: str) -> None:
    """A broken Claude file: bytes intact, ParseFailed + Alert, no server deleted anywhere."""
    service, paths = system(tmp_path)
    others = {c: p.read_bytes() for c, p in paths.items() if c != "claude-code"}
    paths["claude-code"].write_bytes(BAD_CLAUDE[case])
    for _ in range(3):  # the two-scan deletion rule must not fire either
        service.scan()
    assert paths["claude-code"].read_bytes() == BAD_CLAUDE[case]
    assert {c: p.read_bytes() for c, p in paths.items() if c != "claude-code"} == others
    seen = types(service)
    assert "ClientFile.ParseFailed" in seen
    assert "Alert.Raised" in seen
    assert "SyncLedger.EntityRemoved" not in seen


def test_symlink_outside_the_roots_is_refused(tmp_path: Path) -> None:
    """A config symlinked to a file outside the allowed roots is neither read nor written."""
    service, paths = system(tmp_path)
    outside = tmp_path / "outside.json"
    outside.write_text(GOOD)
    paths["cursor"].unlink()
    paths["cursor"].symlink_to(outside)
    demo_edit(service.home)
    service.scan()
    assert outside.read_text() == GOOD
    assert "ClientFile.ParseFailed" in types(service)
    assert DEMO_ARG in paths["qwen"].read_text(), "other clients still sync"


def test_file_vanishing_mid_read_is_unknown_not_a_deletion(tmp_path: Path) -> None:
    """A file removed between resolving and opening reads as absent; nothing is deleted."""
    service, paths = system(tmp_path)
    target = paths["rovodev"]
    saved = target.read_bytes()

    def vanish(real: Path) -> None:
        real.unlink()

    assert read_config(target, allowed_roots=[service.home], _before_open=vanish) is None
    for _ in range(3):
        service.scan()
    assert "ClientFile.Vanished" in types(service)
    assert "SyncLedger.EntityRemoved" not in types(service)
    assert all(b"filesystem" in p.read_bytes() for c, p in paths.items() if c != "rovodev")
    target.write_bytes(saved)


def test_disk_full_during_a_write_keeps_the_original(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ENOSPC while writing: originals byte-identical, WriteAbandoned + Alert, no temp left."""
    service, paths = system(tmp_path)
    before = {c: p.read_bytes() for c, p in paths.items() if c != "gemini"}
    demo_edit(service.home)

    def full(_fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)  # the filesystem boundary; nothing else is faked
    result = service.scan("gemini")
    monkeypatch.undo()
    assert result.written == []
    assert {c: p.read_bytes() for c, p in paths.items() if c != "gemini"} == before
    assert "SyncLedger.WriteAbandoned" in types(service)
    assert "Alert.Raised" in types(service)
    leftovers = [p for p in service.home.rglob(".synapse.*")]
    assert leftovers == []
    assert service.scan().written, "the next round, with space, writes"


def test_edit_between_scan_and_write_aborts_and_conflicts(tmp_path: Path) -> None:
    """A target edited after its last scan is not overwritten (compare-and-swap)."""
    service, paths = system(tmp_path)
    demo_edit(service.home)
    data = json.loads(paths["cursor"].read_text())
    data["mcpServers"]["filesystem"]["args"].append("/user-edit")
    paths["cursor"].write_text(json.dumps(data))
    report = scan_client(
        service.adapters["gemini"], service.home, roots=service.roots, kinds=service.policy.kinds
    )
    result = service.submit(report)
    assert str(paths["cursor"]) in result.abandoned
    assert "/user-edit" in paths["cursor"].read_text()
    assert [d["type"] for d in service.conflicts()] == ["Conflict"]
