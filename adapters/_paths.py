"""Path safety checks shared by the file reader and writer: names, roots, symlink escapes."""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Sequence
from pathlib import Path

from events.errors import UnsafeInputError

__all__ = ["has_control_chars", "resolve_under_roots"]


def has_control_chars(text: str) -> bool:
    """True when ``text`` holds NUL or any other Unicode control character."""
    return any(unicodedata.category(char) == "Cc" for char in text)


def resolve_under_roots(path: Path, allowed_roots: Sequence[Path]) -> Path:
    """Return the fully resolved ``path`` after checking it cannot escape ``allowed_roots``.

    Both the path as written and its symlink-resolved target must lie under one of the roots
    (roots are compared both as written and resolved, so a root that is itself a link works).

    Raises:
        UnsafeInputError: a ``..`` component, NUL or control characters in the path, no
            roots given, or the path / its link target outside every root.
    """
    raw = os.fspath(path)
    if has_control_chars(raw):
        raise UnsafeInputError(f"refusing path {raw!r}: it contains NUL or control characters")
    if ".." in Path(raw).parts:
        raise UnsafeInputError(f"refusing path {raw!r}: it contains a '..' component")
    if not allowed_roots:
        raise UnsafeInputError(f"refusing path {raw!r}: no allowed roots were given")
    lexical = Path(os.path.abspath(raw))
    real = Path(os.path.realpath(raw))
    lexical_roots = [Path(os.path.abspath(root)) for root in allowed_roots]
    real_roots = [Path(os.path.realpath(root)) for root in allowed_roots]
    if not any(lexical.is_relative_to(root) for root in lexical_roots + real_roots):
        raise UnsafeInputError(f"refusing {raw}: it is outside the allowed directories")
    if not any(real.is_relative_to(root) for root in real_roots):
        raise UnsafeInputError(
            f"refusing {raw}: it resolves to {real}, outside the allowed directories"
        )
    return real
