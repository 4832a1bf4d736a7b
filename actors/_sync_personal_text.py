"""The text a conflict between personal instruction files shows, and the text that settles it.

A conflict shows, per client, a short preview of its version of the blocks in conflict and
a label (the heading they sit under), both masked with :mod:`events.secrets`: built from
synced blocks only, so a block holding a credential is never in one. A person settles a
conflict with their own Markdown (:class:`ChosenText`), checked by :func:`chosen_text`.
Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from actors._md_blocks import Block, Doc, parse
from events.errors import ActorError
from events.secrets import looks_like_credential, mask

__all__ = ["LABEL_CHARS", "PREVIEW_CHARS", "ChosenText", "chosen_text", "heading_label", "preview"]

#: How long a conflict's preview of one side, and its label, may be.
PREVIEW_CHARS = 160
LABEL_CHARS = 60


@dataclass(frozen=True)
class ChosenText:
    """The Markdown a person gave to settle a conflict (``synapse conflicts resolve --value``).

    Attributes:
        text: the blocks to write in place of the blocks in conflict.
    """

    text: str

    def blocks(self) -> list[Block]:
        """The text's blocks (all synced: :func:`chosen_text` refused any other)."""
        return parse(self.text).synced


def chosen_text(text: str) -> ChosenText:
    """Check a person's Markdown for a conflict and return it, ending in one newline.

    Raises:
        ActorError: the text is empty, looks like a credential (:mod:`events.secrets`), or
            holds a block that is never synced (an ``@import``, a client's own section, an
            open code fence). The message never quotes the text.
    """
    body = text.strip("\n")
    if not body.strip():
        msg = "the value is empty: give the Markdown to keep for the blocks in conflict"
        raise ActorError(msg, hint="or use --take CLIENT to keep one client's version")
    if looks_like_credential(body):
        msg = "refused: the value looks like a credential, and secrets are never synced"
        raise ActorError(msg, hint="move the secret to an environment variable")
    doc = parse(body + "\n")
    pinned = next((b for b in doc.blocks if b.pin), None)
    if pinned is not None:
        msg = (
            f"refused: line {pinned.line} of the value is never synced ({pinned.pin}); give "
            "plain Markdown blocks (headings, paragraphs, list items, closed code fences)"
        )
        raise ActorError(msg)
    return ChosenText(body + "\n")


def _short(text: str, limit: int) -> str:
    text = mask(" ".join(text.split()))
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def preview(doc: Doc, keys: set[str]) -> str:
    """A short, masked look at one side's version of the blocks in conflict (``keys``);
    synced blocks only, so never one holding a credential; ``(removed)`` when it has none."""
    texts = [b.text.strip() for b in doc.synced if b.key in keys]
    return _short(" / ".join(texts), PREVIEW_CHARS) if texts else "(removed)"


def heading_label(docs: Sequence[Doc], keys: set[str]) -> str:
    """The heading the blocks in conflict sit under (or are), else their first words, from
    the first of ``docs`` that holds one of them (``""``: none does)."""
    for doc in docs:
        heading = ""
        for b in doc.synced:
            if b.kind == "heading":
                heading = b.text.strip().lstrip("#").strip()
            if b.key in keys:
                return _short(heading or b.text.strip(), LABEL_CHARS)
    return ""
