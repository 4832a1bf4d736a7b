"""Three-way merge of block sequences, and its fold over many files (pure; no I/O).

Sequences hold block keys (:func:`actors._md_blocks.block_key`). :func:`merge3` is diff3:
regions where only one side moved from the base take that side; regions both sides moved
the same way are taken once; regions both moved differently are a conflict, except two
insertions at the same place (nothing of the base between them), which are both kept in an
order that does not depend on which side is which (so merging commutes).

:func:`merge_files` folds :func:`merge3` over every file of a group, each against its own
base (the last synced state of that file): a file that missed a round merges from the base
it had, so what others did since is not read as that file undoing it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher

__all__ = ["FileSide", "Merged", "Region", "common_base", "merge3", "merge_files"]

Keys = tuple[str, ...]


@dataclass(frozen=True)
class Region:
    """A conflicting region: the base's keys there and each side's replacement."""

    base: Keys
    left: Keys
    right: Keys


@dataclass
class Merged:
    """The merge result; ``conflicts`` non-empty means it must not be written."""

    keys: list[str]
    conflicts: list[Region] = field(default_factory=list)


def _sync_regions(base: Keys, a: Keys, b: Keys) -> list[tuple[int, int, int, int, int, int]]:
    """Base ranges unchanged on both sides, with where they sit in ``a`` and ``b``."""
    am = SequenceMatcher(None, base, a, autojunk=False).get_matching_blocks()
    bm = SequenceMatcher(None, base, b, autojunk=False).get_matching_blocks()
    ia = ib = 0
    out = []
    while ia < len(am) and ib < len(bm):
        abase, amatch, alen = am[ia]
        bbase, bmatch, blen = bm[ib]
        lo, hi = max(abase, bbase), min(abase + alen, bbase + blen)
        if lo < hi:
            asub, bsub = amatch + lo - abase, bmatch + lo - bbase
            out.append((lo, hi, asub, asub + hi - lo, bsub, bsub + hi - lo))
        if abase + alen < bbase + blen:
            ia += 1
        else:
            ib += 1
    out.append((len(base), len(base), len(a), len(a), len(b), len(b)))
    return out


def merge3(
    base: Sequence[str],
    left: Sequence[str],
    right: Sequence[str],
    choose: Callable[[Region], Keys | None] | None = None,
) -> Merged:
    """Merge ``left`` and ``right``, both edited from ``base``.

    Args:
        base: the common ancestor.
        left: one side.
        right: the other side.
        choose: settles a conflicting region (returns its keys), or leaves it (None).

    Returns:
        The merged keys, and the regions left in conflict.
    """
    z, a, b = tuple(base), tuple(left), tuple(right)
    out: list[str] = []
    conflicts: list[Region] = []
    iz = ia = ib = 0
    for zlo, zhi, alo, ahi, blo, bhi in _sync_regions(z, a, b):
        zs, as_, bs = z[iz:zlo], a[ia:alo], b[ib:blo]
        if as_ == bs or bs == zs:
            out += as_
        elif as_ == zs:
            out += bs
        elif not zs:
            first, second = sorted((as_, bs))
            out += first + tuple(k for k in second if k not in first)
        elif (finer := _refine(zs, as_, bs)) is not None:
            out += finer
        else:
            region = Region(zs, as_, bs)
            chosen = choose(region) if choose is not None else None
            if chosen is None:
                conflicts.append(region)
                out += as_
            else:
                out += chosen
        out += z[zlo:zhi]
        iz, ia, ib = zhi, ahi, bhi
    return Merged(_dedupe(out, (a, b)), conflicts)


def _edits(base: Keys, side: Keys) -> list[tuple[int, int, Keys]]:
    ops = SequenceMatcher(None, base, side, autojunk=False).get_opcodes()
    return [(i1, i2, side[j1:j2]) for tag, i1, i2, j1, j2 in ops if tag != "equal"]


def _overlap(a: tuple[int, int, Keys], b: tuple[int, int, Keys]) -> bool:
    (a1, a2, _), (b1, b2, _) = a, b
    if a1 == a2 and b1 == b2:
        return a1 == b1
    if a1 == a2:
        return b1 < a1 < b2
    if b1 == b2:
        return a1 < b1 < a2
    return a1 < b2 and b1 < a2


def _refine(base: Keys, left: Keys, right: Keys) -> Keys | None:
    """Both sides changed one region, but different blocks of it (one rule edited, the
    next removed): apply both, block by block. None when they touch the same block."""
    edits = [*_edits(base, left), *_edits(base, right)]
    if any(_overlap(x, y) for i, x in enumerate(edits) for y in edits[i + 1 :]):
        return None
    out: list[str] = []
    at = 0
    for i1, i2, keys in sorted(edits, key=lambda e: (e[0], e[1])):
        out += base[at:i1]
        out += keys
        at = i2
    return tuple(out + list(base[at:]))


def _dedupe(keys: list[str], sides: Sequence[Keys]) -> list[str]:
    """Drop later copies of a key the merge repeated more often than any side holds it
    (the same rule added at two places by two clients is one rule)."""
    most: Counter[str] = Counter()
    for side in sides:
        for key, n in Counter(side).items():
            most[key] = max(most[key], n)
    seen: Counter[str] = Counter()
    out = []
    for key in keys:
        seen[key] += 1
        if seen[key] <= max(most[key], 1):
            out.append(key)
    return out


def common_base(sides: Sequence[Sequence[str]]) -> list[str]:
    """A common subsequence of every side: the base of a first sync (nothing is deleted by
    a first sync; what any file has more than the others is added to them)."""
    if not sides:
        return []
    base = list(sides[0])
    for side in sides[1:]:
        matcher = SequenceMatcher(None, base, list(side), autojunk=False)
        base = [k for i, _, n in matcher.get_matching_blocks() for k in base[i : i + n]]
    return base


@dataclass(frozen=True)
class FileSide:
    """One file of a group: its client, its base and what it holds now."""

    client: str
    base: Keys | None
    current: Keys


def merge_files(
    sides: Sequence[FileSide],
    start: Sequence[str] | None,
    choose: Callable[[str, Region], Keys | None] | None = None,
) -> tuple[list[str], list[tuple[str, Region]]]:
    """Fold every file's edits (from its own base) into one sequence.

    Args:
        sides: the group's files, in a stable order.
        start: the latest recorded base of the group (None: nothing synced yet, the common
            subsequence of all files is the base).
        choose: ``(client, region)`` → settled keys, for conflicts a person resolved.

    Returns:
        The merged keys, and each conflict with the client whose file met it.
    """
    fallback = tuple(common_base([s.current for s in sides]))
    merged = list(start if start is not None else fallback)
    conflicts: list[tuple[str, Region]] = []
    for side in sides:
        base = side.base if side.base is not None else tuple(common_base([side.current, merged]))
        settle = (lambda r, c=side.client: choose(c, r)) if choose is not None else None
        result = merge3(base, merged, side.current, settle)
        merged = result.keys
        conflicts += [(side.client, r) for r in result.conflicts]
    return merged, conflicts
