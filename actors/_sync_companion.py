"""Writes that span two files: a Rovo Dev saved prompt's content file and its ``prompts.yml``.

A prompt is its Markdown content file plus an entry in the index. Rovo Dev sees a prompt only
through its entry, so the order of the two writes decides what a crash or a failure between
them can leave behind:

* creating or editing: the content file first, then the index; removing: the index entry
  first, then the content file. In between, at worst a content file exists that no entry
  lists (invisible, harmless), never an entry without its content (a scan of that is
  incomplete anyway: the vanished file is never taken for a deletion).
* if the second write fails, the first is undone from its pre-image (compare-and-swap, like
  any revert), so a write is confirmed only when both landed.
* a change whose content file is already right but whose index entry is not (a new
  description) is written as a change of the index alone.

One pass writes at most one change per file (:func:`one_per_file`): two prompts of one index
would otherwise race on it; the deferred ones are planned again against the new index.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

from actors._sync_io import entity_from_value
from actors._sync_record import WriteRecord
from actors._sync_write import FileChange, PreimageStore, apply_change, revert_file
from adapters.base import ClientAdapter, ConfigFile
from adapters.files import WriteFailedError, read_config, sha256_hex
from events.errors import WriteConflictError

__all__ = ["Landed", "apply_pair", "one_per_file", "revert_write", "with_companion"]

#: ``(pre_image_ref, sha256)`` of one written file.
Part = tuple[str | None, str]
#: What :func:`apply_pair` returns: the change's own part, and its companion's (if any).
Landed = tuple[str | None, str, Part | None]


def with_companion(
    change: FileChange, adapter: ClientAdapter, cfg: ConfigFile, roots: Sequence[Path]
) -> FileChange:
    """``change`` with the companion change its file needs (itself when it has none).

    Raises:
        AdapterError: the companion cannot be read, or holds a hostile entry.
        ValueError: the companion's edit is impossible.
    """
    path = adapter.companion_of(cfg)
    if path is None:
        return change
    if len(change.writes) != 1:
        msg = f"{change.path}: one prompt per content file, got {len(change.writes)} writes"
        raise ValueError(msg)
    write = change.writes[0]
    wanted = None
    if write.value is not None:
        wanted = entity_from_value(write.key, write.value, scope=str(cfg.scope))
    snap = read_config(path, allowed_roots=roots)
    text = "" if snap is None else snap.data.decode("utf-8")
    new = adapter.render_companion(cfg, text, wanted).encode("utf-8")
    pre = None if snap is None else snap.sha256
    if pre is None and not new.strip():
        return change  # no index, and none needed (a prompt removed that was never listed)
    companion = FileChange(change.client, str(path), pre, sha256_hex(new), (), _new=new, _old=text)
    if companion.is_noop:
        return change
    if change.pre_sha256 == change.new_sha256:
        # Only the index changes (a description): it is the change, and its record.
        return dataclasses.replace(companion, writes=change.writes, losses=change.losses)
    return dataclasses.replace(change, companion=companion)


def one_per_file(changes: Sequence[FileChange]) -> tuple[list[FileChange], list[FileChange]]:
    """Split ``changes`` into those to write now (no two touch one file) and the deferred."""
    taken: set[str] = set()
    now: list[FileChange] = []
    later: list[FileChange] = []
    for change in changes:
        paths = {part.path for part in change.parts}
        if paths & taken:
            later.append(change)
            continue
        taken |= paths
        now.append(change)
    return now, later


def apply_pair(change: FileChange, roots: Sequence[Path], preimages: PreimageStore) -> Landed:
    """Write ``change`` and its companion in the safe order; undo the first if the second
    fails.

    Returns:
        The change's ``(pre_image_ref, sha256)`` and its companion's (None: no companion).

    Raises:
        WriteConflictError: a file changed since it was planned; nothing was left written.
        WriteFailedError: an OS error; nothing was left written (or, if even the undo
            failed, the message says which file holds what).
    """
    companion = change.companion
    if companion is None:
        return (*apply_change(change, roots, preimages), None)
    first, second = (companion, change) if change.delete else (change, companion)
    done = apply_change(first, roots, preimages)
    try:
        then = apply_change(second, roots, preimages)
    except Exception as e:
        # Whatever stopped the second write, the first must not stay confirmed-looking.
        try:
            revert_file(Path(first.path), done[1], done[0], roots, preimages)
        except Exception as undo:  # noqa: BLE001 - reported with the first error
            msg = (
                f"{second.path} was not written ({e}) and undoing {first.path} failed "
                f"({undo}); {first.path} holds the new content"
            )
            raise WriteFailedError(msg) from e
        raise
    own, other = (then, done) if change.delete else (done, then)
    return (*own, other)


def revert_write(rec: WriteRecord, roots: Sequence[Path], preimages: PreimageStore) -> list[str]:
    """Undo one recorded write: every file it changed gets back its exact pre-image.

    With a companion, both files are checked first; then the one whose revert removes the
    prompt from Rovo Dev's view goes first (the index entry before a content file the write
    created).

    Returns:
        The paths restored.

    Raises:
        WriteConflictError: a file changed since that write; nothing was touched.
    """
    steps = [(Path(rec.path), rec.pre_image_ref, rec.sha256)]
    if rec.companion is not None:
        path, sha, ref = rec.companion
        steps.append((Path(path), ref, sha))
        if rec.pre_image_ref is None:
            steps.reverse()  # the write created the content file: drop its entry first
    for file, _, sha in steps:
        snap = read_config(file, allowed_roots=roots)
        if (None if snap is None else snap.sha256) != (sha or None):
            msg = f"{file} changed since the write; not reverting over newer content"
            raise WriteConflictError(msg)
    for file, ref, sha in steps:
        revert_file(file, sha, ref, roots, preimages)
    return [str(file) for file, _, _ in steps]
