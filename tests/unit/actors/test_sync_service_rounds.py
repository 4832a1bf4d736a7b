"""One sync round's bookkeeping: few commits, intents before writes, no-op rescans are free."""

from __future__ import annotations

from pathlib import Path

from actors._sync_io import PARSE_CACHE
from actors._sync_write import PreimageStore
from actors.sync_service import SyncService
from events.store import EventStore
from events.sync import SyncLedger
from synapse._demo_sync import demo_edit, seed_sandbox
from tests.unit.actors._sync_service import apply_service


def system(tmp_path: Path) -> tuple[SyncService, Path]:
    home = tmp_path / "home"
    seed_sandbox(home)
    service = apply_service(tmp_path, home)
    service.scan()
    return service, home


class Heads:
    """A store listener: one call per commit."""

    def __init__(self) -> None:
        self.seen: list[int] = []

    def __call__(self, head: int) -> None:
        self.seen.append(head)


class IntentCheckingPreimages(PreimageStore):
    """A real pre-image store that notes, at each write, which paths have a durable intent."""

    def __init__(self, directory: Path, store: EventStore) -> None:
        super().__init__(directory)
        self.store = store
        self.intents_seen: list[set[str]] = []

    def put(self, data: bytes, *, token: str | None = None) -> str:
        """Note the committed ``WritePlanned`` paths, then store ``data``."""
        events = [self.store.decode(n) for n in self.store.read(0, 100_000)]
        self.intents_seen.append({e.path for e in events if isinstance(e, SyncLedger.WritePlanned)})
        return super().put(data, token=token)


def test_an_edit_round_commits_at_most_twice(tmp_path: Path) -> None:
    """An edit fanned out to seven files appends in two commits: intents, then outcomes."""
    service, home = system(tmp_path)
    heads = Heads()
    service.store.add_listener(heads)
    demo_edit(home)
    result = service.scan("gemini")
    assert len(result.written) == 7
    assert len(heads.seen) == 2
    service.store.close()


def test_write_intents_are_durable_before_any_file_is_written(tmp_path: Path) -> None:
    """Every target's WritePlanned is committed before the first pre-image or file write."""
    service, home = system(tmp_path)
    checker = IntentCheckingPreimages(tmp_path / "preimages", service.store)
    service.preimages = checker
    demo_edit(home)
    result = service.scan("gemini")
    assert len(checker.intents_seen) == 7
    for seen in checker.intents_seen:
        assert set(result.written) <= seen
    service.store.close()


def test_a_no_op_rescan_appends_nothing_and_parses_nothing(tmp_path: Path) -> None:
    """Rescanning unchanged files records no event and reuses every file's parse."""
    service, _ = system(tmp_path)
    head, misses = service.store.head(), PARSE_CACHE.misses
    result = service.scan()
    assert result.written == []
    assert service.store.head() == head
    assert PARSE_CACHE.misses == misses
    service.store.close()
