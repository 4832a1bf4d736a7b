"""Markdown frontmatter: load, and edits that leave untouched lines and the body byte-identical."""

from __future__ import annotations

from adapters.formats import DELETE, Edit, Format, apply_edits, load

COMMAND = (
    "---\n"
    "description: Review a file\n"
    'argument-hint: "[file]"\n'
    "# tools the command may use\n"
    "allowed-tools:\n"
    "  - Read\n"
    "  - Grep\n"
    "---\n"
    "\n"
    "Review $ARGUMENTS carefully.\n"
)


def test_load_splits_frontmatter_and_body() -> None:
    """Frontmatter becomes a dict ("[file]" stays a string), the body is the exact rest."""
    assert load(Format.MARKDOWN, COMMAND) == {
        "frontmatter": {
            "description": "Review a file",
            "argument-hint": "[file]",
            "allowed-tools": ["Read", "Grep"],
        },
        "body": "\nReview $ARGUMENTS carefully.\n",
    }
    assert load(Format.MARKDOWN, "# Just a body\n") == {
        "frontmatter": {},
        "body": "# Just a body\n",
    }
    assert apply_edits(Format.MARKDOWN, COMMAND, []) == COMMAND


def test_frontmatter_edit_keeps_other_lines_and_body_identical() -> None:
    """Changing one key rewrites only its line; quoting, comments and body are untouched."""
    out = apply_edits(Format.MARKDOWN, COMMAND, [Edit(("frontmatter", "description"), "Check it")])
    assert out == COMMAND.replace("description: Review a file", "description: Check it")


def test_values_yaml_would_misparse_are_written_quoted() -> None:
    """A new "[dir]" value is quoted so it reloads as a string, not a list."""
    out = apply_edits(Format.MARKDOWN, COMMAND, [Edit(("frontmatter", "argument-hint"), "[dir]")])
    assert load(Format.MARKDOWN, out)["frontmatter"]["argument-hint"] == "[dir]"
    assert "argument-hint: '[dir]'\n" in out


def test_nested_list_edit_and_delete_touch_only_their_block() -> None:
    """Appending a tool rewrites that block; deleting a key removes only its lines."""
    out = apply_edits(Format.MARKDOWN, COMMAND, [Edit(("frontmatter", "allowed-tools", 2), "Bash")])
    assert load(Format.MARKDOWN, out)["frontmatter"]["allowed-tools"] == ["Read", "Grep", "Bash"]
    assert out.startswith('---\ndescription: Review a file\nargument-hint: "[file]"\n# tools')
    assert out.endswith("---\n\nReview $ARGUMENTS carefully.\n")
    out = apply_edits(Format.MARKDOWN, COMMAND, [Edit(("frontmatter", "allowed-tools"), DELETE)])
    assert out == COMMAND.replace("allowed-tools:\n  - Read\n  - Grep\n", "")


def test_new_key_and_body_edit() -> None:
    """A new key is appended at the end of the frontmatter; a body edit keeps the frontmatter."""
    out = apply_edits(
        Format.MARKDOWN,
        COMMAND,
        [Edit(("frontmatter", "model"), "opus"), Edit(("body",), "New body\n")],
    )
    assert out == COMMAND.replace("  - Grep\n---\n", "  - Grep\nmodel: opus\n---\n").replace(
        "\nReview $ARGUMENTS carefully.\n", "New body\n"
    )


def test_frontmatter_is_created_when_absent() -> None:
    """A file without frontmatter gets a `---` block at the top; the body is unchanged."""
    out = apply_edits(Format.MARKDOWN, "# Rules\n", [Edit(("frontmatter", "name"), "rules")])
    assert out == "---\nname: rules\n---\n# Rules\n"
    assert apply_edits(Format.MARKDOWN, "# Rules\n", [Edit(("frontmatter", "x"), DELETE)]) == (
        "# Rules\n"
    )
