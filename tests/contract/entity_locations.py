"""Where sync writes a client's commands and subagents: in place, or in the current folder.

Clients read one kind from several folders: a user and a project root each, and some a
legacy name beside the current one (OpenCode: ``commands/`` and ``command/``, ``agents/``
and ``agent/``). :class:`EntityLocationContract` holds, for one adapter, that

* an entity already in *any* folder the client reads, changed in another client, is
  updated through sync in that same file;
* a new entity lands in the folder the client documents as current (the first listed);
* no sync leaves two files of one entity name in one scope of the client (which the client
  would load twice, or where the stale one would shadow the other).

Each adapter's subclass lives in ``test_entity_locations.py``; a test there checks that
every registered adapter has one.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from actors._sync_targets import kind_files
from adapters.base import ClientAdapter, ConfigFile
from adapters.claude_code import ClaudeCodeAdapter
from adapters.formats import Format
from adapters.gemini_cli import GeminiCliAdapter
from events.client_config import Command, Entity, EntityKey, Lit, Scope, Subagent
from tests.unit.actors._sync_service import apply_service

#: Command names checked: a plain one and a namespaced one (``/team:review`` in Gemini).
COMMAND_NAMES = ("review", "team/review")
AGENT_NAME = "reviewer"


#: kind → (user folders, project folders), each in the client's lookup order.
Documented = Mapping[str, tuple[tuple[str, ...], tuple[str, ...]]]


def command(name: str, body: str = "Review the diff.\n") -> Command:
    """A command every client with commands can hold exactly (a bare body)."""
    return Command(name=name, body=(Lit(body),))


def agent(name: str = AGENT_NAME, prompt: str = "You review code.\n") -> Subagent:
    """A subagent every client with subagents can hold exactly."""
    return Subagent(name=name, description="Reviews code", prompt=prompt)


def put(path: Path, text: str) -> Path:
    """Write ``text`` to ``path``, creating its folders."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@dataclass(frozen=True)
class Home:
    """One scenario's home and project, and which of them the entity's scope uses."""

    home: Path
    project: Path
    scope: Scope

    @property
    def base(self) -> Path:
        """The folder the scope's entity folders are relative to."""
        return self.home if self.scope is Scope.USER else self.project

    @property
    def owner(self) -> Path | None:
        """The project the entity belongs to (None in user scope)."""
        return None if self.scope is Scope.USER else self.project


class EntityLocationContract(ABC):
    """Location tests for one adapter; subclasses name it (:meth:`make_adapter`)."""

    #: kind → (user folders, project folders) the client's docs say it reads, each current
    #: folder first; written from the documentation, not from the adapter, so an adapter
    #: that reads too few folders (or creates in a legacy one) fails.
    documented: ClassVar[Documented]

    @abstractmethod
    def make_adapter(self) -> ClientAdapter:
        """A fresh adapter under test."""

    # -- what the client reads, and how an entity is put there by hand ------------------

    def folders(self, kind: str, scope: Scope) -> tuple[str, ...]:
        """The folders (relative to home or project) the client reads ``kind`` from in
        ``scope``, the documented current one first."""
        user, project = self.documented[kind]
        return user if scope is Scope.USER else project

    def suffix(self, adapter: ClientAdapter, kind: str) -> str:
        """The file-name suffix of one entity file of ``kind``."""
        if kind == Command.kind:
            assert adapter.command_codec is not None
            return adapter.command_codec.suffix
        assert adapter.subagent_dialect is not None
        return adapter.subagent_dialect.suffix

    def place(self, adapter: ClientAdapter, where: Home, rel: str, entity: Entity) -> Path:
        """Write ``entity`` into folder ``rel`` the way the client itself keeps it."""
        path = where.base / rel / f"{entity.name}{self.suffix(adapter, entity.kind)}"
        fmt = self._file_format(adapter, entity.kind)
        cfg = ConfigFile(
            adapter.client, path, where.scope, fmt, frozenset({entity.kind}), False, where.owner
        )
        return put(path, adapter.render(cfg, "", {entity.key: entity}).text)

    def kinds(self) -> list[str]:
        """The one-file-per-entity kinds this client holds."""
        return list(self.documented)

    @staticmethod
    def _file_format(adapter: ClientAdapter, kind: str) -> Format:
        if kind == Command.kind:
            assert adapter.command_codec is not None
            return adapter.command_codec.fmt
        assert adapter.subagent_dialect is not None
        return adapter.subagent_dialect.fmt

    # -- the source client, whose edits sync reaches the adapter under test with ---------

    def source_adapter(self, adapter: ClientAdapter) -> ClientAdapter:
        """Another client holding both kinds: Claude Code, or Gemini for Claude itself."""
        if isinstance(adapter, ClaudeCodeAdapter):
            return GeminiCliAdapter()
        return ClaudeCodeAdapter()

    def write_source(self, source: ClientAdapter, where: Home, entity: Entity) -> None:
        """Put ``entity`` into the source client (create or overwrite its file)."""
        if entity.kind == Command.kind:
            cfg = source.locate_command(entity.name, where.scope, where.home, where.owner)
        else:
            cfg = source.locate_subagent(entity.name, where.scope, where.home, where.owner)
        assert cfg is not None
        put(cfg.path, source.render(cfg, "", {entity.key: entity}).text)

    # -- reading back ----------------------------------------------------------------

    def files_holding(
        self, adapter: ClientAdapter, where: Home, key: EntityKey
    ) -> list[tuple[Path, Entity]]:
        """``(path, entity)`` for each of the client's files in the scope holding ``key``."""
        files = kind_files(adapter, key.kind, where.home, [where.project])
        out = []
        for cfg in files:
            if cfg.scope is not where.scope or not cfg.path.is_file():
                continue
            for entity in adapter.parse(cfg, cfg.path.read_text()):
                if entity.key == key:
                    out.append((cfg.path, entity))
        return out

    def scenario(self, tmp_path: Path, label: str, scope: Scope) -> Home:
        """A fresh home and project for one case."""
        root = tmp_path / label.replace("/", "_")
        home, project = root / "home", root / "proj"
        project.mkdir(parents=True)
        home.mkdir()
        return Home(home, project, scope)

    def entities(self, kind: str) -> list[Entity]:
        """The entities checked for ``kind``."""
        if kind == Command.kind:
            return [command(name) for name in COMMAND_NAMES]
        return [agent()]

    @staticmethod
    def changed(entity: Entity) -> Entity:
        """``entity`` with its body (or prompt) edited."""
        if isinstance(entity, Command):
            return command(entity.name, "Review the diff twice.\n")
        assert isinstance(entity, Subagent)
        return agent(entity.name, "You review code twice.\n")

    # -- the contract -------------------------------------------------------------------

    def test_the_client_holds_exactly_the_documented_kinds(self) -> None:
        """Commands and subagents are synced into this client iff its docs say it has them."""
        adapter = self.make_adapter()
        assert (adapter.command_codec is not None) == (Command.kind in self.documented)
        assert (adapter.subagent_dialect is not None) == (Subagent.kind in self.documented)

    def test_an_entity_in_any_folder_it_reads_is_updated_in_that_file(self, tmp_path: Path) -> None:
        """An entity the client keeps in any of its folders (current or legacy, user or
        project), edited in another client, is rewritten in that same file and nowhere
        else."""
        adapter = self.make_adapter()
        source = self.source_adapter(adapter)
        for kind in self.kinds():
            for scope in (Scope.USER, Scope.PROJECT):
                for rel in self.folders(kind, scope):
                    for entity in self.entities(kind):
                        case = f"{kind}-{scope}-{rel}-{entity.name}"
                        where = self.scenario(tmp_path, case, scope)
                        placed = self.place(adapter, where, rel, entity)
                        edited = self.sync_an_edit(adapter, source, where, entity)
                        found = self.files_holding(adapter, where, entity.key)
                        assert [p for p, _ in found] == [placed], case
                        assert found[0][1].synced() == edited.synced(), case

    def sync_an_edit(
        self, adapter: ClientAdapter, source: ClientAdapter, where: Home, entity: Entity
    ) -> Entity:
        """Sync ``entity`` from ``source`` into ``adapter``'s client, then an edit of it made
        in ``source``; return the edited entity."""
        self.write_source(source, where, entity)
        service = apply_service(
            where.home.parent,
            where.home,
            {str(source.client): source, str(adapter.client): adapter},
            projects=(where.project,),
        )
        service.scan()
        edited = self.changed(entity)
        self.write_source(source, where, edited)
        service.scan(str(source.client))
        return edited

    def test_a_new_entity_lands_in_the_current_folder_once(self, tmp_path: Path) -> None:
        """An entity new to the client is created in the folder it documents as current
        (the first it lists), once, in the entity's own scope."""
        adapter = self.make_adapter()
        source = self.source_adapter(adapter)
        for kind in self.kinds():
            for scope in (Scope.USER, Scope.PROJECT):
                for entity in self.entities(kind):
                    case = f"new-{kind}-{scope}-{entity.name}"
                    where = self.scenario(tmp_path, case, scope)
                    service = apply_service(
                        where.home.parent,
                        where.home,
                        {str(source.client): source, str(adapter.client): adapter},
                        projects=(where.project,),
                    )
                    service.scan()  # both clients seen once, holding nothing
                    self.write_source(source, where, entity)
                    service.scan(str(source.client))
                    current = self.folders(kind, scope)[0]
                    found = self.files_holding(adapter, where, entity.key)
                    assert [p.parent for p, _ in found] == [
                        self.expected_parent(where, current, entity)
                    ], case
                    assert found[0][1].synced() == entity.synced(), case
                    service.scan()
                    assert len(self.files_holding(adapter, where, entity.key)) == 1, case

    def expected_parent(self, where: Home, current: str, entity: Entity) -> Path:
        """The folder a new ``entity`` file goes into (namespaces are sub-folders)."""
        folder = where.base / current
        return folder.joinpath(*entity.name.split("/")[:-1])
