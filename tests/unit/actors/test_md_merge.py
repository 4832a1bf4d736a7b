"""Markdown blocks and their three-way merge: pure functions, properties over any input."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from actors._md_blocks import parse, render, rewrite
from actors._md_merge import FileSide, merge3, merge_files

TEXT = """# Personal rules

- Be brief.
- Use British spelling.
  (even in code comments)

A paragraph
over two lines.

```sh
rm -rf build

echo done
```

@~/notes/style.md

## Gemini Added Memories
- The user likes tea.

### Still theirs
- a nested memory

# Later
Trailing text without newline"""

line = st.sampled_from(
    ["# H", "## Gemini Added Memories", "- item", "* star", "1. one", "text", "  indented",
     "```", "~~~", "@~/x.md", "", " ", "\t", "AKIAABCDEFGHIJKLMNOP"]
)  # fmt: skip
markdown = st.lists(line, max_size=14).map("\n".join) | st.text(max_size=80)
keys = st.lists(st.sampled_from("abcdefgh"), max_size=8, unique=True)


def test_blocks_are_headings_items_paragraphs_and_whole_fences() -> None:
    """A fenced block with blank lines is one block; list items are one block each."""
    kinds = [(b.kind, b.text.splitlines()[0]) for b in parse(TEXT).blocks]
    assert kinds[:6] == [
        ("heading", "# Personal rules"),
        ("item", "- Be brief."),
        ("item", "- Use British spelling."),
        ("paragraph", "A paragraph"),
        ("fence", "```sh"),
        ("paragraph", "@~/notes/style.md"),
    ]


def test_client_sections_imports_and_credentials_are_pinned() -> None:
    """Gemini's memories (with deeper headings) stay pinned until the next top heading."""
    doc = parse(TEXT + "\n\n- token: ghp_abcdefghijklmnopqrstuvwxyz0123456789\n")
    pins = {b.text.splitlines()[0]: b.pin for b in doc.blocks}
    assert pins["@~/notes/style.md"] == "import"
    assert pins["## Gemini Added Memories"] == "owned"
    assert pins["- a nested memory"] == "owned"
    assert pins["# Later"] == ""
    assert pins["- token: ghp_abcdefghijklmnopqrstuvwxyz0123456789"] == "secret"


@given(markdown)
def test_render_of_parse_is_the_same_bytes(text: str) -> None:
    """Parsing loses nothing: every byte sits in a block, a separator or the prefix."""
    assert render(parse(text)) == text


@given(markdown)
def test_rewrite_with_the_same_blocks_changes_nothing(text: str) -> None:
    """Rewriting a file to its own synced blocks is the identity."""
    doc = parse(text)
    assert rewrite(doc, doc.synced) == text


def test_rewrite_touches_only_the_edited_block() -> None:
    """Changing one rule keeps every other byte, the memories section included."""
    doc = parse(TEXT)
    new = [parse("- Be very brief.\n").blocks[0] if b.text == "- Be brief.\n" else b
           for b in doc.synced]  # fmt: skip
    assert rewrite(doc, new) == TEXT.replace("- Be brief.", "- Be very brief.")


def test_an_appended_rule_goes_before_a_client_section() -> None:
    """A new block follows its synced neighbour, never inside ``## Gemini Added Memories``."""
    text = "- one\n\n## Gemini Added Memories\n- tea\n"
    doc = parse(text)
    out = rewrite(doc, [*doc.synced, parse("- two\n").blocks[0]])
    assert out == "- one\n- two\n\n## Gemini Added Memories\n- tea\n"


@given(keys, st.data())
def test_merging_one_sides_edits_yields_that_side(base: list[str], data: st.DataObject) -> None:
    """merge3(base, base, edited) == edited, and symmetrically."""
    edited = data.draw(keys)
    assert merge3(base, base, edited).keys == edited
    assert merge3(base, edited, base).keys == edited
    assert merge3(base, edited, base).conflicts == []


@given(st.lists(st.sampled_from("abcdefghij"), min_size=4, max_size=10, unique=True), st.data())
def test_disjoint_edits_commute(base: list[str], data: st.DataObject) -> None:
    """Edits of two blocks far apart merge the same whatever the order, and keep both."""
    i = data.draw(st.integers(0, len(base) // 2 - 2))
    j = data.draw(st.integers(i + 2, len(base) - 1))
    left, right = list(base), list(base)
    left[i] = "X"
    if data.draw(st.booleans()):
        del right[j]
    else:
        right.insert(j + 1, "Y")
    one, two = merge3(base, left, right), merge3(base, right, left)
    assert one.conflicts == two.conflicts == []
    assert one.keys == two.keys
    assert "X" in one.keys
    assert base[i] not in one.keys


def test_the_same_block_changed_differently_is_a_conflict() -> None:
    """b → X on one side and b → Y on the other: a conflict naming both versions."""
    result = merge3(["a", "b", "c"], ["a", "X", "c"], ["a", "Y", "c"])
    [region] = result.conflicts
    assert (region.base, region.left, region.right) == (("b",), ("X",), ("Y",))


def test_two_files_appending_different_rules_keep_both_in_one_order() -> None:
    """Insertions at one place are not a conflict, and their order ignores who is left."""
    one = merge3(["a"], ["a", "x"], ["a", "y"]).keys
    assert one == merge3(["a"], ["a", "y"], ["a", "x"]).keys == ["a", "x", "y"]


def test_a_file_that_missed_a_round_merges_from_its_own_base() -> None:
    """Others moved on to [a, b, c]; a file still at [a, b] adding d does not undo c."""
    sides = [
        FileSide("claude-code", ("a", "b", "c"), ("a", "b", "c")),
        FileSide("codex", ("a", "b"), ("a", "b", "d")),
    ]
    merged, conflicts = merge_files(sides, ["a", "b", "c"])
    assert conflicts == []
    assert merged == ["a", "b", "c", "d"]


def test_first_sync_adds_what_any_file_has_and_deletes_nothing() -> None:
    """With no base yet, the common blocks are the base: extra blocks spread, none vanish."""
    sides = [
        FileSide("claude-code", None, ("a", "x", "b")),
        FileSide("codex", None, ("a", "b", "x")),
    ]
    merged, conflicts = merge_files(sides, None)
    assert conflicts == []
    assert sorted(merged) == ["a", "b", "x"]


@given(markdown, markdown, st.data())
def test_a_rewritten_file_reads_back_as_the_blocks_written(
    text: str, other: str, data: st.DataObject
) -> None:
    """After a rewrite the file's synced blocks are exactly the new ones (so sync settles;
    a rewrite is refused only where a client's own section would swallow blocks), and its
    pinned blocks are the same bytes in the same order (one that ended the file
    without a newline gets one when a block is appended after it)."""
    doc, pool = parse(text), parse(other).synced + parse(text).synced
    blocks = st.lists(st.sampled_from(pool), unique_by=lambda b: b.key) if pool else st.just([])
    new = data.draw(blocks)
    written = rewrite(doc, new)
    if written is None:  # refused: only around a client's own section
        assert any(b.pin == "owned" for b in doc.blocks)
        return
    out = parse(written)
    assert [b.key for b in out.synced] == [b.key for b in new]
    pinned = [b.text.rstrip("\n") for b in out.blocks if b.pin]
    assert pinned == [b.text.rstrip("\n") for b in doc.blocks if b.pin]


def test_neighbouring_blocks_edited_in_two_files_both_land() -> None:
    """One side edits rule b, the other removes rule c next to it: no conflict."""
    result = merge3(["a", "b", "c", "d"], ["a", "B", "c", "d"], ["a", "b", "d"])
    assert result.conflicts == []
    assert result.keys == ["a", "B", "d"]
