"""A crash at each named step of a client-file write, then a restart on the same log and home.

The write runs in a child process that ends itself with ``os._exit`` at one step (through the
``adapters._durable`` step seam); a fresh orchestrator then starts on the same SQLite log, home
and pre-images, and must settle the interrupted write from its recorded intent.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from actors._sync_record import load_indexes
from actors.sync_service import SyncService
from adapters.base import ClientAdapter
from adapters.files import TEMP_PREFIX, sha256_hex
from adapters.registry import load_adapters
from events.sync import SyncLedger
from projections.sync_models import write_id
from synapse._demo_sync import demo_edit, seed_sandbox
from tests.unit.actors._sync_service import apply_service

REPO = Path(__file__).resolve().parents[3]
CRASHED = 70
_CHILD = """
import os, sys
from pathlib import Path
from adapters import _durable
from adapters.registry import load_adapters
from tests.unit.actors._sync_service import apply_service

tmp, step, target, clients = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3]), sys.argv[4]
adapters = {c: a for c, a in load_adapters().items() if str(c) in clients.split(",")}
service = apply_service(tmp, tmp / "home", adapters)

def crash(name, path):
    if name == step and path == target:
        os._exit(70)

_durable._step_hooks.append(crash)
service.scan()
os._exit(70 if step == "outcome" else 1)  # "outcome": everything was appended, then the end
"""


#: The child of the deletion test: it ends itself just before removing the file it renamed
#: aside (the compare-and-swap delete's window), patched at the ``pathlib`` boundary.
_DELETING_CHILD = """
import os, pathlib, sys
from pathlib import Path
from adapters.registry import load_adapters
from tests.unit.actors._sync_service import apply_service

tmp = Path(sys.argv[1])
adapters = {c: a for c, a in load_adapters().items() if str(c) in ("claude-code", "gemini")}
service = apply_service(tmp, tmp / "home", adapters)
unlink = pathlib.Path.unlink

def crash(self, *args, **kw):
    if self.name.startswith(".synapse.review.toml."):
        os._exit(70)
    unlink(self, *args, **kw)

pathlib.Path.unlink = crash
service.scan()
os._exit(1)
"""
COMMAND = "---\ndescription: Review code\n---\nReview $ARGUMENTS carefully.\n"
HAND_INDEX = "# kept by hand\nprompts: []\n"


def _two_clients(names: tuple[str, str] = ("gemini", "cursor")) -> dict[str, ClientAdapter]:
    return {str(c): a for c, a in load_adapters().items() if str(c) in names}


def _run(script: str, *args: str) -> int:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-c", script, *args]
    return subprocess.run(command, env=env, cwd=REPO, check=False, timeout=120).returncode


def _crash_writing(tmp_path: Path, step: str, where: str) -> tuple[Path, bytes, Path]:
    """Seed a synced home, edit Gemini, and let a child process apply it until ``step``.

    Returns:
        Cursor's file (the one write), its bytes before, and the pre-image directory.
    """
    home = tmp_path / "home"
    paths = seed_sandbox(home)
    first = apply_service(tmp_path, home, _two_clients())
    first.scan()
    first.store.close()
    cursor = paths["cursor"]
    original = cursor.read_bytes()
    demo_edit(home)
    preimages = tmp_path / "preimages"
    target = preimages / sha256_hex(original) if where == "preimage" else cursor.resolve()
    code = _run(_CHILD, str(tmp_path), step, str(target), "gemini,cursor")
    assert code == CRASHED, "the child must have ended at the chosen step"
    return cursor, original, preimages


def _our_temps(*folders: Path) -> list[Path]:
    return [p for d in folders for p in d.iterdir() if p.name.startswith(TEMP_PREFIX)]


def _last_intent(service: SyncService, path: Path) -> SyncLedger.WritePlanned:
    intents = [
        e
        for e in map(service.store.decode, service.store.read(0, 100_000))
        if isinstance(e, SyncLedger.WritePlanned) and e.path == str(path)
    ]
    return intents[-1]


def _outcomes(service: SyncService, path: Path) -> list[str]:
    return [
        type(e).__name__
        for e in map(service.store.decode, service.store.read(0, 100_000))
        if isinstance(e, SyncLedger.WriteApplied | SyncLedger.WriteAbandoned)
        and e.path == str(path)
    ]


@pytest.mark.parametrize(
    ("step", "where", "lands"),
    [
        ("renamed", "preimage", False),
        ("written", "target", False),
        ("fsynced", "target", False),
        ("renamed", "target", True),
        ("dir-synced", "target", True),
        ("outcome", "target", True),
    ],
)
def test_a_write_killed_at_any_step_is_settled_at_restart(
    tmp_path: Path, step: str, where: str, *, lands: bool
) -> None:
    """Killed at any step, the file holds its original or its final bytes; the restart records
    the matching outcome (abandoned, or applied with its pre-image so revert gives back the
    exact original), leaves no temp file and no open intent, and the sync still completes."""
    cursor, original, preimages = _crash_writing(tmp_path, step, where)
    again = apply_service(tmp_path, tmp_path / "home", _two_clients())
    intent = _last_intent(again, cursor)
    assert intent.pre_sha256 == sha256_hex(original)
    assert intent.new_sha256 is not None
    final = intent.new_sha256
    assert sha256_hex(cursor.read_bytes()) == (final if lands else intent.pre_sha256)
    assert _outcomes(again, cursor)[-1] == ("WriteApplied" if lands else "WriteAbandoned")
    assert load_indexes(again.store).intents == {}, "every intent has its outcome"
    assert _our_temps(cursor.parent, preimages) == []
    if lands:
        again.revert(write_id("cursor", str(cursor), intent.pre_sha256, final))
        assert cursor.read_bytes() == original
    else:
        again.scan()
        assert sha256_hex(cursor.read_bytes()) == final, "the interrupted write is redone"
    again.store.close()


def test_a_file_changed_after_the_crash_is_left_as_found_with_an_alert(tmp_path: Path) -> None:
    """If the user edits the file between the crash and the restart, the restart neither
    overwrites nor claims it: the intent is abandoned, an alert is raised, the temp removed."""
    cursor, _original, preimages = _crash_writing(tmp_path, "fsynced", "target")
    cursor.write_bytes(cursor.read_bytes().replace(b"{", b"{ ", 1))
    edited = cursor.read_bytes()
    again = apply_service(tmp_path, tmp_path / "home", _two_clients())
    assert again.reconciled.changed == [str(cursor)]
    assert cursor.read_bytes() == edited
    assert _outcomes(again, cursor)[-1] == "WriteAbandoned"
    kinds = {type(again.store.decode(n)).__qualname__ for n in again.store.read(0, 100_000)}
    assert "Alert.Raised" in kinds
    assert _our_temps(cursor.parent, preimages) == []
    again.store.close()


def test_a_delete_killed_after_renaming_the_file_aside_puts_it_back(tmp_path: Path) -> None:
    """A deletion killed between renaming the file aside and removing it: the restart puts
    the exact bytes back under their name (abandoned, nothing lost, no temp left), and the
    next round deletes it properly."""
    home = tmp_path / "home"
    home.mkdir()
    clients = ("claude-code", "gemini")
    first = apply_service(tmp_path, home, _two_clients(clients))
    first.scan()
    claude = home / ".claude/commands/review.md"
    claude.parent.mkdir(parents=True)
    claude.write_text(COMMAND)
    first.scan()
    gemini = home / ".gemini/commands/review.toml"
    original = gemini.read_bytes()
    claude.unlink()
    first.scan()  # the first scan without it only suspects a deletion
    first.store.close()
    assert _run(_DELETING_CHILD, str(tmp_path)) == CRASHED
    assert not gemini.exists(), "the child died with the file renamed aside"
    again = apply_service(tmp_path, home, _two_clients(clients))
    assert gemini.read_bytes() == original
    assert again.reconciled.abandoned == [str(gemini)]
    assert _our_temps(gemini.parent, tmp_path / "preimages") == []
    assert load_indexes(again.store).intents == {}
    again.scan()
    assert not gemini.exists(), "the interrupted deletion is carried out"
    again.store.close()


def test_a_prompt_killed_between_its_two_files_is_undone_then_redone(tmp_path: Path) -> None:
    """Killed after a Rovo Dev prompt's content file landed but before its ``prompts.yml``
    entry: the restart removes the lone content file (the index keeps its exact bytes),
    records the write abandoned, leaves no temp, and the next round writes both."""
    home = tmp_path / "home"
    home.mkdir()
    clients = ("claude-code", "rovodev")
    first = apply_service(tmp_path, home, _two_clients(clients))
    index = home / ".rovodev/prompts.yml"
    index.parent.mkdir()
    index.write_text(HAND_INDEX)
    first.scan()
    claude = home / ".claude/commands/review.md"
    claude.parent.mkdir(parents=True, exist_ok=True)
    claude.write_text(COMMAND)
    first.store.close()
    content = home / ".rovodev/prompts/review.md"
    code = _run(_CHILD, str(tmp_path), "dir-synced", str(content), ",".join(clients))
    assert code == CRASHED
    assert content.exists(), "the child died with only the content file written"
    again = apply_service(tmp_path, home, _two_clients(clients))
    assert not content.exists()
    assert index.read_text() == HAND_INDEX
    assert again.reconciled.abandoned == [str(content)]
    assert _our_temps(content.parent, index.parent, tmp_path / "preimages") == []
    assert load_indexes(again.store).intents == {}
    again.scan()
    assert content.read_text() == "Review $ARGUMENTS carefully.\n"
    assert "name: review" in index.read_text()
    again.store.close()
