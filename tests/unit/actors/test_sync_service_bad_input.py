"""Bad input never deletes, never overwrites, and always leaves an event and an alert."""

from __future__ import annotations

import errno
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from actors._sync_io import scan_client
from actors.sync_service import SyncService, default_policy
from adapters.files import MAX_CONFIG_BYTES, MAX_LARGE_CONFIG_BYTES, read_config
from adapters.registry import load_adapters
from events.store import EventStore, StoreConfig
from synapse._demo_sync import DEMO_ARG, add_claude_entities, demo_edit, seed_sandbox

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


@pytest.mark.parametrize(
    ("client", "limit"),
    [("gemini", MAX_CONFIG_BYTES), ("claude-code", MAX_LARGE_CONFIG_BYTES)],
)
def test_file_over_its_limit_is_refused_and_deletes_nothing(
    tmp_path: Path, client: str, limit: int
) -> None:
    """A file one byte over its limit (1 MiB; 256 MiB for ``~/.claude.json``, which Claude
    grows with history) is refused by its size alone: ParseFailed naming the limit, the file
    untouched, no server deleted anywhere."""
    service, paths = system(tmp_path)
    target = paths[client]
    head = target.read_bytes()
    with target.open("r+b") as f:
        f.truncate(limit + 1)  # sparse: nothing is written, the size alone must refuse it
    for _ in range(3):
        service.scan()
    errors = [getattr(e, "error", "") for e in events_of(service, "ClientFile.ParseFailed")]
    assert any(f"over the {limit} byte limit" in e for e in errors), errors
    assert target.stat().st_size == limit + 1
    with target.open("rb") as f:
        assert f.read(len(head)) == head
    assert "SyncLedger.EntityRemoved" not in types(service)


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


def events_of(service: SyncService, name: str) -> list[object]:
    return [
        e
        for e in (service.store.decode(n) for n in service.store.read(0, 100_000))
        if type(e).__qualname__ == name
    ]


def special_file(path: Path, kind: str) -> socket.socket | None:
    """Put a FIFO or a bound unix socket at ``path`` (the socket is returned to close)."""
    if kind == "fifo":
        os.mkfifo(path)
        return None
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    here = Path.cwd()
    os.chdir(path.parent)  # a socket path is limited to 108 bytes; bind the short name
    try:
        sock.bind(path.name)
    finally:
        os.chdir(here)
    return sock


@pytest.mark.timeout(60)
@pytest.mark.parametrize("kind", ["fifo", "socket"])
def test_special_file_in_commands_is_refused_not_waited_on(tmp_path: Path, kind: str) -> None:
    """A FIFO or socket in ~/.claude/commands: the scan returns, the file's scan error names
    it, an alert is raised, and the command it replaced is not deleted anywhere."""
    service, _ = system(tmp_path)
    command = add_claude_entities(service.home)[0]
    service.scan()
    gemini = next(service.home.glob(".gemini/commands/*.toml"))
    command.unlink()
    sock = special_file(command, kind)  # where the command file was
    extra = special_file(command.with_name("other.md"), kind)
    try:
        for _ in range(3):  # the two-scan deletion rule must not fire either
            service.scan()
    finally:
        for s in (sock, extra):
            if s is not None:
                s.close()
    errors = [getattr(e, "error", "") for e in events_of(service, "ClientFile.ParseFailed")]
    assert any(f"not a regular file ({kind})" in e and str(command) in e for e in errors)
    assert "Alert.Raised" in types(service)
    assert "SyncLedger.EntityRemoved" not in types(service)
    assert gemini.exists(), "the command's copy in another client is kept"


@pytest.mark.timeout(60)
def test_fifo_inside_a_skill_does_not_hang_the_copy(tmp_path: Path) -> None:
    """A FIFO inside a skill directory: the round returns, the skill is refused and named
    in the plan, nothing of it is copied, other skills still are."""
    service, _ = system(tmp_path)
    skill_md = add_claude_entities(service.home)[2]
    os.mkfifo(skill_md.parent / "pipe")
    good = service.home / ".claude/skills/other/SKILL.md"
    good.parent.mkdir(parents=True)
    good.write_text("---\nname: other\ndescription: Another skill\n---\nBody\n")
    service.scan()
    refused = [d for d in service.plan().decisions if d.get("type") == "PlacementRefused"]
    assert [d["name"] for d in refused] == ["changelog"]
    assert "pipe: not a regular file (fifo)" in refused[0]["reason"]
    copies = [p for p in service.home.rglob("SKILL.md") if p.parent.name == skill_md.parent.name]
    assert copies == [skill_md], "the skill holding a FIFO is not copied"
    assert len([p for p in service.home.rglob("other/SKILL.md")]) > 1, "others are"


#: Imports first: the interpreter's own files may be unreadable to ``nobody``.
_AS_NOBODY = """
import json, os, sys
from pathlib import Path
from actors.sync_service import SyncService, default_policy
from adapters.registry import load_adapters
from events.store import EventStore, StoreConfig
from synapse._demo_sync import demo_edit
os.setgid(65534)
os.setuid(65534)
base = Path(sys.argv[1])
home = base / "home"
store = EventStore(StoreConfig(backend="sqlite", sqlite_path=base / "events.sqlite"))
adapters = load_adapters()
service = SyncService(store, adapters, home=home, preimage_dir=base / "pre",
                      policy=default_policy(list(adapters), "apply"))
service.scan()
(home / ".claude.json").chmod(0)
demo_edit(home)
service.scan()
errors = [getattr(e, "error", "") for e in map(store.decode, store.read(0, 100000))]
print(json.dumps([e for e in errors if e]))
"""


def test_unreadable_file_is_reported_as_permission_denied(tmp_path: Path) -> None:
    """A client file its owner made unreadable (chmod 000, Synapse not root): the round
    still completes, the file's scan error says "permission denied" (not "changed"), and
    the other clients still sync. Run as ``nobody``: root ignores file modes."""
    base = Path(tempfile.mkdtemp(prefix="synapse-perm-"))
    try:
        paths = seed_sandbox(base / "home")
        for here, dirs, files in os.walk(base):
            for name in [*dirs, *files]:
                os.chown(Path(here) / name, 65534, 65534, follow_symlinks=False)
        os.chown(base, 65534, 65534)
        run = subprocess.run(
            [sys.executable, "-c", _AS_NOBODY, str(base)],
            capture_output=True,
            text=True,
            cwd=Path(__file__).resolve().parents[3],
            timeout=120,
            check=False,
        )
        assert run.returncode == 0, run.stderr[-2000:]
        errors = json.loads(run.stdout.splitlines()[-1])
        assert any("permission denied" in e and ".claude.json" in e for e in errors), errors
        assert not any("changed" in e for e in errors if ".claude.json" in e)
        assert DEMO_ARG in paths["qwen"].read_text(), "other clients still sync"
    finally:
        shutil.rmtree(base)
