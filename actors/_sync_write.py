"""Planning and applying file changes: surgical edits, redacted diffs, pre-images for revert.

A :class:`FileChange` is computed from a fresh read of the target and the engine's writes for
it; it carries hashes and a redacted diff, never file text that could leave the process. The
apply step stores the exact pre-image bytes (0600, under ``preimages/``, named by sha256)
*before* the atomic compare-and-swap write, so a crash between the two still leaves a way back.
Each change carries a random token naming every temp file its write creates
(:meth:`FileChange.temps`), so the write intent can record them before they exist and a
restart removes those and nothing else (:mod:`actors._sync_reconcile`).

A one-entity-per-file kind (command, subagent) whose entity is deleted deletes its file, with
the same compare-and-swap and pre-image; :func:`revert_file` undoes any of these writes.
"""

from __future__ import annotations

import contextlib
import difflib
import os
import re
import secrets
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TypeVar

from actors._sync_io import entity_from_value
from actors._sync_types import Write
from adapters.base import ClientAdapter, ConfigFile, Desired
from adapters.files import (
    MAX_LARGE_CONFIG_BYTES,
    WriteFailedError,
    atomic_write,
    fsync_dir,
    read_config,
    sha256_hex,
    write_durably,
    write_temp_path,
)
from events.client_config import Entity, EntityKey, Loss
from events.errors import WriteConflictError
from projections.redact import mask_credentials

__all__ = [
    "FileChange",
    "PreimageStore",
    "apply_change",
    "apply_changes",
    "delete_file",
    "plan_change",
    "redact_text",
    "revert_file",
    "unified_diff",
]

T = TypeVar("T")
_SECRET_ASSIGN = re.compile(
    r"""(?P<head>["']?[\w.-]*(?:token|secret|passw|api[_-]?key|authorization|credential|cookie)"""
    r"""[\w.-]*["']?\s*[:=]\s*)(?P<q>["'])(?P<v>[^"'\n]*)(?P=q)""",
    re.IGNORECASE,
)
_REFERENCE = re.compile(r"^\s*(?:Bearer\s+)?(?:\$\{[^}]*\}|\{env:[^}]*\}|\$[A-Za-z_]\w*)\s*$")


def unified_diff(old: str, new: str, fromfile: str, tofile: str) -> str:
    """A unified diff of two texts, secrets redacted, readable by any patch tool.

    A last line without a newline is followed by git's ``\\ No newline at end of file``
    marker; without it the next line of the diff would be glued onto that line.
    """
    lines = difflib.unified_diff(
        redact_text(old).splitlines(keepends=True),
        redact_text(new).splitlines(keepends=True),
        fromfile=fromfile,
        tofile=tofile,
    )
    return "".join(
        line if line.endswith("\n") else f"{line}\n\\ No newline at end of file\n" for line in lines
    )


def redact_text(text: str) -> str:
    """Mask secrets in config text: values of secret-named keys and credential shapes."""

    def mask(match: re.Match[str]) -> str:
        value = match.group("v")
        if not value or _REFERENCE.match(value):
            return match.group(0)
        return f"{match.group('head')}{match.group('q')}***{match.group('q')}"

    return mask_credentials(_SECRET_ASSIGN.sub(mask, text)) if text else text


@dataclass(frozen=True)
class FileChange:
    """One planned file write (hashes and a redacted diff; never the text itself).

    Attributes:
        client: the target client.
        path: the target path as the client names it.
        pre_sha256: hash the file must still have (None = it must not exist).
        new_sha256: hash of the content to write ("" when the file is deleted).
        writes: the engine writes this change carries out.
        losses: what the target cannot express.
        delete: the file is removed (its only entity was deleted).
        companion: the change of the file that must land with this one (a Rovo Dev prompt's
            ``prompts.yml``; :mod:`actors._sync_companion`).
        token: random, names this write's temp files (:attr:`temp`), so the write intent can
            record them before they exist and a restart removes exactly those.
    """

    client: str
    path: str
    pre_sha256: str | None
    new_sha256: str
    writes: tuple[Write, ...]
    losses: tuple[Loss, ...] = ()
    delete: bool = False
    companion: FileChange | None = None
    _new: bytes = field(default=b"", repr=False, compare=False)
    _old: str = field(default="", repr=False, compare=False)
    token: str = field(default_factory=lambda: secrets.token_hex(8), compare=False)

    @property
    def is_noop(self) -> bool:
        """The file (and its companion) already holds the desired content."""
        own = self.pre_sha256 == self.new_sha256
        return own and (self.companion is None or self.companion.is_noop)

    @property
    def parts(self) -> tuple[FileChange, ...]:
        """This change and its companion's, in the order they are checked."""
        return (self,) if self.companion is None else (self, self.companion)

    @cached_property
    def temp(self) -> Path:
        """The temp file the write goes through (a delete's rename-aside), fixed at first use:
        the intent records it, the write then creates exactly that file."""
        return write_temp_path(Path(self.path), self.token)

    def temps(self, preimages: PreimageStore) -> list[str]:
        """Every temp file writing this change (and its companion) may create."""
        out: list[str] = []
        for part in self.parts:
            out.append(str(part.temp))
            if part.pre_sha256:
                out.append(str(preimages.temp_for(part.pre_sha256, part.token)))
        return out

    def intent_fields(self, preimages: PreimageStore) -> dict[str, object]:
        """The ``WritePlanned`` fields a restart settles this write by: the planned hashes
        and every temp file it may create, named before any of them exists."""
        other = self.companion
        return {
            "pre_sha256": self.pre_sha256,
            "new_sha256": self.new_sha256,
            "temp_paths": tuple(self.temps(preimages)),
            "companion_path": None if other is None else other.path,
            "companion_pre_sha256": None if other is None else other.pre_sha256,
            "companion_sha256": "" if other is None else other.new_sha256,
        }

    @cached_property
    def diff(self) -> str:
        """Unified diff, secrets redacted (computed when shown: applying needs none)."""
        own = ""
        if self.pre_sha256 != self.new_sha256:
            own = unified_diff(
                self._old,
                self._new.decode("utf-8"),
                self.path,
                "/dev/null" if self.delete else self.path,
            )
        return own + ("" if self.companion is None else self.companion.diff)


class PreimageStore:
    """Exact previous bytes of every file we changed, in 0600 files named by their sha256.

    Args:
        directory: where pre-images live (created 0700).
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)

    def temp_for(self, ref: str, token: str) -> Path:
        """The temp file storing pre-image ``ref`` for the write with ``token`` goes through."""
        return write_temp_path(self.directory / ref, token)

    def put(self, data: bytes, *, token: str | None = None) -> str:
        """Store ``data`` (idempotent, durable: fsynced file and directory); return its ref.

        Args:
            data: the bytes.
            token: the write's token, naming the temp file (:meth:`temp_for`); a fresh one
                when None. Distinct per write, so parallel writes keeping the same pre-image
                never share a temp.
        """
        ref = sha256_hex(data)
        path = self.directory / ref
        if path.exists():
            return ref
        write_durably(path, data, temp=self.temp_for(ref, token or secrets.token_hex(8)))
        return ref

    def get(self, ref: str) -> bytes:
        """Return the bytes stored under ``ref``.

        Raises:
            FileNotFoundError: no such pre-image.
            ValueError: the stored bytes no longer match their hash.
        """
        data = (self.directory / ref).read_bytes()
        if sha256_hex(data) != ref:
            msg = f"pre-image {ref[:12]} is corrupt"
            raise ValueError(msg)
        return data


def plan_change(
    adapter: ClientAdapter, cfg: ConfigFile, roots: Sequence[Path], writes: Sequence[Write]
) -> FileChange:
    """Render ``writes`` into a fresh read of ``cfg`` (surgical edits; nothing written).

    Raises:
        AdapterError: the target cannot be read or parsed (it is then not written).
    """
    snap = read_config(cfg.path, allowed_roots=roots, max_bytes=cfg.max_bytes)
    text = "" if snap is None else snap.data.decode("utf-8")
    current: dict[tuple[str, str], Entity] = {}
    if text.strip():
        current = {tuple(e.key): e for e in adapter.parse(cfg, text)}  # type: ignore[misc]
    desired: dict[EntityKey, Entity | None] = {}
    for w in writes:
        key = EntityKey(*w.key)
        desired[key] = (
            None
            if w.value is None
            else entity_from_value(w.key, w.value, scope=str(cfg.scope), current=current.get(w.key))
        )
    plan_desired: Desired = desired
    rendered = adapter.render(cfg, text, plan_desired)
    delete = rendered.delete_file and snap is not None
    new = rendered.text.encode("utf-8")
    pre = None if snap is None else snap.sha256
    new_sha = "" if delete else sha256_hex(new)
    if snap is None and not rendered.text.strip():
        new_sha = ""  # nothing to create
        pre = ""
    return FileChange(
        str(cfg.client),
        str(cfg.path),
        pre,
        new_sha,
        tuple(writes),
        tuple(rendered.losses),
        delete,
        _new=new,
        _old=text,
    )


def apply_change(
    change: FileChange, roots: Sequence[Path], preimages: PreimageStore
) -> tuple[str | None, str]:
    """Write ``change`` if the target still holds what it was planned against.

    Returns:
        ``(pre_image_ref, new_sha256)``; the ref is None when the file did not exist, the hash
        is "" when the file was deleted.

    Raises:
        WriteConflictError: the target changed since the plan; nothing was written.
        WriteFailedError: disk full or another OS error; the original is intact.
    """
    path = Path(change.path)
    # Hash-only reads (here and below) take any file up to the large cap: the planning read
    # applied the file's own limit, and a file over it cannot match the planned hash.
    snap = read_config(path, allowed_roots=roots, max_bytes=MAX_LARGE_CONFIG_BYTES)
    found = None if snap is None else snap.sha256
    if found != change.pre_sha256:
        msg = f"{path} changed since it was planned; nothing was written"
        raise WriteConflictError(msg, hint="rescan and plan again")
    try:
        ref = None if snap is None else preimages.put(snap.data, token=change.token)
    except OSError as e:
        msg = f"cannot keep the pre-image of {path} ({e.strerror}); nothing was written"
        raise WriteFailedError(msg, errno_=e.errno) from e
    if change.delete and change.pre_sha256 is not None:
        delete_file(path, change.pre_sha256, roots, preimages, aside=change.temp)
        return ref, ""
    result = atomic_write(
        path,
        change._new,
        expected_sha256=change.pre_sha256,
        allowed_roots=roots,
        temp=change.temp,
    )
    return ref, result.sha256


#: Most target files written at once (one round touches one file per client).
MAX_PARALLEL_WRITES = 8


def apply_changes(
    changes: Sequence[FileChange],
    roots: Sequence[Path],
    preimages: PreimageStore,
    apply: Callable[[FileChange, Sequence[Path], PreimageStore], T] = apply_change,  # type: ignore[assignment]
) -> list[T | Exception]:
    """Apply each change as :func:`apply_change` does, several files at once.

    Most of a write is waiting for fsyncs (pre-image, file, directory), which release the
    GIL; writing the targets in parallel overlaps those waits. Changes that resolve to the
    same file run one after the other, in the given order, so each one's compare-and-swap
    sees the previous one's result.

    Args:
        changes: the changes to write.
        roots: directories the targets must stay under.
        preimages: where pre-images are kept.
        apply: writes one change (default :func:`apply_change`).

    Returns:
        Per change, in order: what ``apply`` returned (``(pre_image_ref, new_sha256)``), or
        the exception it raised (nothing is raised here, so one failed target never hides
        the others' outcomes).
    """
    groups: dict[str, list[int]] = {}
    for i, change in enumerate(changes):
        groups.setdefault(os.path.realpath(change.path), []).append(i)
    results: list[T | Exception] = [ValueError("not run")] * len(changes)

    def run(indexes: list[int]) -> None:
        for i in indexes:
            try:
                results[i] = apply(changes[i], roots, preimages)
            except Exception as e:  # noqa: BLE001 - handed back to the caller, per change
                results[i] = e

    if len(groups) <= 1:
        for indexes in groups.values():
            run(indexes)
        return results
    list(_writer_pool().map(run, groups.values()))
    return results


_POOL: list[ThreadPoolExecutor] = []
_POOL_LOCK = threading.Lock()


def _writer_pool() -> ThreadPoolExecutor:
    """The process's writer threads, started on first use and kept (a round is ~10 ms;
    starting seven threads for each would cost a good part of that)."""
    with _POOL_LOCK:
        if not _POOL:
            _POOL.append(ThreadPoolExecutor(MAX_PARALLEL_WRITES, "sync-write"))
        return _POOL[0]


def _conflict(path: Path) -> WriteConflictError:
    msg = f"{path} changed since it was read; nothing was deleted"
    return WriteConflictError(msg, hint="rescan and plan again")


def delete_file(
    path: Path,
    expected_sha256: str,
    roots: Sequence[Path],
    preimages: PreimageStore,
    *,
    aside: Path | None = None,
) -> None:
    """Remove ``path`` if it still holds ``expected_sha256`` (compare-and-swap delete).

    The file is first renamed aside in its own directory, then checked again: a client write
    that slipped in between is put back (or, if the client already made a new file, kept as
    a pre-image), so no content is lost in the race. A symlink loses the link, not its target.

    Args:
        path: the file.
        expected_sha256: what it must still hold.
        roots: directories it must stay under.
        preimages: where a slipped-in client write is kept.
        aside: the name to rename it aside to, as the write intent recorded it (default a
            fresh :func:`~adapters.files.write_temp_path`).

    Raises:
        WriteConflictError: the file changed or vanished; nothing was deleted.
        WriteFailedError: an OS error; the file is intact.
    """
    snap = read_config(path, allowed_roots=roots, max_bytes=MAX_LARGE_CONFIG_BYTES)
    if snap is None or snap.sha256 != expected_sha256:
        raise _conflict(path)
    real = snap.real_path
    try:
        if path.is_symlink():
            path.unlink()  # the dotfile-manager copy the link points to stays
            return
        aside = aside or write_temp_path(real)
        if aside.parent != real.parent:
            raise _conflict(path)
        os.rename(real, aside)
        data = aside.read_bytes()
        if sha256_hex(data) != expected_sha256:
            preimages.put(data)
            with contextlib.suppress(FileExistsError):
                os.link(aside, real)
            aside.unlink()
            raise _conflict(path)
        aside.unlink()
        fsync_dir(real.parent)
    except OSError as e:
        msg = f"cannot delete {path} ({e.strerror})"
        raise WriteFailedError(msg, errno_=e.errno) from e


def revert_file(
    path: Path,
    sha256: str,
    pre_image_ref: str | None,
    roots: Sequence[Path],
    preimages: PreimageStore,
) -> None:
    """Undo one applied write: restore the pre-image, re-create a deleted file, or delete a
    file the write created.

    Args:
        path: the written file.
        sha256: what the write left ("" = it deleted the file).
        pre_image_ref: the bytes it replaced (None = the file did not exist).
        roots: directories the file must stay under.
        preimages: where the pre-images are.

    Raises:
        WriteConflictError: the file changed since that write; nothing was touched.
    """
    expected = sha256 or None
    snap = read_config(path, allowed_roots=roots, max_bytes=MAX_LARGE_CONFIG_BYTES)
    if (None if snap is None else snap.sha256) != expected:
        msg = f"{path} changed since the write; not reverting over newer content"
        raise WriteConflictError(msg)
    if snap is not None:
        preimages.put(snap.data)  # the revert itself can be undone by hand
    if pre_image_ref is None:
        delete_file(path, sha256, roots, preimages)
    else:
        data = preimages.get(pre_image_ref)
        atomic_write(path, data, expected_sha256=expected, allowed_roots=roots)
