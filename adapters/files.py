"""Safe reads and atomic, compare-and-swap writes of client config files.

Reads refuse oversize, binary and out-of-root files and anything but a regular file (a FIFO
is refused, never waited on), and never return a torn read. Writes go to
a ``.synapse.<name>.<token>.tmp`` temp file in the target's own directory (named before it
exists, so a write intent can record it), are fsynced, re-check that the target still holds
what we planned against, then ``os.replace`` it and fsync the directory
(:func:`replace_durably`, the one rename helper every writer uses); a symlinked target is
written through so dotfile-manager links stay links. A restart removes only temps a write
intent recorded (:func:`remove_recorded_temps`), never files that merely look like ours.

The remaining race (a client writing between our final hash check and the rename) is the one
Unison documents; it is a few system calls wide and no advisory lock binds the clients.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from adapters._durable import (
    TEMP_PREFIX,
    fsync_dir,
    remove_recorded_temps,
    replace_durably,
    write_durably,
    write_temp_path,
)
from adapters._durable import write_exclusive as _write_exclusive
from adapters._paths import has_control_chars, resolve_under_roots
from events.errors import AdapterError, UnsafeInputError, WriteConflictError

__all__ = [
    "MAX_CONFIG_BYTES",
    "MAX_LARGE_CONFIG_BYTES",
    "TEMP_PREFIX",
    "FileSnapshot",
    "ReadFailedError",
    "WriteFailedError",
    "WriteResult",
    "atomic_write",
    "check_entity_name",
    "file_kind",
    "find_case_collisions",
    "fsync_dir",
    "read_config",
    "read_regular",
    "remove_recorded_temps",
    "replace_durably",
    "sha256_hex",
    "write_durably",
    "write_temp_path",
]

MAX_CONFIG_BYTES: Final = 1024 * 1024
#: The limit an adapter may opt a file into (:attr:`adapters.base.ConfigFile.max_bytes`): a
#: long-used ``~/.claude.json`` is 15-100 MB. Also the cap of reads that only hash a file
#: (compare-and-swap checks): they parse nothing, and a file over its own limit cannot match
#: a hash taken under it.
MAX_LARGE_CONFIG_BYTES: Final = 256 * 1024 * 1024
_MAX_NAME: Final = 128
_READ_ATTEMPTS: Final = 5
_ERRNO_WORDS: Final = {
    errno.ENOSPC: "disk full",
    errno.EDQUOT: "disk quota exceeded",
    errno.EROFS: "read-only file system",
    errno.EIO: "I/O error",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
}


class WriteFailedError(AdapterError):
    """Writing a client file failed (disk full, I/O error, read-only); the original is intact.

    Attributes:
        errno: the operating-system error number, when there was one.
    """

    def __init__(self, message: str, *, errno_: int | None = None) -> None:
        super().__init__(message, hint="free space or fix permissions; nothing was changed")
        self.errno = errno_


class ReadFailedError(AdapterError):
    """A client file exists but could not be read (permission denied, I/O error).

    Attributes:
        errno: the operating-system error number, when there was one.
    """

    def __init__(self, message: str, *, errno_: int | None = None) -> None:
        super().__init__(message, hint="check the file's owner and permissions")
        self.errno = errno_


@dataclass(frozen=True)
class FileSnapshot:
    """The bytes of a config file as read, with the hash later writes compare against."""

    path: Path
    real_path: Path
    data: bytes
    sha256: str
    mode: int


@dataclass(frozen=True)
class WriteResult:
    """Outcome of :func:`atomic_write`; ``pre_image`` is the previous content for revert."""

    path: Path
    written: bool
    pre_image: bytes | None
    sha256: str


def sha256_hex(data: bytes) -> str:
    """Return the lowercase hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def file_kind(mode: int) -> str:
    """Name the kind of file ``mode`` (an ``st_mode``) describes: ``fifo``, ``socket`` …"""
    kinds = (
        (stat.S_ISREG, "regular file"),
        (stat.S_ISDIR, "directory"),
        (stat.S_ISFIFO, "fifo"),
        (stat.S_ISSOCK, "socket"),
        (stat.S_ISCHR, "character device"),
        (stat.S_ISBLK, "block device"),
        (stat.S_ISLNK, "symlink"),
    )
    return next((name for test, name in kinds if test(mode)), "unknown kind")


def _not_regular(display: Path, mode: int) -> UnsafeInputError:
    return UnsafeInputError(
        f"refusing {display}: not a regular file ({file_kind(mode)})",
        hint="config folders hold regular files only; remove or move it",
    )


def _read_failed(display: Path, error: OSError) -> ReadFailedError:
    words = _ERRNO_WORDS.get(error.errno or 0, error.strerror or "error")
    return ReadFailedError(f"cannot read {display}: {words}", errno_=error.errno)


def _open_regular(real: Path, display: Path) -> int | None:
    """Open ``real`` for reading without blocking or following a symlink; None if absent.

    ``O_NONBLOCK`` makes opening a FIFO return at once instead of waiting for a writer
    forever; :func:`_read_fd` then refuses it (and every other non-regular file) by fstat.
    """
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    try:
        return os.open(real, flags)
    except FileNotFoundError:
        return None
    except OSError as e:
        if e.errno == errno.ELOOP:
            raise UnsafeInputError(f"refusing {display}: it became a symlink") from e
        if e.errno == errno.ENXIO:  # what open(2) says of a unix socket
            try:
                mode = os.lstat(real).st_mode
            except OSError:
                mode = stat.S_IFSOCK
            raise _not_regular(display, mode) from e
        raise _read_failed(display, e) from e


def _read_fd(fd: int, display: Path, max_bytes: int) -> tuple[bytes, os.stat_result]:
    before = os.fstat(fd)
    if not stat.S_ISREG(before.st_mode):
        raise _not_regular(display, before.st_mode)
    if before.st_size > max_bytes:
        raise UnsafeInputError(
            f"refusing {display}: {before.st_size} bytes is over the {max_bytes} byte limit"
        )
    chunks: list[bytes] = []
    total = 0
    # Ask for the whole expected size (plus a byte, to see growth): a 100 MB
    # ``~/.claude.json`` is then one system call, and joining one chunk copies nothing.
    while chunk := os.read(fd, max(65536, before.st_size + 1 - total)):
        chunks.append(chunk)
        total += len(chunk)
        if total > max_bytes:
            raise UnsafeInputError(f"refusing {display}: over the {max_bytes} byte limit")
    return b"".join(chunks), before


def _read_current(
    real: Path, display: Path, max_bytes: int = MAX_LARGE_CONFIG_BYTES
) -> tuple[bytes, os.stat_result] | None:
    """Read ``real`` (no symlink following) consistently; None if it does not exist.

    The default limit is the hash-only cap: compare-and-swap checks only hash what they read.

    Raises:
        UnsafeInputError: not a regular file, over ``max_bytes``, a symlink, or it kept
            changing while being read.
        ReadFailedError: permission denied, an I/O error or another operating-system error.
    """
    for _ in range(_READ_ATTEMPTS):
        fd = _open_regular(real, display)
        if fd is None:
            return None
        try:
            data, before = _read_fd(fd, display, max_bytes)
            after = os.fstat(fd)
        except OSError as e:
            raise _read_failed(display, e) from e
        finally:
            os.close(fd)
        # A client that truncates and rewrites in place changes size or mtime under us.
        if (before.st_size, before.st_mtime_ns) == (after.st_size, after.st_mtime_ns) and len(
            data
        ) == after.st_size:
            return data, after
    raise UnsafeInputError(f"refusing {display}: it kept changing while being read")


def read_regular(path: Path, *, max_bytes: int = MAX_CONFIG_BYTES) -> bytes | None:
    """The bytes of the regular file ``path`` (a final symlink is not followed); None if absent.

    For callers that checked ``path`` themselves (a skill's files): no root check, no NUL
    check, but never a hang on a FIFO and never a device read.

    Raises:
        UnsafeInputError: not a regular file, over ``max_bytes``, or changing while read.
        ReadFailedError: permission denied or another operating-system error.
    """
    current = _read_current(path, path, max_bytes)
    return None if current is None else current[0]


def read_config(
    path: Path,
    *,
    allowed_roots: Sequence[Path],
    max_bytes: int = MAX_CONFIG_BYTES,
    _before_open: Callable[[Path], None] | None = None,
) -> FileSnapshot | None:
    """Read a client config file safely.

    Opening never blocks (a FIFO is refused, not waited on) and only a regular file is read.

    Args:
        path: the file as the client names it (may be a symlink).
        allowed_roots: directories the file and its link target must stay under.
        max_bytes: the size limit: :data:`MAX_CONFIG_BYTES`, or :data:`MAX_LARGE_CONFIG_BYTES`
            for a file whose adapter opts in (:attr:`adapters.base.ConfigFile.max_bytes`).
        _before_open: test hook called with the resolved path just before it is opened.

    Returns:
        The snapshot, or None when the file does not exist (also when it vanishes mid-read).

    Raises:
        UnsafeInputError: oversize, binary (NUL bytes), not a regular file (a FIFO, socket,
            device or directory: the message names which), outside the roots (itself or its
            symlink target), or a name with ``..``, NUL or control characters.
        ReadFailedError: the file exists but cannot be read (permission denied, I/O error).
    """
    real = resolve_under_roots(path, allowed_roots)
    if _before_open is not None:
        _before_open(real)
    current = _read_current(real, path, max_bytes)
    if current is None:
        return None
    data, info = current
    if b"\x00" in data:
        raise UnsafeInputError(f"refusing {path}: it contains NUL bytes (binary content)")
    return FileSnapshot(path, real, data, sha256_hex(data), stat.S_IMODE(info.st_mode))


def _write_failed(path: Path, error: OSError) -> WriteFailedError:
    words = _ERRNO_WORDS.get(error.errno or 0, error.strerror or "error")
    return WriteFailedError(f"{words} while writing {path}", errno_=error.errno)


def _check_expected(real: Path, display: Path, expected_sha256: str | None) -> bytes | None:
    current = _read_current(real, display)
    data = None if current is None else current[0]
    found = None if data is None else sha256_hex(data)
    if found != expected_sha256:
        state = "absent" if found is None else f"sha256 {found[:12]}"
        planned = "absent" if expected_sha256 is None else f"sha256 {expected_sha256[:12]}"
        raise WriteConflictError(
            f"{display} changed since it was read (expected {planned}, found {state}); "
            "nothing was written",
            hint="rescan and plan again",
        )
    return data


def atomic_write(
    path: Path,
    data: bytes,
    *,
    expected_sha256: str | None,
    allowed_roots: Sequence[Path],
    new_file_mode: int = 0o600,
    temp: Path | None = None,
    _before_replace: Callable[[Path], None] | None = None,
) -> WriteResult:
    """Replace ``path`` with ``data`` atomically, only if it still holds what we planned on.

    Args:
        path: the target; a symlink is written through (its target is replaced, the link stays).
        data: the complete new content.
        expected_sha256: hash of the content we planned against; None means "must be absent".
        allowed_roots: directories the target (and its link target) must stay under.
        new_file_mode: permission bits for a file that did not exist; existing files keep theirs.
        temp: the temp file to write through, as the write intent named it
            (:func:`write_temp_path`); default a fresh one.
        _before_replace: test hook called with the temp path right before ``os.replace``.

    Returns:
        What happened; ``written`` is False (and nothing touched) when the bytes were equal.

    Raises:
        WriteConflictError: the target changed since it was read (or now resolves to another
            directory than ``temp``'s); nothing was written.
        WriteFailedError: disk full or another OS error; the original is byte-identical.
        UnsafeInputError: the target is outside the roots or its name is unsafe.
    """
    real = resolve_under_roots(path, allowed_roots)
    previous = _check_expected(real, path, expected_sha256)
    digest = sha256_hex(data)
    if previous == data:
        return WriteResult(path, False, previous, digest)
    temp = temp or write_temp_path(real)
    if temp.parent != real.parent or not temp.name.startswith(TEMP_PREFIX):
        msg = f"{path} now resolves to {real}, not where its write was planned; nothing written"
        raise WriteConflictError(msg, hint="rescan and plan again")
    try:
        old = os.stat(real, follow_symlinks=False) if previous is not None else None
        real.parent.mkdir(parents=True, exist_ok=True)
        mode = stat.S_IMODE(old.st_mode) if old is not None else new_file_mode
        _write_exclusive(temp, real, data, mode, old)
    except OSError as e:
        raise _write_failed(path, e) from e
    try:
        if _before_replace is not None:
            _before_replace(temp)
        _check_expected(real, path, expected_sha256)
        # A failed directory fsync after the rename only weakens durability; it is reported.
        replace_durably(temp, real)
    except OSError as e:
        temp.unlink(missing_ok=True)
        raise _write_failed(path, e) from e
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return WriteResult(path, True, previous, digest)


def check_entity_name(name: str) -> str:
    """Validate a name that becomes a file name or key (server, command, agent, skill).

    Returns:
        ``name`` unchanged.

    Raises:
        UnsafeInputError: empty, ``.``/``..``, a ``/`` or ``\\``, NUL or control characters, a
            leading ``-`` or ``.``, or longer than 128 characters.
    """
    problem = None
    if not name:
        problem = "it is empty"
    elif len(name) > _MAX_NAME:
        problem = f"it is longer than {_MAX_NAME} characters"
    elif "/" in name or "\\" in name:
        problem = "it contains a path separator"
    elif has_control_chars(name):
        problem = "it contains NUL or control characters"
    elif name.startswith(("-", ".")):
        problem = "it starts with '-' or '.'"
    if problem is not None:
        raise UnsafeInputError(f"refusing name {name!r}: {problem}")
    return name


def find_case_collisions(names: Iterable[str]) -> list[tuple[str, str]]:
    """Return pairs of distinct names that would be the same file on a case-insensitive disk.

    Names are compared after Unicode NFC normalisation and case folding; each pair is
    (first seen, later one).
    """
    seen: dict[str, str] = {}
    collisions: list[tuple[str, str]] = []
    for name in names:
        folded = unicodedata.normalize("NFC", name).casefold()
        first = seen.setdefault(folded, name)
        if first != name and (first, name) not in collisions:
            collisions.append((first, name))
    return collisions
