"""Personal instruction files synced by content, on real files (a tmp home) and SQLite."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from actors.sync_engine import Policy
from actors.sync_service import SyncService
from adapters.files import sha256_hex
from adapters.registry import load_adapters
from events.placement import SyncPlacement, placement_aggregate_id
from tests.unit.actors._client_loads import CLIENTS, PERSONAL, loaded, rule_count
from tests.unit.actors._sync_service import apply_service

SEED = "# Personal rules\n\n- Be brief.\n- Use British spelling.\n"
RULES = ("- Be brief.", "- Use British spelling.")
NEW = "- Never force-push."
MEMORIES = "\n## Gemini Added Memories\n- The user likes green tea.\n"
TOKEN = "ghp_abcdefghijklmnopqrstuvwxyz0123456789"


def service(
    tmp_path: Path,
    clients: tuple[str, ...] = CLIENTS,
    *,
    mode: str = "apply",
    exclude: frozenset[str] = frozenset(),
) -> SyncService:
    """An orchestrator syncing only instructions between ``clients`` (their dirs exist)."""
    home = tmp_path / "home"
    for client in clients:
        (home / PERSONAL[client]).parent.mkdir(parents=True, exist_ok=True)
    adapters = load_adapters()
    policy = Policy(
        clients,
        kinds=frozenset({"instruction"}),
        mode="apply" if mode == "apply" else "observe",
        exclude_personal=exclude,
    )
    return apply_service(tmp_path, home, {c: adapters[c] for c in clients}, policy=policy)


def seed(svc: SyncService, text: str = SEED, **special: str) -> None:
    for client in svc.policy.clients:
        (svc.home / PERSONAL[client]).write_text(special.get(client, text))


def personal(svc: SyncService) -> list[dict[str, Any]]:
    return [
        c for c in svc.plan().changes if c.get("placement") in ("sync_instructions", "retire_copy")
    ]


def apply_all(svc: SyncService) -> list[str]:
    result = svc.apply(svc.plan().plan_hash)
    assert result.applied, result
    assert not result.abandoned, result
    return result.written


def append(path: Path, line: str) -> None:
    path.write_text(path.read_text() + line + "\n")


def test_a_rule_added_in_claude_reaches_every_client_exactly_once(tmp_path: Path) -> None:
    """Seven clients, the same two rules; one appended to ~/.claude/CLAUDE.md reaches all."""
    svc = service(tmp_path)
    seed(svc)
    assert personal(svc) == []
    append(svc.home / PERSONAL["claude-code"], NEW)
    written = apply_all(svc)
    assert sorted(written) == sorted(str(svc.home / PERSONAL[c]) for c in CLIENTS[1:])
    for client in CLIENTS:
        for rule in (*RULES, NEW):
            assert rule_count(client, svc.home, rule) == 1, (client, rule, loaded(client, svc.home))
    assert personal(svc) == [], "the round settles: nothing more to write"


def test_changing_and_removing_a_rule_in_any_client_reaches_the_others(tmp_path: Path) -> None:
    """An edit in Codex and a removal in Rovo Dev both land everywhere."""
    svc = service(tmp_path)
    seed(svc)
    apply_all(svc)
    codex, rovo = svc.home / PERSONAL["codex"], svc.home / PERSONAL["rovodev"]
    codex.write_text(codex.read_text().replace("Be brief.", "Be very brief."))
    rovo.write_text(rovo.read_text().replace("- Use British spelling.\n", ""))
    apply_all(svc)
    for client in CLIENTS:
        assert rule_count(client, svc.home, "- Be very brief.") == 1
        assert rule_count(client, svc.home, "- Use British spelling.") == 0
        assert rule_count(client, svc.home, "- Be brief.") == 0


def test_gemini_memories_stay_in_gemini_untouched_and_are_not_spread(tmp_path: Path) -> None:
    """``## Gemini Added Memories`` keeps its bytes; no other client gets it, even when
    Gemini's memory tool adds to it."""
    svc = service(tmp_path)
    seed(svc, gemini=SEED + MEMORIES)
    gemini = svc.home / PERSONAL["gemini"]
    append(svc.home / PERSONAL["claude-code"], NEW)
    apply_all(svc)
    text = gemini.read_text()
    assert text.endswith(MEMORIES), text
    assert text == SEED + NEW + "\n" + MEMORIES
    append(gemini, "- The user works in Rust.")
    assert personal(svc) == []
    for client in CLIENTS[1:]:
        if client != "gemini":
            assert "tea" not in loaded(client, svc.home)


def test_prose_outside_the_edited_block_is_byte_identical(tmp_path: Path) -> None:
    """Odd spacing, a code fence and an import stay exactly as the person wrote them."""
    own = "Intro  \n\n\n```sh\nmake\n\nmake test\n```\n\n@~/notes/style.md\n\n- Be brief.\n"
    svc = service(tmp_path, ("claude-code", "codex"))
    seed(svc, codex=own)
    apply_all(svc)
    claude = (svc.home / PERSONAL["claude-code"]).read_text()
    assert "@~/notes/style.md" not in claude, "an import means something only to its client"
    codex = svc.home / PERSONAL["codex"]
    before = codex.read_text()
    assert before.startswith("Intro  \n\n\n```sh\nmake\n\nmake test\n```\n\n")
    assert "\n@~/notes/style.md\n\n- Be brief.\n" in before
    path = svc.home / PERSONAL["claude-code"]
    path.write_text(path.read_text().replace("- Be brief.", "- Be terse."))
    apply_all(svc)
    assert codex.read_text() == before.replace("- Be brief.", "- Be terse.")


def test_the_same_rule_edited_differently_is_a_conflict_until_resolved(tmp_path: Path) -> None:
    """Claude and Codex both rewrite one rule: nothing is written, ``conflicts`` lists it,
    and taking Claude's side settles it everywhere."""
    svc = service(tmp_path, ("claude-code", "codex", "gemini"))
    seed(svc)
    apply_all(svc)
    claude, codex = svc.home / PERSONAL["claude-code"], svc.home / PERSONAL["codex"]
    claude.write_text(SEED.replace("Be brief.", "Be brief, always."))
    codex.write_text(SEED.replace("Be brief.", "Be brief, mostly."))
    before = {c: (svc.home / PERSONAL[c]).read_bytes() for c in svc.policy.clients}
    view = svc.plan()
    assert personal(svc) == []
    assert any(d["type"] == "PlacementConflict" for d in view.decisions)
    [open_] = [d for d in svc.conflicts() if d["type"] == "InstructionConflict"]
    assert set(open_["sides"]) == {"claude-code", "codex"}
    assert svc.apply(view.plan_hash).applied
    assert {c: (svc.home / PERSONAL[c]).read_bytes() for c in svc.policy.clients} == before
    svc.resolve(open_["conflict_id"], take="claude-code")
    for client in svc.policy.clients:
        assert rule_count(client, svc.home, "- Be brief, always.") == 1
        assert rule_count(client, svc.home, "- Be brief, mostly.") == 0
    assert [d for d in svc.conflicts() if d["type"] == "InstructionConflict"] == []


def test_a_conflict_settles_when_the_files_come_to_agree(tmp_path: Path) -> None:
    """A person makes Codex match Claude: the conflict closes with no resolve call."""
    svc = service(tmp_path, ("claude-code", "codex"))
    seed(svc)
    apply_all(svc)
    claude, codex = svc.home / PERSONAL["claude-code"], svc.home / PERSONAL["codex"]
    claude.write_text(SEED.replace("Be brief.", "A"))
    codex.write_text(SEED.replace("Be brief.", "B"))
    svc.plan()
    assert len(svc.conflicts()) == 1
    codex.write_text(claude.read_text())
    svc.plan()
    assert svc.conflicts() == []


def test_revert_puts_back_the_exact_bytes_a_sync_replaced(tmp_path: Path) -> None:
    """``revert PLACEMENT_ID`` restores the pre-image of one client's file."""
    svc = service(tmp_path, ("claude-code", "codex"))
    seed(svc, codex=SEED + "\n\n\n")
    append(svc.home / PERSONAL["claude-code"], NEW)
    [change] = personal(svc)
    apply_all(svc)
    codex = svc.home / PERSONAL["codex"]
    assert NEW in codex.read_text()
    svc.revert(change["placement_id"])
    assert codex.read_text() == SEED + "\n\n\n"


def test_a_block_holding_a_credential_is_not_synced_and_is_reported(tmp_path: Path) -> None:
    """A token pasted into CLAUDE.md stays there, reaches no one, and no event holds it."""
    svc = service(tmp_path, ("claude-code", "codex"))
    seed(svc, **{"claude-code": SEED + f"- My token is {TOKEN}\n"})
    view = svc.plan()
    [refused] = [d for d in view.decisions if d["type"] == "PlacementRefused"]
    assert refused["clients"] == ["claude-code"]
    assert TOKEN not in json.dumps(view.decisions) + json.dumps(view.changes)
    apply_all(svc)
    assert TOKEN not in (svc.home / PERSONAL["codex"]).read_text()
    bodies = [json.dumps(svc.store.decode_body(n)) for n in svc.store.read(0, 10_000)]
    assert any("BaseRecorded" in b or '"blocks"' in b for b in bodies)
    assert not any(TOKEN in b or "Be brief" in b for b in bodies)


def test_exclude_personal_keeps_one_clients_file_out(tmp_path: Path) -> None:
    """``exclude_personal = ["gemini"]``: Gemini's file is neither read for nor written."""
    svc = service(tmp_path, exclude=frozenset({"gemini"}))
    seed(svc)
    gemini = svc.home / PERSONAL["gemini"]
    gemini.write_text("# Gemini only\n")
    append(svc.home / PERSONAL["claude-code"], NEW)
    apply_all(svc)
    assert gemini.read_text() == "# Gemini only\n"
    assert rule_count("codex", svc.home, "# Gemini only") == 0
    assert rule_count("codex", svc.home, NEW) == 1


def test_a_file_importing_another_personal_file_is_drift_not_a_second_copy(
    tmp_path: Path,
) -> None:
    """CLAUDE.md holds ``@~/.codex/AGENTS.md``: Claude already loads Codex's rules, so it
    gets no copy (which it would load twice) and a drift finding says why."""
    svc = service(tmp_path, ("claude-code", "codex", "rovodev"))
    seed(svc, **{"claude-code": "@~/.codex/AGENTS.md\n"})
    append(svc.home / PERSONAL["codex"], NEW)
    view = svc.plan()
    assert any(
        d["type"] == "PlacementDrift" and d["clients"] == ["claude-code"] for d in view.decisions
    )
    apply_all(svc)
    for rule in (*RULES, NEW):
        assert rule_count("claude-code", svc.home, rule) == 1
        assert rule_count("rovodev", svc.home, rule) == 1


def _placed(svc: SyncService, path: Path, action: str) -> None:
    """Record that an older Synapse placed ``path`` (as its copy placement did)."""
    sha = sha256_hex(path.read_bytes())
    pid = sha[:16]
    svc.store.execute(
        SyncPlacement,
        placement_aggregate_id(pid),
        f"place:{pid}",
        lambda agg: None,
        create=lambda command_id: SyncPlacement.place(
            command_id=command_id,
            placement_id=pid,
            action=action,
            subject="instructions",
            path=str(path),
            clients=["gemini"],
            sha256=sha,
            pre_sha256=None,
            pre_image_ref=None,
            created_dirs=[],
        ),
    )


def test_an_old_copy_plus_pointer_is_retired_so_gemini_loads_each_rule_once(
    tmp_path: Path,
) -> None:
    """The old placement left ~/.gemini/AGENTS.md (a copy) and context.fileName naming it
    beside GEMINI.md: Gemini loaded the rules twice. The copy is retired; revert restores it."""
    svc = service(tmp_path, ("codex", "gemini"))
    seed(svc)
    settings = svc.home / ".gemini/settings.json"
    settings.write_text('{"context": {"fileName": ["AGENTS.md", "GEMINI.md"]}}\n')
    copy = svc.home / ".gemini/AGENTS.md"
    copy.write_text(SEED)
    _placed(svc, copy, "copy_instructions")
    assert rule_count("gemini", svc.home, RULES[0]) == 2, "the double load being fixed"
    [retire] = [c for c in personal(svc) if c["placement"] == "retire_copy"]
    apply_all(svc)
    assert not copy.exists()
    for client in ("codex", "gemini"):
        assert rule_count(client, svc.home, RULES[0]) == 1
    svc.revert(retire["placement_id"])
    assert copy.read_text() == SEED


def test_a_second_personal_file_of_the_persons_own_is_drift(tmp_path: Path) -> None:
    """Qwen loads QWEN.md and ~/.qwen/AGENTS.md: with both the person's own, Qwen is left
    out (merging them is the person's call) rather than given a third copy."""
    svc = service(tmp_path, ("codex", "qwen"))
    seed(svc)
    (svc.home / ".qwen/AGENTS.md").write_text("# Mine\n")
    append(svc.home / PERSONAL["codex"], NEW)
    view = svc.plan()
    assert any(d["type"] == "PlacementDrift" and d["clients"] == ["qwen"] for d in view.decisions)
    apply_all(svc)
    assert rule_count("qwen", svc.home, NEW) == 0


def test_observed_agreement_is_a_base_so_a_removal_is_not_undone(tmp_path: Path) -> None:
    """In observe mode, files that agree record a base: a rule removed in Claude is then
    planned as a removal elsewhere, not re-added to Claude."""
    svc = service(tmp_path, ("claude-code", "codex"), mode="observe")
    seed(svc)
    assert personal(svc) == []
    claude = svc.home / PERSONAL["claude-code"]
    claude.write_text(SEED.replace("- Use British spelling.\n", ""))
    [change] = personal(svc)
    assert change["path"] == str(svc.home / PERSONAL["codex"])


@pytest.mark.parametrize("client", CLIENTS)
def test_a_new_client_file_is_created_with_the_rules(tmp_path: Path, client: str) -> None:
    """A client in use without a personal file gets one, and loads each rule once."""
    svc = service(tmp_path)
    seed(svc)
    (svc.home / PERSONAL[client]).unlink()
    apply_all(svc)
    assert (svc.home / PERSONAL[client]).is_file()
    for other in CLIENTS:
        for rule in RULES:
            assert rule_count(other, svc.home, rule) == 1, (other, rule)


def test_the_old_import_shim_placement_made_is_replaced_by_the_rules(tmp_path: Path) -> None:
    """An untouched ``@~/.codex/AGENTS.md`` shim an older Synapse placed becomes the merged
    text: Claude then loads each rule once, from its own file."""
    svc = service(tmp_path, ("claude-code", "codex"))
    seed(svc, **{"claude-code": "@~/.codex/AGENTS.md\n"})
    _placed(svc, svc.home / PERSONAL["claude-code"], "create_shim")
    apply_all(svc)
    claude = (svc.home / PERSONAL["claude-code"]).read_text()
    assert "@~/" not in claude
    for rule in RULES:
        assert rule_count("claude-code", svc.home, rule) == 1
