"""Durable file replacement: temp files named before they exist, fsync, rename, fsync dir.

Every writer (client files through :func:`adapters.files.atomic_write`, pre-images, exports,
``sync.toml``, skill folders) puts its file in place with :func:`replace_durably`, so a rename
is never undone by a power cut. Temp files are ``.synapse.<name>.<token>.tmp`` next to the
file they replace (:func:`write_temp_path`); a write intent records them before they exist,
and only those recorded are ever removed (:func:`remove_recorded_temps`). Re-exported by
:mod:`adapters.files`.
"""

from __future__ import annotations

import os
import secrets
import stat
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Final

__all__ = [
    "TEMP_PREFIX",
    "fsync_dir",
    "remove_recorded_temps",
    "replace_durably",
    "write_durably",
    "write_exclusive",
    "write_temp_path",
]

#: Names starting with this are Synapse's temp files (the watchers ignore them).
TEMP_PREFIX: Final = ".synapse."
#: Test seam: every named step of a durable write calls these with ``(step, target)``, so a
#: crash test can end the process exactly there. Empty in production.
_step_hooks: list[Callable[[str, Path], None]] = []
_TEMP_SUFFIX: Final = ".tmp"


def _step(name: str, target: Path) -> None:
    for hook in _step_hooks:
        hook(name, target)


def write_temp_path(path: Path, token: str | None = None) -> Path:
    """The temp file a write of ``path`` goes through: ``.synapse.<name>.<token>.tmp`` next to
    the file ``path`` resolves to (a symlink's target, which is what gets replaced).

    Naming the temp before it exists lets the write intent record it, so a restart removes
    exactly that file and never one that merely looks like ours.

    Args:
        path: the file to be written.
        token: the write's random token (a fresh one when None).
    """
    real = Path(os.path.realpath(path))
    token = token or secrets.token_hex(8)
    return real.with_name(f"{TEMP_PREFIX}{real.name}.{token}{_TEMP_SUFFIX}")


def fsync_dir(directory: Path) -> None:
    """fsync ``directory``, making the renames, links and removals in it durable."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def replace_durably(
    source: Path, target: Path, *, overwrite: bool = True, sync_source: bool = False
) -> None:
    """Atomically put ``source`` in place of ``target``, then fsync ``target``'s directory.

    Every rename Synapse makes over a file goes through here: without the directory fsync a
    power cut can undo a rename that looked done (the new name lives in the directory).

    Args:
        source: the complete new file, in ``target``'s directory.
        target: the file to replace (or create).
        overwrite: False = create only: an existing ``target`` is kept and
            :class:`FileExistsError` raised (``source`` stays for the caller to remove).
        sync_source: fsync ``source``'s data first (a file someone else wrote, e.g. DuckDB).

    Raises:
        OSError: the rename or either fsync failed.
    """
    if sync_source:
        _fsync_file(source)
    if overwrite:
        os.replace(source, target)
    else:
        os.link(source, target)  # fails on an existing target: a create that never clobbers
        os.unlink(source)
    _step("renamed", target)
    fsync_dir(target.parent)
    _step("dir-synced", target)


def write_exclusive(
    temp: Path, target: Path, data: bytes, mode: int, owner: os.stat_result | None = None
) -> None:
    """Create ``temp`` for ``target`` (never over an existing file or a link), write ``data``,
    set ``mode``, fsync. On failure a temp this created is removed; one that already existed
    (:class:`FileExistsError`) is not ours to remove."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    fd = os.open(temp, flags, 0o600)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fchmod(fd, mode)  # before fsync, so the durable file never has looser bits
            if owner is not None and os.geteuid() == 0:
                os.fchown(fd, owner.st_uid, owner.st_gid)
            _step("written", target)
            os.fsync(fd)
            _step("fsynced", target)
        finally:
            os.close(fd)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def write_durably(
    path: Path, data: bytes, *, temp: Path | None = None, overwrite: bool = True
) -> None:
    """Write a file Synapse owns (a pre-image, ``sync.toml``): temp, fsync, rename, fsync dir.

    Args:
        path: the file; its directory must exist.
        data: the complete content (the file is created 0600).
        temp: the temp file to go through (default: a fresh :func:`write_temp_path`).
        overwrite: False = keep an existing ``path`` (:class:`FileExistsError`).

    Raises:
        OSError: any step failed; ``path`` is as it was and the temp is gone.
    """
    temp = temp or write_temp_path(path)
    write_exclusive(temp, path, data, 0o600)
    try:
        replace_durably(temp, path, overwrite=overwrite)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def remove_recorded_temps(paths: Iterable[Path]) -> list[Path]:
    """Remove temp files Synapse recorded creating (in a write intent) that a crash left.

    Only the given paths are touched, never a directory listing: a user's own
    ``.synapse.notes.txt`` next to a synced file is not ours. As a second guard, a path that
    is not named like our temps (``.synapse.*.tmp``) or is not a regular file is kept.

    Returns:
        The paths removed.
    """
    removed: list[Path] = []
    for path in dict.fromkeys(paths):
        if not (path.name.startswith(TEMP_PREFIX) and path.name.endswith(_TEMP_SUFFIX)):
            continue
        try:
            if not stat.S_ISREG(os.lstat(path).st_mode):
                continue
            path.unlink()
        except FileNotFoundError:
            continue
        removed.append(path)
    return sorted(removed)
