"""Rovo Dev saved prompts: reading ``prompts.yml``, its content files, and editing the index."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters._prompts import (
    PromptEntry,
    content_file_for,
    delete_entry,
    read_entries,
    upsert_entry,
)
from adapters.formats import Format, apply_edits, load
from adapters.rovodev import RovoDevAdapter
from events.client_config import ArgsPlaceholder, Command, Lit, Scope
from events.errors import ConfigParseError, UnsafeInputError

INDEX = """\
# my saved prompts
prompts:
  - name: review   # the one I use most
    description: Review code
    content_file: prompts/review.md
  - name: plan
    content_file: prompts/plan.md
"""
WHERE = Path("/h/.rovodev/prompts.yml")


def put(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_entries_are_read_in_file_order() -> None:
    """Each entry gives its name, description (None when absent) and content file."""
    assert read_entries(INDEX, WHERE) == [
        PromptEntry("review", "Review code", "prompts/review.md"),
        PromptEntry("plan", None, "prompts/plan.md"),
    ]
    assert read_entries("", WHERE) == []
    assert read_entries("prompts:\n", WHERE) == []


@pytest.mark.parametrize(
    ("item", "error"),
    [
        ('{name: x, content_file: "../../.ssh/id_rsa"}', UnsafeInputError),
        ('{name: x, content_file: "/etc/passwd"}', UnsafeInputError),
        ('{name: x, content_file: "prompts/a\\0b.md"}', UnsafeInputError),
        ('{name: x, content_file: "prompts\\\\x.md"}', UnsafeInputError),
        ("{name: x, content_file: mcp.json}", UnsafeInputError),
        ("{name: x, content_file: AGENTS.md}", UnsafeInputError),
        ("{name: x, content_file: subagents/reviewer.md}", UnsafeInputError),
        ('{name: "../evil", content_file: prompts/x.md}', UnsafeInputError),
        ('{name: "a\\0b", content_file: prompts/x.md}', UnsafeInputError),
        ("{name: 3, content_file: prompts/x.md}", ConfigParseError),
        ("{name: x, content_file: [a]}", ConfigParseError),
        ("{name: x, description: [a], content_file: prompts/x.md}", ConfigParseError),
        ("just text", ConfigParseError),
    ],
)
def test_hostile_or_malformed_entries_are_refused(item: str, error: type[Exception]) -> None:
    """Paths that could leave ``.rovodev``, hostile names and wrong shapes raise."""
    with pytest.raises(error):
        read_entries(f"prompts:\n  - {item}\n", WHERE)


def test_two_entries_of_one_name_are_refused() -> None:
    """Names differing only by case would be one command elsewhere: refused."""
    text = INDEX + "  - name: Review\n    content_file: prompts/other.md\n"
    with pytest.raises(UnsafeInputError, match="two prompts"):
        read_entries(text, WHERE)


def test_two_entries_of_one_content_file_are_refused() -> None:
    """Two prompts writing one file would overwrite each other: refused."""
    text = INDEX + "  - name: other\n    content_file: ./prompts/review.md\n"
    with pytest.raises(UnsafeInputError, match="share the content file"):
        read_entries(text, WHERE)


def test_new_entry_is_appended_keeping_comments_and_other_entries() -> None:
    """Adding a prompt appends one entry; comments and the other entries keep their text."""
    edits = upsert_entry(read_entries(INDEX, WHERE), "fix", "Fix it", "prompts/fix.md")
    text = apply_edits(Format.YAML, INDEX, edits)
    assert text.startswith(INDEX)
    assert load(Format.YAML, text)["prompts"][2] == {
        "name": "fix",
        "description": "Fix it",
        "content_file": "prompts/fix.md",
    }


def test_description_is_edited_in_place_and_entry_removed_by_index() -> None:
    """A new description changes one line; removing an entry leaves the rest as written."""
    entries = read_entries(INDEX, WHERE)
    edited = apply_edits(
        Format.YAML, INDEX, upsert_entry(entries, "review", "Audit", "prompts/review.md")
    )
    assert edited == INDEX.replace("Review code", "Audit")
    assert upsert_entry(entries, "review", "Review code", "prompts/review.md") == []
    removed = apply_edits(Format.YAML, INDEX, delete_entry(entries, "review"))
    assert "# my saved prompts" in removed
    assert read_entries(removed, WHERE) == [PromptEntry("plan", None, "prompts/plan.md")]
    assert delete_entry(entries, "gone") == []


def test_entry_pointing_elsewhere_is_not_rewritten() -> None:
    """Writing prompt ``review`` into another content file than its entry names is refused."""
    with pytest.raises(UnsafeInputError, match="already points"):
        upsert_entry(read_entries(INDEX, WHERE), "review", "x", "prompts/other.md")


def test_discover_lists_the_index_and_one_content_file_per_entry(tmp_path: Path) -> None:
    """Content files come from the index (not from the folder); each carries its entry."""
    put(tmp_path / ".rovodev/prompts.yml", INDEX)
    put(tmp_path / ".rovodev/prompts/review.md", "Review $ARGUMENTS\n")
    put(tmp_path / ".rovodev/prompts/stray.md", "not listed\n")
    adapter = RovoDevAdapter()
    files = adapter.discover(tmp_path, [])
    index = next(f for f in files if f.path.name == "prompts.yml")
    assert adapter.parse(index, INDEX) == []
    prompts = adapter.command_files(tmp_path, [])
    assert [f.path.name for f in prompts] == ["review.md", "plan.md"]
    [review] = adapter.parse(prompts[0], "Review $ARGUMENTS\n")
    assert isinstance(review, Command)
    assert (review.name, review.description) == ("review", "Review code")
    assert review.body == (Lit("Review "), ArgsPlaceholder(), Lit("\n"))


def test_hostile_index_is_a_parse_error_and_lists_no_prompts(tmp_path: Path) -> None:
    """An index naming ``../`` paths lists nothing, and scanning it raises (an alert)."""
    text = "prompts:\n  - {name: x, content_file: ../../secret.md}\n"
    put(tmp_path / ".rovodev/prompts.yml", text)
    adapter = RovoDevAdapter()
    assert adapter.command_files(tmp_path, []) == []
    index = next(f for f in adapter.discover(tmp_path, []) if f.path.name == "prompts.yml")
    with pytest.raises(UnsafeInputError):
        adapter.parse(index, text)


def test_content_file_symlinked_outside_rovodev_is_refused(tmp_path: Path) -> None:
    """A content file that resolves outside ``.rovodev`` never parses (no secret leaks)."""
    secret = put(tmp_path / "secret.txt", "token\n")
    put(tmp_path / ".rovodev/prompts.yml", "prompts:\n  - {name: x, content_file: prompts/x.md}\n")
    (tmp_path / ".rovodev/prompts").mkdir()
    (tmp_path / ".rovodev/prompts/x.md").symlink_to(secret)
    adapter = RovoDevAdapter()
    [cfg] = adapter.command_files(tmp_path, [])
    with pytest.raises(UnsafeInputError, match="outside"):
        adapter.parse(cfg, "token\n")


def test_new_prompt_goes_into_the_prompts_folder_and_its_index(tmp_path: Path) -> None:
    """``locate_command`` names ``.rovodev/prompts/<name>.md``; the index gets its entry."""
    adapter = RovoDevAdapter()
    cfg = adapter.locate_command("review", Scope.PROJECT, tmp_path / "h", tmp_path)
    assert cfg is not None
    assert cfg.path == tmp_path / ".rovodev/prompts/review.md"
    assert adapter.companion_of(cfg) == tmp_path / ".rovodev/prompts.yml"
    wanted = Command(name="review", scope=Scope.PROJECT, description="R", body=(Lit("x"),))
    rendered = adapter.render(cfg, "", {wanted.key: wanted})
    assert rendered.text == "x"
    assert [loss.field for loss in rendered.losses] == []
    index = adapter.render_companion(cfg, "", wanted)
    assert load(Format.YAML, index) == {
        "prompts": [{"name": "review", "description": "R", "content_file": "prompts/review.md"}]
    }
    assert adapter.render_companion(cfg, index, None).strip() == "prompts: []"
    with pytest.raises(UnsafeInputError):
        adapter.locate_command("../x", Scope.USER, tmp_path)


def test_content_file_of_a_spaced_name_has_no_space_and_never_a_taken_file() -> None:
    """``code review`` → ``prompts/code-review.md``; numbered when that file is taken."""
    assert content_file_for("code review") == "prompts/code-review.md"
    assert content_file_for("team/code  review") == "prompts/team/code-review.md"
    taken = ["prompts/Code-Review.md", "prompts/code-review-2.md"]
    assert content_file_for("code review", taken) == "prompts/code-review-3.md"
