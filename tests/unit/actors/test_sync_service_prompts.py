"""Rovo Dev saved prompts synced as commands: a content file and a prompts.yml entry."""

from __future__ import annotations

import errno
import tomllib
from pathlib import Path

from actors._sync_companion import apply_pair
from actors._sync_write import FileChange, PreimageStore
from actors.sync_service import SyncService
from adapters.files import sha256_hex
from adapters.formats import Format, load
from events.errors import WriteConflictError
from tests.unit.actors._sync_service import restarted
from tests.unit.actors.test_sync_service_kinds import (
    CLAUDE_COMMAND,
    event_types,
    files_under,
    put,
    system,
)

CLAUDE = ".claude/commands/review.md"
GEMINI = ".gemini/commands/review.toml"
INDEX = ".rovodev/prompts.yml"
CONTENT = ".rovodev/prompts/review.md"
HAND_INDEX = """\
# saved prompts, kept by hand
prompts:
  - name: plan   # planning helper
    description: Plan the work
    content_file: prompts/plan.md
"""


def entries(home: Path) -> list[dict[str, str]]:
    data = load(Format.YAML, (home / INDEX).read_text())
    return list(data["prompts"])


def with_review(tmp_path: Path) -> tuple[SyncService, Path]:
    service, home = system(tmp_path)
    put(home / CLAUDE, CLAUDE_COMMAND)
    service.scan("claude-code")
    return service, home


def with_hand_index(tmp_path: Path) -> tuple[SyncService, Path]:
    """A home whose Rovo Dev index is kept by hand (one ``plan`` prompt), already scanned."""
    service, home = system(tmp_path)
    put(home / INDEX, HAND_INDEX)
    put(home / ".rovodev/prompts/plan.md", "Plan $ARGUMENTS\n")
    service.scan("rovodev")
    return service, home


def with_hand_index_and_review(tmp_path: Path) -> tuple[SyncService, Path]:
    """:func:`with_hand_index` plus Claude's ``review`` command, synced."""
    service, home = with_hand_index(tmp_path)
    put(home / CLAUDE, CLAUDE_COMMAND)
    service.scan("claude-code")
    return service, home


def test_claude_command_becomes_a_content_file_and_an_index_entry(tmp_path: Path) -> None:
    """The body goes to ``prompts/review.md``; name and description to ``prompts.yml``."""
    _, home = with_review(tmp_path)
    assert (home / CONTENT).read_text() == (
        "Review $ARGUMENTS carefully. Run !`git diff` and read @src/main.py\n"
    )
    assert entries(home) == [
        {"name": "review", "description": "Review code", "content_file": "prompts/review.md"}
    ]


def test_second_round_writes_nothing_with_several_prompts_in_one_index(tmp_path: Path) -> None:
    """Three commands land as three entries of one index; further rounds write nothing."""
    service, home = system(tmp_path)
    for name in ("one", "two", "three"):
        put(home / f".claude/commands/{name}.md", f"---\ndescription: {name}\n---\nDo {name}\n")
    service.scan("claude-code")
    assert sorted(e["name"] for e in entries(home)) == ["one", "three", "two"]
    before = files_under(home)
    for _ in range(2):
        assert service.scan().written == []
    assert files_under(home) == before
    assert service.plan().changes == []


def test_body_edited_in_rovo_reaches_claude_and_gemini(tmp_path: Path) -> None:
    """An edit of the content file flows out; the description stays as the index says."""
    service, home = with_review(tmp_path)
    (home / CONTENT).write_text("Audit $ARGUMENTS like an auditor\n")
    service.scan("rovodev")
    claude = load(Format.MARKDOWN, (home / CLAUDE).read_text())
    assert claude["body"] == "Audit $ARGUMENTS like an auditor\n"
    assert claude["frontmatter"]["description"] == "Review code"
    gemini = tomllib.loads((home / GEMINI).read_text())
    assert gemini["prompt"] == "Audit {{args}} like an auditor\n"


def test_description_edited_in_the_index_reaches_the_others(tmp_path: Path) -> None:
    """A new description in ``prompts.yml`` is an edit of the command; the body is kept."""
    service, home = with_review(tmp_path)
    assert service.scan("rovodev").written == []  # the content file's parse is now cached
    content = (home / CONTENT).read_bytes()
    index = home / INDEX
    index.write_text(index.read_text().replace("Review code", "Audit code"))
    service.scan("rovodev")
    assert tomllib.loads((home / GEMINI).read_text())["description"] == "Audit code"
    claude = load(Format.MARKDOWN, (home / CLAUDE).read_text())
    assert claude["frontmatter"]["description"] == "Audit code"
    assert (home / CONTENT).read_bytes() == content
    assert service.scan().written == []


def test_description_edited_in_claude_changes_only_the_index(tmp_path: Path) -> None:
    """A description change rewrites one line of ``prompts.yml`` and not the content file."""
    service, home = with_review(tmp_path)
    content = (home / CONTENT).read_bytes()
    claude = home / CLAUDE
    claude.write_text(claude.read_text().replace("Review code", "Look closely"))
    result = service.scan("claude-code")
    assert str(home / INDEX) in result.written
    assert str(home / CONTENT) not in result.written
    assert entries(home)[0]["description"] == "Look closely"
    assert (home / CONTENT).read_bytes() == content


def test_new_prompt_keeps_the_index_comments_and_other_entries(tmp_path: Path) -> None:
    """A hand-kept index gains one entry; its comments and the other entry keep their text."""
    _, home = with_hand_index_and_review(tmp_path)
    text = (home / INDEX).read_text()
    assert text.startswith(HAND_INDEX)
    assert [e["name"] for e in entries(home)] == ["plan", "review"]
    assert "Plan $ARGUMENTS" in (home / ".claude/commands/plan.md").read_text()


def test_deleting_in_claude_removes_the_entry_then_the_content_file(tmp_path: Path) -> None:
    """A deletion removes the index entry and the content file; other entries stay."""
    service, home = with_hand_index_and_review(tmp_path)
    (home / CLAUDE).unlink()
    service.scan("claude-code")
    service.scan("claude-code")
    assert not (home / CONTENT).exists()
    assert (home / INDEX).read_text() == HAND_INDEX
    assert not (home / GEMINI).exists()


def test_removing_the_entry_in_rovo_deletes_the_command_elsewhere(tmp_path: Path) -> None:
    """Dropping the entry from ``prompts.yml`` is a deletion (after two complete scans)."""
    service, home = with_review(tmp_path)
    (home / INDEX).write_text("prompts: []\n")
    service.scan("rovodev")
    service.scan("rovodev")
    assert not (home / CLAUDE).exists()
    assert not (home / GEMINI).exists()


def test_content_file_gone_under_its_entry_is_no_deletion(tmp_path: Path) -> None:
    """An entry whose content file vanished makes the scan incomplete: alert, no deletion."""
    service, home = with_review(tmp_path)
    (home / CONTENT).unlink()
    for _ in range(3):
        service.scan("rovodev")
    assert (home / CLAUDE).exists()
    assert (home / GEMINI).exists()
    assert "Alert.Raised" in event_types(service)


def test_hostile_index_entries_are_refused_with_an_alert_and_nothing_written(
    tmp_path: Path,
) -> None:
    """``../``, absolute and NUL content paths, and a symlink out of ``.rovodev``: the scan
    fails with an alert, no other client gets anything, and the files stay as they were."""
    service, home = system(tmp_path)
    put(home / "secret.txt", "top secret\n")
    put(home / ".rovodev/prompts/leak.md", "placeholder\n").unlink()
    (home / ".rovodev/prompts/leak.md").symlink_to(home / "secret.txt")
    put(
        home / INDEX,
        "prompts:\n  - {name: leak, content_file: prompts/leak.md}\n",
    )
    service.scan("rovodev")
    for bad in ("../secret.txt", "/etc/passwd", "prompts/a\\0b.md"):
        put(home / INDEX, f'prompts:\n  - {{name: evil, content_file: "{bad}"}}\n')
        before = files_under(home)
        assert service.scan().written == []
        assert files_under(home) == before
    assert not (home / ".claude/commands").exists()
    assert not (home / ".gemini/commands").exists()
    assert "Alert.Raised" in event_types(service)


def test_a_failed_index_write_undoes_the_content_file(tmp_path: Path) -> None:
    """When the index changed between plan and write, the content write is undone: a
    created content file is removed again, an edited one gets its exact bytes back."""
    store = PreimageStore(tmp_path / "pre")
    rovo = tmp_path / ".rovodev"
    index = put(rovo / "prompts.yml", "prompts: []\n")
    planned_index = sha256_hex(b"prompts: []\n")
    index.write_text("prompts: []  # edited meanwhile\n")
    new_index = FileChange("rovodev", str(index), planned_index, "x", (), _new=b"prompts: [x]\n")
    created = rovo / "prompts/new.md"
    created.parent.mkdir()
    change = FileChange(
        "rovodev", str(created), None, sha256_hex(b"new\n"), (), companion=new_index, _new=b"new\n"
    )
    try:
        apply_pair(change, [tmp_path], store)
    except WriteConflictError:
        pass
    else:
        raise AssertionError("the index write should have been refused")
    assert not created.exists()
    edited = put(rovo / "prompts/old.md", "old bytes\n")
    change = FileChange(
        "rovodev",
        str(edited),
        sha256_hex(b"old bytes\n"),
        sha256_hex(b"new bytes\n"),
        (),
        companion=new_index,
        _new=b"new bytes\n",
    )
    try:
        apply_pair(change, [tmp_path], store)
    except WriteConflictError:
        pass
    else:
        raise AssertionError("the index write should have been refused")
    assert edited.read_bytes() == b"old bytes\n"
    assert index.read_text() == "prompts: []  # edited meanwhile\n"


class IndexPreimageFails(PreimageStore):
    """A pre-image store whose disk is full for the index's bytes (a fake of the real one)."""

    def put(self, data: bytes, *, token: str | None = None) -> str:
        if data == HAND_INDEX.encode():
            raise OSError(errno.ENOSPC, "No space left on device")
        return super().put(data, token=token)


def test_a_failed_index_write_leaves_no_half_written_prompt(tmp_path: Path) -> None:
    """The index write fails after the content file landed: the content file is removed
    again, nothing is confirmed, an alert is raised; once the disk is back, the next round
    writes both."""
    service, home = with_hand_index(tmp_path)
    healthy = service.preimages
    service.preimages = IndexPreimageFails(tmp_path / "preimages")
    put(home / CLAUDE, CLAUDE_COMMAND)
    result = service.scan("claude-code")
    assert str(home / CONTENT) in result.abandoned
    assert not (home / CONTENT).exists()
    assert (home / INDEX).read_text() == HAND_INDEX
    assert (home / GEMINI).exists()
    assert "Alert.Raised" in event_types(service)
    service.preimages = healthy
    service.scan("rovodev")
    assert [e["name"] for e in entries(home)] == ["plan", "review"]
    assert "Review $ARGUMENTS carefully" in (home / CONTENT).read_text()


def test_a_failed_content_deletion_puts_the_index_entry_back(tmp_path: Path) -> None:
    """Deleting goes entry first; when the content file then cannot be deleted (it changed
    meanwhile), the index gets its exact bytes back and the content file is kept."""
    store = PreimageStore(tmp_path / "pre")
    index = put(tmp_path / ".rovodev/prompts.yml", HAND_INDEX)
    content = put(tmp_path / ".rovodev/prompts/plan.md", "edited meanwhile\n")
    drop_entry = FileChange(
        "rovodev",
        str(index),
        sha256_hex(HAND_INDEX.encode()),
        sha256_hex(b"prompts: []\n"),
        (),
        _new=b"prompts: []\n",
    )
    change = FileChange(
        "rovodev",
        str(content),
        sha256_hex(b"Plan $ARGUMENTS\n"),
        "",
        (),
        delete=True,
        companion=drop_entry,
    )
    try:
        apply_pair(change, [tmp_path], store)
    except WriteConflictError:
        pass
    else:
        raise AssertionError("the content file changed: its deletion should be refused")
    assert index.read_text() == HAND_INDEX
    assert content.read_text() == "edited meanwhile\n"
    # The entry went first: its removal was written (its pre-image kept), then undone.
    assert store.get(sha256_hex(HAND_INDEX.encode())) == HAND_INDEX.encode()


def test_revert_restores_the_content_file_and_the_index_byte_for_byte(tmp_path: Path) -> None:
    """Reverting a prompt edit puts back both files' exact bytes, also after a restart."""
    service, home = with_hand_index_and_review(tmp_path)
    index_before, content_before = (home / INDEX).read_bytes(), (home / CONTENT).read_bytes()
    claude = home / CLAUDE
    text = claude.read_text().replace("Review code", "Audit").replace("carefully", "gently")
    claude.write_text(text)
    service.scan("claude-code")
    assert (home / INDEX).read_bytes() != index_before
    again = restarted(service)
    content = str(home / CONTENT)
    wid = next(
        w
        for w, rec in again._index.writes.items()
        if rec.path == content and rec.companion and rec.pre_image_ref
    )
    result = again.revert(wid)
    assert sorted(result.written) == sorted([content, str(home / INDEX)])
    assert (home / INDEX).read_bytes() == index_before
    assert (home / CONTENT).read_bytes() == content_before


def test_revert_of_a_created_prompt_removes_entry_and_file(tmp_path: Path) -> None:
    """Reverting the write that created a Rovo prompt restores the index and drops the file."""
    service, home = with_hand_index_and_review(tmp_path)
    content = str(home / CONTENT)
    wid = next(w for w, rec in service._index.writes.items() if rec.path == content)
    service.revert(wid)
    assert (home / INDEX).read_text() == HAND_INDEX
    assert not (home / CONTENT).exists()


def test_an_unlisted_file_where_a_prompt_goes_is_taken_over_and_revertable(
    tmp_path: Path,
) -> None:
    """A content file no entry lists (an interrupted write) is observed, so the prompt is
    written over it (compare-and-swap on the observed bytes) and revert brings it back."""
    service, home = system(tmp_path)
    orphan = put(home / CONTENT, "left by an interrupted write\n")
    service.scan("rovodev")
    put(home / CLAUDE, CLAUDE_COMMAND)
    result = service.scan("claude-code")
    assert str(home / CONTENT) in result.written
    assert "Review $ARGUMENTS carefully" in orphan.read_text()
    assert [e["name"] for e in entries(home)] == ["review"]
    wid = next(w for w, rec in service._index.writes.items() if rec.path == str(orphan))
    service.revert(wid)
    assert orphan.read_text() == "left by an interrupted write\n"
    assert not (home / INDEX).exists()
    assert (home / CLAUDE).exists()


def test_project_command_becomes_a_prompt_of_that_project(tmp_path: Path) -> None:
    """A project command lands in that project's ``.rovodev``, never in another's or home."""
    one, two = tmp_path / "one", tmp_path / "two"
    one.mkdir()
    two.mkdir()
    service, home = system(tmp_path, (one, two))
    put(two / ".claude/commands/deploy.md", "---\ndescription: Ship it\n---\nDeploy $ARGUMENTS\n")
    service.scan("claude-code")
    assert (two / ".rovodev/prompts/deploy.md").read_text() == "Deploy $ARGUMENTS\n"
    assert entries(two) == [
        {"name": "deploy", "description": "Ship it", "content_file": "prompts/deploy.md"}
    ]
    assert not (one / ".rovodev").exists()
    assert not (home / ".rovodev").exists()


def test_prompt_name_with_spaces_gets_a_safe_content_file_and_round_trips(
    tmp_path: Path,
) -> None:
    """A command named ``code review`` becomes the prompt ``code review`` whose content file
    has no space (``prompts/code-review.md``); the next rounds write nothing."""
    service, home = system(tmp_path)
    put(home / ".claude/commands/code review.md", "Review $ARGUMENTS\n")
    service.scan("claude-code")
    assert entries(home) == [{"name": "code review", "content_file": "prompts/code-review.md"}]
    assert (home / ".rovodev/prompts/code-review.md").read_text() == "Review $ARGUMENTS\n"
    assert service.scan().written == []


def test_spaced_prompt_edited_elsewhere_is_written_into_its_own_content_file(
    tmp_path: Path,
) -> None:
    """Rovo's ``Code Review`` (content ``prompts/code_review.md``) edited in Gemini is
    rewritten in that file; the entry keeps its name, no second file appears."""
    service, home = system(tmp_path)
    index = "prompts:\n  - name: Code Review\n    content_file: prompts/code_review.md\n"
    put(home / INDEX, index)
    content = put(home / ".rovodev/prompts/code_review.md", "Review $ARGUMENTS\n")
    service.scan("rovodev")
    gemini = home / ".gemini/commands/Code Review.toml"
    assert tomllib.loads(gemini.read_text())["prompt"] == "Review {{args}}\n"
    gemini.write_text('prompt = "Review {{args}} twice"\n')
    service.scan("gemini")
    assert content.read_text() == "Review $ARGUMENTS twice"
    assert entries(home) == [{"name": "Code Review", "content_file": "prompts/code_review.md"}]
    assert sorted(p.name for p in (home / ".rovodev/prompts").iterdir()) == ["code_review.md"]


def test_two_names_one_slug_get_two_content_files(tmp_path: Path) -> None:
    """``code review`` and ``code-review`` never share a content file."""
    service, home = system(tmp_path)
    put(home / ".claude/commands/code-review.md", "One\n")
    service.scan("claude-code")
    put(home / ".claude/commands/code review.md", "Two\n")
    service.scan("claude-code")
    files = {e["name"]: e["content_file"] for e in entries(home)}
    assert files["code-review"] == "prompts/code-review.md"
    assert files["code review"] not in {"prompts/code-review.md", "prompts/code review.md"}
    assert (home / ".rovodev" / files["code review"]).read_text() == "Two\n"
    assert service.scan().written == []
