"""Markdown split into blocks, and a file rewritten block by block (pure; no I/O).

Instruction files are synced by content at the level of blocks: an ATX heading, a
paragraph, a list item (with its continuation and nested lines) or a fenced code block
(as one block, whatever it holds). :func:`parse` keeps every byte: each block owns its text
and the blank lines after it, so ``render(parse(text)) == text`` for any text.

Some blocks are *pinned*: they stay in their file, untouched, and are never copied to
another client: a section a client manages itself (``## Gemini Added Memories``, written by
Gemini's memory tool, up to the next heading of the same or a higher level), an ``@path``
import line (it means something only to the client that wrote it), a block holding a
credential, and a code fence left open (copied, it would swallow the rest of a file).
:func:`rewrite` replaces a file's synced blocks by a new sequence, keeping pinned blocks,
unchanged blocks and the whitespace around them byte-identical.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Literal

from events.secrets import looks_like_credential

__all__ = ["Block", "Doc", "block_key", "parse", "render", "rewrite"]

BlockKind = Literal["heading", "fence", "item", "paragraph"]
Pin = Literal["", "owned", "import", "secret", "open_fence"]

_HEADING = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]|$)")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_ITEM = re.compile(r"^( {0,3})(?:[-*+]|\d{1,9}[.)])(?:[ \t]|$)")
_IMPORT = re.compile(r"^[ \t]*@\S+[ \t]*$")
#: Headings of sections a client writes itself (Gemini's and Qwen's ``/memory add``).
_OWNED = re.compile(r"^ {0,3}#{1,6}[ \t]+.*\bAdded Memories[ \t#]*$", re.IGNORECASE)
_BULLET = re.compile(r"^( *)(?:[-*+]|\d{1,9}[.)])(?=[ \t]|$)")


@dataclass(frozen=True)
class Block:
    """One Markdown block as it sits in its file.

    Attributes:
        kind: heading, fenced code, list item or paragraph.
        text: the block's exact lines (ending in a newline unless it ends the file).
        sep: the blank lines after it, exactly.
        line: its first line number (1-based).
        pin: why it is never synced (``""``: it is synced).
    """

    kind: BlockKind
    text: str
    sep: str
    line: int
    pin: Pin = ""

    @property
    def key(self) -> str:
        """The block's identity for merging (see :func:`block_key`)."""
        return block_key(self.text)


@dataclass(frozen=True)
class Doc:
    """A parsed file: the blank lines before the first block, then the blocks."""

    prefix: str
    blocks: tuple[Block, ...]

    @property
    def synced(self) -> list[Block]:
        """The blocks that are synced, in file order."""
        return [b for b in self.blocks if not b.pin]


def block_key(text: str) -> str:
    """A digest of a block that ignores trailing spaces and the choice of list marker.

    ``* rule`` and ``- rule`` are one rule; the digest (not the text) is what bases keep.
    """
    lines = [_BULLET.sub(r"\1-", line.rstrip()) for line in text.split("\n")]
    return hashlib.sha256("\n".join(lines).rstrip("\n").encode()).hexdigest()[:32]


def _lines(text: str) -> list[str]:
    """Lines split at ``\n`` only, ends kept (``str.splitlines`` also splits at NEL, LS…,
    which Markdown readers do not)."""
    parts = text.split("\n")
    return [p + "\n" for p in parts[:-1]] + ([parts[-1]] if parts[-1] else [])


def _blank(line: str) -> bool:
    return not line.strip()


def _fence_end(lines: list[str], start: int, fence: str) -> int:
    """Index just past the fence closing the one opened at ``start`` (EOF if unclosed)."""
    char, size = fence[0], len(fence)
    for i in range(start + 1, len(lines)):
        stripped = lines[i].strip()
        if stripped.startswith(char * size) and not stripped.strip(char):
            return i + 1
    return len(lines)


def _closes(fence: str) -> bool:
    """Whether a fence block ends with its closing fence (copied elsewhere, an open one
    would swallow the rest of that file)."""
    lines = [line.rstrip("\n") for line in _lines(fence)]
    opening = _FENCE.match(lines[0])
    if opening is None or len(lines) < 2:
        return False
    mark = opening.group(1)
    last = lines[-1].strip()
    return last.startswith(mark[0] * len(mark)) and not last.strip(mark[0])


def _starts_block(line: str) -> bool:
    return bool(_HEADING.match(line) or _FENCE.match(line) or _ITEM.match(line))


def _block_end(lines: list[str], i: int) -> tuple[BlockKind, int]:
    line = lines[i]
    if _HEADING.match(line):
        return "heading", i + 1
    fence = _FENCE.match(line)
    if fence:
        return "fence", _fence_end(lines, i, fence.group(1))
    item = _ITEM.match(line)
    j = i + 1
    if item:
        indent = len(item.group(1))
        while j < len(lines) and not _blank(lines[j]):
            nested = _ITEM.match(lines[j])
            if nested and len(nested.group(1)) <= indent:
                break
            if _HEADING.match(lines[j]) or _FENCE.match(lines[j]):
                break
            j += 1
        return "item", j
    while j < len(lines) and not _blank(lines[j]) and not _starts_block(lines[j]):
        j += 1
    return "paragraph", j


def _pin(kind: BlockKind, text: str) -> Pin:
    if looks_like_credential(text):
        return "secret"
    if kind == "fence" and not _closes(text):
        return "open_fence"
    if kind == "paragraph" and all(_IMPORT.match(x) for x in _lines(text)):
        return "import"
    return ""


def parse(text: str) -> Doc:
    """Split ``text`` into blocks; ``render(parse(text)) == text``."""
    lines = _lines(text)
    i = 0
    while i < len(lines) and _blank(lines[i]):
        i += 1
    prefix = "".join(lines[:i])
    blocks: list[Block] = []
    owned_level = 0
    while i < len(lines):
        kind, end = _block_end(lines, i)
        body = "".join(lines[i:end])
        j = end
        while j < len(lines) and _blank(lines[j]):
            j += 1
        heading = _HEADING.match(lines[i]) if kind == "heading" else None
        if heading is not None:
            level = len(heading.group(1))
            if owned_level and level <= owned_level:
                owned_level = 0
            if not owned_level and _OWNED.match(lines[i].rstrip("\r\n")):
                owned_level = level
        pin: Pin = "owned" if owned_level else _pin(kind, body)
        blocks.append(Block(kind, body, "".join(lines[end:j]), i + 1, pin))
        i = j
    return Doc(prefix, tuple(blocks))


def render(doc: Doc) -> str:
    """The file text of ``doc``."""
    return doc.prefix + "".join(b.text + b.sep for b in doc.blocks)


def _indent(block: Block) -> int:
    return len(block.text) - len(block.text.lstrip(" "))


def _tight(a: Block, b: Block) -> bool:
    """Two list items that sit on consecutive lines stay that way (unless the second is
    indented deeper: it would read as part of the first)."""
    return a.kind == "item" and b.kind == "item" and _indent(b) <= _indent(a)


def _joined(left: Block, right: Block) -> tuple[str, str]:
    """``left``'s text and separator so that ``right`` can follow it."""
    text = left.text if left.text.endswith("\n") else left.text + "\n"
    sep = left.sep if left.sep or _tight(left, right) else "\n"
    return text, _ended(sep) if sep else sep


def rewrite(doc: Doc, new: Sequence[Block]) -> str | None:
    """``doc`` with its synced blocks replaced by ``new`` (blocks from any file), or None
    when the result would not read back as exactly ``new`` around the same pinned blocks
    (deleting the heading that ends a client's own section would pull what follows into
    it): such a file is not written.

    Blocks whose key is unchanged keep their exact bytes; a changed block takes the place
    (and the trailing blank lines) of the one it replaces; an inserted block lands next to
    its neighbour among the synced blocks, before a pinned section that follows them (text
    appended after ``## Gemini Added Memories`` would become part of it).
    """
    after, replaced = _edits(doc, new)
    out: list[tuple[Block, bool]] = []  # (block, next to an edit)
    for slot in [-1, *range(len(doc.blocks))]:
        if slot >= 0:
            block = doc.blocks[slot]
            if slot not in replaced:
                out.append((block, False))
            elif (other := replaced[slot]) is not None:
                out.append((Block(other.kind, _ended(other.text), block.sep, block.line), True))
            elif out:
                out[-1] = (out[-1][0], True)  # a deletion joins its neighbours
        if slot in after:
            _insert(out, after[slot])
    prefix = doc.prefix
    if prefix and not prefix.endswith("\n") and out:
        prefix += "\n"  # blank space before the first block, its line not ended
    text = prefix + _join(out)
    if not doc.blocks and out:
        text = text.rstrip("\n") + "\n"  # a new file ends with its last block
    back = parse(text)
    if [b.key for b in back.synced] != [b.key for b in new] or _pinned(back) != _pinned(doc):
        return None
    return text


def _pinned(doc: Doc) -> list[str]:
    return [b.text.rstrip("\n") for b in doc.blocks if b.pin]


def _edits(
    doc: Doc, new: Sequence[Block]
) -> tuple[dict[int, list[Block]], dict[int, Block | None]]:
    """Blocks to place after each file block (-1: before the first one), and what each
    replaced file block becomes (None: deleted)."""
    synced_at = [i for i, b in enumerate(doc.blocks) if not b.pin]
    old_keys = [doc.blocks[i].key for i in synced_at]
    ops = SequenceMatcher(None, old_keys, [b.key for b in new], autojunk=False).get_opcodes()
    after: dict[int, list[Block]] = {}
    replaced: dict[int, Block | None] = {}
    for tag, i1, i2, j1, j2 in ops:
        if tag == "equal":
            continue
        old, added = synced_at[i1:i2], list(new[j1:j2])
        for index in old:
            replaced[index] = added.pop(0) if added else None
        if added:
            if old:
                anchor = old[-1]
            elif i1 > 0:
                anchor = synced_at[i1 - 1]
            else:
                anchor = synced_at[0] - 1 if synced_at else _first_slot(doc)
            after.setdefault(anchor, []).extend(added)
    return after, replaced


def _insert(out: list[tuple[Block, bool]], blocks: list[Block]) -> None:
    """Append ``blocks`` after the last of ``out``: the blank lines that followed it now
    follow the last inserted block, so the spacing beyond the edit is unchanged."""
    added = [Block(b.kind, _ended(b.text), "\n", 0) for b in blocks]
    if out:
        anchor = out[-1][0]
        tail = anchor.sep
        sep = "" if _tight(anchor, added[0]) else _ended(anchor.sep or "\n")
        out[-1] = (Block(anchor.kind, _ended(anchor.text), sep, anchor.line, anchor.pin), True)
    else:
        tail = "\n"
    for i, block in enumerate(added):
        last = i == len(added) - 1
        sep = tail if last else ("" if _tight(block, added[i + 1]) else "\n")
        out.append((Block(block.kind, block.text, sep, 0), True))


def _ended(text: str) -> str:
    return text if text.endswith("\n") else text + "\n"


def _first_slot(doc: Doc) -> int:
    """Where blocks go in a file with no synced block before them: before its first pinned
    section (an owned heading) or open fence, after the pinned blocks above it."""
    for i, block in enumerate(doc.blocks):
        if block.pin == "owned" or (block.kind == "fence" and not _closes(block.text)):
            return i - 1
    return len(doc.blocks) - 1


def _join(blocks: list[tuple[Block, bool]]) -> str:
    """The blocks' text; only where an edit meets a neighbour is spacing added."""
    parts: list[str] = []
    nexts: list[tuple[Block, bool] | None] = [*blocks[1:], None]
    for (here, touched), nxt in zip(blocks, nexts[: len(blocks)], strict=True):
        if nxt is not None and (touched or nxt[1]):
            text, sep = _joined(here, nxt[0])
            parts.append(text + sep)
        else:
            parts.append(here.text + here.sep)
    return "".join(parts)
