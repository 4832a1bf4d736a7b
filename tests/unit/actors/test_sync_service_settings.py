"""Opt-in settings synced end to end: real files, a real SQLite event store, no Ray."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from actors._sync_io import synced_files
from actors.sync_service import SyncService, default_policy
from adapters.claude_code import ClaudeCodeAdapter
from adapters.registry import load_adapters
from events.store import EventStore, StoreConfig
from events.sync import SyncLedger
from synapse.settings import SyncSettings

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "settings"
CLIENTS = ("claude-code", "copilot", "gemini", "qwen")
#: client → (fixture, path under home)
FILES = {
    "claude-code": ("claude.settings.json", ".claude/settings.json"),
    "copilot": ("copilot.settings.json", ".copilot/settings.json"),
    "gemini": ("gemini.settings.json", ".gemini/settings.json"),
    "qwen": ("qwen.settings.json", ".qwen/settings.json"),
}
REFUSED = "full-access approval modes are never synced"


def seed(home: Path) -> dict[str, Path]:
    """Copy each client's settings fixture into ``home``; return the paths by client."""
    paths = {}
    for client, (fixture, rel) in FILES.items():
        path = home / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(FIXTURES / fixture, path)
        paths[client] = path
    return paths


def service(
    tmp_path: Path, settings: dict[str, list[str]] | None, **kw: object
) -> tuple[SyncService, dict[str, Path]]:
    """An apply-mode orchestrator over the four clients with ``[settings]`` as given."""
    home = tmp_path / "home"
    paths = seed(home)
    adapters = {c: a for c, a in load_adapters().items() if str(c) in CLIENTS}
    if settings is None:
        policy = default_policy(list(adapters), "apply")
    else:
        sync = SyncSettings.model_validate({"mode": "apply", "settings": settings, **kw})
        policy = sync.policy([str(c) for c in adapters])
    store = EventStore(StoreConfig(backend="sqlite", sqlite_path=tmp_path / "events.sqlite"))
    svc = SyncService(store, adapters, home=home, preimage_dir=tmp_path / "pre", policy=policy)
    svc.scan()
    return svc, paths


def edit(path: Path, old: str, new: str) -> None:
    """Replace ``old`` by ``new`` once in ``path``."""
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


def losses(svc: SyncService) -> list[tuple[str, str]]:
    """Every ``(client, reason)`` of a recorded lossy translation."""
    out = []
    for n in svc.store.read(0, 100_000):
        event = svc.store.decode(n)
        if isinstance(event, SyncLedger.TranslationLossy):
            out.append((event.client, event.reason))
    return out


def test_nothing_is_synced_without_opt_in(tmp_path: Path) -> None:
    """Default policy: a model edit in Claude plans and writes nothing anywhere."""
    svc, paths = service(tmp_path, None)
    assert "setting" not in svc.policy.kinds
    before = {c: p.read_bytes() for c, p in paths.items()}
    edit(paths["claude-code"], '"model": "opus"', '"model": "sonnet"')
    result = svc.scan("claude-code")
    assert result.written == []
    assert {c: p.read_bytes() for c, p in paths.items() if c != "claude-code"} == {
        c: b for c, b in before.items() if c != "claude-code"
    }
    assert svc.plan().changes == []


def test_setting_kind_listed_but_no_setting_opted_in_syncs_nothing(tmp_path: Path) -> None:
    """Naming the kind is not enough: each setting must be opted in with its clients."""
    svc, paths = service(tmp_path, {}, kinds=["mcp_server", "setting"])
    before = paths["copilot"].read_bytes()
    edit(paths["claude-code"], '"model": "opus"', '"model": "sonnet"')
    assert svc.scan("claude-code").written == []
    assert paths["copilot"].read_bytes() == before


def test_a_claude_model_edit_reaches_copilot_only(tmp_path: Path) -> None:
    """model = [claude-code, copilot]: Claude's edit lands in Copilot's one key, surgically;
    Gemini (not opted in for model) keeps its own model."""
    svc, paths = service(tmp_path, {"model": ["claude-code", "copilot"]})
    assert "setting" in svc.policy.kinds
    edit(paths["copilot"], '"claude-sonnet-4.5"', '"opus"')  # start in agreement
    svc.scan("copilot")
    copilot_before = paths["copilot"].read_text()
    gemini_before = paths["gemini"].read_bytes()
    edit(paths["claude-code"], '"model": "opus"', '"model": "sonnet"')
    result = svc.scan("claude-code")
    assert result.written == [str(paths["copilot"])]
    assert paths["copilot"].read_text() == copilot_before.replace('"opus"', '"sonnet"')
    assert paths["gemini"].read_bytes() == gemini_before
    # A second round is quiet: the write is not read back as a new edit.
    assert svc.scan().written == []


def test_an_approval_mode_flows_in_each_clients_spelling(tmp_path: Path) -> None:
    """acceptEdits in Claude becomes auto-edit in Qwen and auto_edit in Gemini; the MCP
    servers, comments and permission lists of the shared files stay."""
    svc, paths = service(tmp_path, {"approval_mode": ["claude-code", "gemini", "qwen"]})
    edit(paths["claude-code"], '"acceptEdits"', '"plan"')
    svc.scan("claude-code")
    edit(paths["claude-code"], '"plan"', '"acceptEdits"')
    svc.scan("claude-code")
    gemini = paths["gemini"].read_text()
    qwen = paths["qwen"].read_text()
    assert '"defaultApprovalMode": "auto_edit" // trailing comment' in gemini
    assert '"approvalMode": "auto-edit"' in qwen
    assert '"fsuser": { "command": "node", "args": ["/opt/fs.js"], "trust": true }' in gemini
    assert '"permissions": { "allow": ["Bash(git *)"], "deny": [] }' in qwen
    assert "// qwen keeps comments too" in qwen


def test_full_access_is_never_written_and_never_flips_the_source(tmp_path: Path) -> None:
    """bypassPermissions in Claude is recorded, refused for Gemini and Qwen (their files
    byte-identical), and later rounds do not write Claude back."""
    svc, paths = service(tmp_path, {"approval_mode": ["claude-code", "gemini", "qwen"]})
    before = {c: paths[c].read_bytes() for c in ("gemini", "qwen")}
    edit(paths["claude-code"], '"acceptEdits"', '"bypassPermissions"')
    result = svc.scan("claude-code")
    assert result.written == []
    assert {c: paths[c].read_bytes() for c in before} == before
    assert ("gemini", REFUSED) in losses(svc)
    assert ("qwen", REFUSED) in losses(svc)
    decisions = svc.plan().decisions
    assert {(d["type"], d.get("client"), d.get("reason")) for d in decisions} >= {
        ("Lossy", "gemini", REFUSED),
        ("Lossy", "qwen", REFUSED),
    }
    for _ in range(2):
        assert svc.scan().written == []
    assert '"bypassPermissions"' in paths["claude-code"].read_text()
    assert {c: paths[c].read_bytes() for c in before} == before


def test_a_mode_copilot_cannot_spell_is_a_loss_not_a_write(tmp_path: Path) -> None:
    """auto_edit has no Copilot spelling: Copilot is left alone and no echo flips Claude."""
    svc, paths = service(tmp_path, {"approval_mode": ["claude-code", "copilot"]})
    edit(paths["copilot"], '"plan"', '"interactive"')
    edit(paths["claude-code"], '"acceptEdits"', '"default"')
    svc.scan()
    before = paths["copilot"].read_bytes()
    edit(paths["claude-code"], '"default"', '"acceptEdits"')
    svc.scan("claude-code")
    assert paths["copilot"].read_bytes() == before
    assert ("copilot", "copilot has no approval mode 'auto_edit'") in losses(svc)
    svc.scan()
    assert '"acceptEdits"' in paths["claude-code"].read_text()


def test_status_shows_the_opted_in_settings(tmp_path: Path) -> None:
    """The policy shown to people names each opted-in setting and its clients."""
    svc, _ = service(tmp_path, {"model": ["copilot", "claude-code"]})
    assert svc.policy.as_dict()["settings"] == {"model": ["claude-code", "copilot"]}
    assert json.dumps(svc.policy.as_dict())


def test_watchers_see_settings_files_only_when_opted_in(tmp_path: Path) -> None:
    """The files a watcher watches include Claude's settings.json only with the kind on."""
    home = tmp_path / "home"
    on = synced_files(ClaudeCodeAdapter(), home, [], frozenset({"mcp_server", "setting"}))
    off = synced_files(ClaudeCodeAdapter(), home, [], frozenset({"mcp_server"}))
    assert home / ".claude/settings.json" in [f.path for f in on]
    assert home / ".claude/settings.json" not in [f.path for f in off]
