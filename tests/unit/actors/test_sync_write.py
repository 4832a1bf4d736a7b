"""apply_changes: several targets written at once, each with its own compare-and-swap."""

from __future__ import annotations

from pathlib import Path

from actors._sync_write import FileChange, PreimageStore, apply_changes, unified_diff
from adapters.files import sha256_hex
from events.errors import WriteConflictError


def _change(path: Path, old: bytes | None, new: bytes) -> FileChange:
    pre = None if old is None else sha256_hex(old)
    return FileChange("c", str(path), pre, sha256_hex(new), (), _new=new)


def test_every_target_lands_and_keeps_its_pre_image(tmp_path: Path) -> None:
    """Eight files written together all hold their new bytes; each old one can be restored."""
    store = PreimageStore(tmp_path / "pre")
    changes = []
    for i in range(8):
        path = tmp_path / f"d{i}" / "config.json"
        path.parent.mkdir()
        path.write_bytes(b"same old bytes")  # identical pre-images, stored at once
        changes.append(_change(path, b"same old bytes", f"new {i}".encode()))
    outcomes = apply_changes(changes, [tmp_path], store)
    for i, (change, outcome) in enumerate(zip(changes, outcomes, strict=True)):
        assert not isinstance(outcome, Exception)
        ref, sha = outcome
        assert Path(change.path).read_bytes() == f"new {i}".encode()
        assert sha == change.new_sha256
        assert ref is not None
        assert store.get(ref) == b"same old bytes"


def test_a_changed_target_is_refused_without_stopping_the_others(tmp_path: Path) -> None:
    """A target edited since planning comes back as a conflict; the other targets land."""
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_bytes(b"a0")
    b.write_bytes(b"edited meanwhile")
    outcomes = apply_changes(
        [_change(a, b"a0", b"a1"), _change(b, b"b0", b"b1")], [tmp_path], PreimageStore(tmp_path)
    )
    assert not isinstance(outcomes[0], Exception)
    assert isinstance(outcomes[1], WriteConflictError)
    assert a.read_bytes() == b"a1"
    assert b.read_bytes() == b"edited meanwhile"


def test_changes_to_one_file_run_in_order(tmp_path: Path) -> None:
    """Two changes of the same file (one through a symlink) never race: the second one's
    compare-and-swap sees the first's write and refuses."""
    real = tmp_path / "real.json"
    link = tmp_path / "link.json"
    real.write_bytes(b"v0")
    link.symlink_to(real)
    other = tmp_path / "other.json"
    other.write_bytes(b"o0")
    outcomes = apply_changes(
        [_change(real, b"v0", b"v1"), _change(other, b"o0", b"o1"), _change(link, b"v0", b"v2")],
        [tmp_path],
        PreimageStore(tmp_path / "pre"),
    )
    assert not isinstance(outcomes[0], Exception)
    assert not isinstance(outcomes[1], Exception)
    assert isinstance(outcomes[2], WriteConflictError)
    assert real.read_bytes() == b"v1"


def test_a_diff_marks_a_last_line_without_newline() -> None:
    """A file without a final newline gets git's marker, so no line of the diff is glued onto
    the next one (``-}+  "a": 2``) and patch tools read it."""
    assert unified_diff('{\n  "a": 1\n}', '{\n  "a": 2}', "f.json", "f.json").splitlines() == [
        "--- f.json",
        "+++ f.json",
        "@@ -1,3 +1,2 @@",
        " {",
        '-  "a": 1',
        "-}",
        "\\ No newline at end of file",
        '+  "a": 2}',
        "\\ No newline at end of file",
    ]
