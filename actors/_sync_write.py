"""Planning and applying file changes: surgical edits, redacted diffs, pre-images for revert.

A :class:`FileChange` is computed from a fresh read of the target and the engine's writes for
it; it carries hashes and a redacted diff, never file text that could leave the process. The
apply step stores the exact pre-image bytes (0600, under ``preimages/``, named by sha256)
*before* the atomic compare-and-swap write, so a crash between the two still leaves a way back.
"""

from __future__ import annotations

import difflib
import os
import re
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from actors._sync_io import entity_from_value
from actors._sync_types import Write
from adapters.base import ClientAdapter, ConfigFile, Desired
from adapters.files import WriteFailedError, atomic_write, read_config, sha256_hex
from events.client_config import Entity, EntityKey, Loss
from events.errors import WriteConflictError
from projections.redact import mask_credentials

__all__ = [
    "FileChange",
    "PreimageStore",
    "apply_change",
    "apply_changes",
    "plan_change",
    "redact_text",
]

_SECRET_ASSIGN = re.compile(
    r"""(?P<head>["']?[\w.-]*(?:token|secret|passw|api[_-]?key|authorization|credential|cookie)"""
    r"""[\w.-]*["']?\s*[:=]\s*)(?P<q>["'])(?P<v>[^"'\n]*)(?P=q)""",
    re.IGNORECASE,
)
_REFERENCE = re.compile(r"^\s*(?:Bearer\s+)?(?:\$\{[^}]*\}|\{env:[^}]*\}|\$[A-Za-z_]\w*)\s*$")


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
        new_sha256: hash of the content to write.
        writes: the engine writes this change carries out.
        losses: what the target cannot express.
        diff: unified diff, secrets redacted.
    """

    client: str
    path: str
    pre_sha256: str | None
    new_sha256: str
    writes: tuple[Write, ...]
    losses: tuple[Loss, ...] = ()
    _new: bytes = field(default=b"", repr=False, compare=False)
    _old: str = field(default="", repr=False, compare=False)

    @property
    def is_noop(self) -> bool:
        """The file already holds the desired content."""
        return self.pre_sha256 == self.new_sha256

    @cached_property
    def diff(self) -> str:
        """Unified diff, secrets redacted (computed when shown: applying needs none)."""
        if self.is_noop:
            return ""
        lines = difflib.unified_diff(
            redact_text(self._old).splitlines(keepends=True),
            redact_text(self._new.decode("utf-8")).splitlines(keepends=True),
            fromfile=self.path,
            tofile=self.path,
        )
        return "".join(lines)


class PreimageStore:
    """Exact previous bytes of every file we changed, in 0600 files named by their sha256.

    Args:
        directory: where pre-images live (created 0700).
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)

    def put(self, data: bytes) -> str:
        """Store ``data`` (idempotent) and return its sha256 reference."""
        ref = sha256_hex(data)
        path = self.directory / ref
        if path.exists():
            return ref
        # Unique per thread too: parallel writes may keep the same pre-image at once.
        temp = self.directory / f".{ref}.{os.getpid()}.{threading.get_ident()}.tmp"
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(temp, path)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
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
    snap = read_config(cfg.path, allowed_roots=roots)
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
    new = rendered.text.encode("utf-8")
    pre = None if snap is None else snap.sha256
    new_sha = sha256_hex(new)
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
        _new=new,
        _old=text,
    )


def apply_change(
    change: FileChange, roots: Sequence[Path], preimages: PreimageStore
) -> tuple[str | None, str]:
    """Write ``change`` if the target still holds what it was planned against.

    Returns:
        ``(pre_image_ref, new_sha256)``; the ref is None when the file did not exist.

    Raises:
        WriteConflictError: the target changed since the plan; nothing was written.
        WriteFailedError: disk full or another OS error; the original is intact.
    """
    path = Path(change.path)
    snap = read_config(path, allowed_roots=roots)
    found = None if snap is None else snap.sha256
    if found != change.pre_sha256:
        msg = f"{path} changed since it was planned; nothing was written"
        raise WriteConflictError(msg, hint="rescan and plan again")
    try:
        ref = None if snap is None else preimages.put(snap.data)
    except OSError as e:
        msg = f"cannot keep the pre-image of {path} ({e.strerror}); nothing was written"
        raise WriteFailedError(msg, errno_=e.errno) from e
    result = atomic_write(path, change._new, expected_sha256=change.pre_sha256, allowed_roots=roots)
    return ref, result.sha256


#: Most target files written at once (one round touches one file per client).
MAX_PARALLEL_WRITES = 8


def apply_changes(
    changes: Sequence[FileChange], roots: Sequence[Path], preimages: PreimageStore
) -> list[tuple[str | None, str] | Exception]:
    """Apply each change as :func:`apply_change` does, several files at once.

    Most of a write is waiting for fsyncs (pre-image, file, directory), which release the
    GIL; writing the targets in parallel overlaps those waits. Changes that resolve to the
    same file run one after the other, in the given order, so each one's compare-and-swap
    sees the previous one's result.

    Returns:
        Per change, in order: ``(pre_image_ref, new_sha256)``, or the exception it raised
        (nothing is raised here, so one failed target never hides the others' outcomes).
    """
    groups: dict[str, list[int]] = {}
    for i, change in enumerate(changes):
        groups.setdefault(os.path.realpath(change.path), []).append(i)
    results: list[tuple[str | None, str] | Exception] = [ValueError("not run")] * len(changes)

    def run(indexes: list[int]) -> None:
        for i in indexes:
            try:
                results[i] = apply_change(changes[i], roots, preimages)
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
