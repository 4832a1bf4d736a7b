"""Personal instruction files synced by content: a block-level three-way merge (pure).

Each client keeps personal rules in one user-level file (``~/.claude/CLAUDE.md``,
``~/.codex/AGENTS.md``, ``~/.gemini/GEMINI.md``, ``~/.qwen/QWEN.md``,
``~/.copilot/copilot-instructions.md``, ``~/.config/opencode/AGENTS.md``,
``~/.rovodev/AGENTS.md``). Those files form the group ``user``: adding, changing or
removing a block (:mod:`actors._md_blocks`) in one reaches the others, merged against each
file's base, the state it had when last in sync (:mod:`actors._md_merge`). The same
blocks changed differently in two files are a conflict: nothing is written until they
agree or a person chooses a side.

Each client loads each rule once, so no second path to the same text is made:

* The text is copied, never imported, and only into the one file the client loads.
  Where a client would load a second personal file too (Gemini and Qwen read every name in
  ``context.fileName``; Qwen's default adds ``AGENTS.md``), that file is retired when it is
  an untouched copy placement once made, and otherwise the client is left out (drift).
* A personal file that ``@imports`` another client's personal file already loads that
  text: the client is left out (drift), unless the file is a one-line import placement
  made, which is replaced by the merged text.
* Blocks never synced stay where they are: sections a client writes itself
  (``## Gemini Added Memories``), ``@path`` imports, blocks holding a credential (those
  are reported, by path and line only).

A conflict is settled by a person choosing one client's version (``resolve --take``) or
giving the Markdown to use (``resolve --value``, :class:`ChosenText`): the next round merges
that text in place of the blocks in conflict and writes it to every file, as any merge
result is written. A text that looks like a credential is refused
(:func:`actors._sync_personal_text.chosen_text`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from actors._md_blocks import Block, Doc, parse, render, rewrite
from actors._md_merge import FileSide, Region, merge_files
from actors._sync_personal_text import ChosenText, heading_label, preview
from actors._sync_place_docs import context_names
from actors._sync_place_types import Finding, PlacementAction, file_diff, installed
from actors._sync_values import canonical_hash
from adapters.base import ClientAdapter
from adapters.files import read_config, sha256_hex
from events.errors import AdapterError

__all__ = [
    "USER",
    "BaseNote",
    "InstructionConflict",
    "PersonalPlan",
    "conflict_id",
    "plan_personal",
]

#: The group of personal (user-level) files.
USER = "user"
SUBJECT = "instructions:personal"
#: Clients whose ``context.fileName`` (in this settings file) names the files they load.
_CONTEXT_SETTINGS = {"gemini": ".gemini/settings.json", "qwen": ".qwen/settings.json"}


@dataclass(frozen=True)
class BaseNote:
    """A file's base to record once the plan's writes land (or at once, if none)."""

    client: str
    path: str
    sha256: str
    blocks: tuple[str, ...]


@dataclass(frozen=True)
class InstructionConflict:
    """The same blocks changed differently in two or more personal files."""

    conflict_id: str
    clients: tuple[str, ...]
    paths: tuple[str, ...]
    sides: Mapping[str, str]
    previews: Mapping[str, str] = field(default_factory=dict)
    label: str = ""

    def as_finding(self) -> Finding:
        """The conflict as a placement finding (plans and alerts)."""
        reason = (
            f"{' and '.join(self.clients)} changed the same instruction blocks differently; "
            "nothing is written until the files agree (`synapse conflicts`)"
        )
        return Finding("conflict", SUBJECT, self.paths, self.clients, reason)

    def as_dict(self) -> dict[str, object]:
        """The conflict as ``synapse conflicts`` lists it (digests, and masked previews)."""
        return {
            "type": "InstructionConflict",
            "kind": "instruction",
            "name": self.label or "personal",
            "scope": USER,
            "conflict_id": self.conflict_id,
            "sides": dict(self.sides),
            "previews": dict(self.previews),
            "reason": f"files: {', '.join(self.paths)}",
        }


@dataclass
class PersonalPlan:
    """Writes, findings, conflicts and the bases to record for the ``user`` group."""

    actions: list[PlacementAction] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    conflicts: list[InstructionConflict] = field(default_factory=list)
    bases: list[BaseNote] = field(default_factory=list)


@dataclass(frozen=True)
class _Member:
    client: str
    path: Path
    sha256: str | None
    doc: Doc

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(b.key for b in self.doc.synced)


def conflict_id(region: Region) -> str:
    """Stable id of a conflict: the base blocks and the two versions, in either order."""
    versions = sorted([list(region.left), list(region.right)])
    return canonical_hash(["personal", list(region.base), versions])[:16]


def _loaded_names(
    client: str, adapter: ClientAdapter, home: Path, roots: Sequence[Path]
) -> list[Path] | None:
    """The client's personal files: the one written first, then others it loads too.

    None when the settings that name them cannot be read (oversize, unsafe, a FIFO): which
    files the client loads is then unknown, so it sits this round out (its scan reports why).
    """
    files = [home / rel for rel in adapter.user_instruction_files]
    if client == "codex":
        override = home / ".codex/AGENTS.override.md"
        return [override] if override.is_file() else [home / ".codex/AGENTS.md"]
    settings = _CONTEXT_SETTINGS.get(client)
    if settings is None:
        return files[:1]
    try:
        snap = read_config(home / settings, allowed_roots=roots)
    except AdapterError:
        return None
    names = context_names(snap.data.decode("utf-8", "replace")) if snap is not None else None
    if names is None:
        return files  # the defaults: GEMINI.md (and AGENTS.md once pointed), QWEN.md + AGENTS.md
    own = files[0].name
    ordered = [own] if own in names else []
    return [files[0].parent / n for n in ordered + [n for n in names if n != own]]


class _Planner:
    def __init__(self, home: Path, roots: Sequence[Path], owned: Mapping[str, str]) -> None:
        self.home = home
        self.roots = roots
        self.owned = owned
        self.plan = PersonalPlan()

    def _read(self, client: str, path: Path) -> tuple[str, str] | Finding | None:
        try:
            snap = read_config(path, allowed_roots=self.roots)
            if snap is None:
                return None
            return snap.data.decode("utf-8"), snap.sha256
        except UnicodeDecodeError:
            return Finding("refused", SUBJECT, (str(path),), (client,), f"{path}: not UTF-8")
        except AdapterError as e:
            return Finding("refused", SUBJECT, (str(path),), (client,), e.message)

    def member(self, client: str, files: list[Path], personal: set[Path]) -> _Member | None:
        """The client's file in the group, or None (left out, with a finding)."""
        existing = [f for f in files if f.is_file() and self.owned.get(str(f)) is None]
        if not files[0].is_file() and len(existing) == 1:
            files = [existing[0], *[f for f in files if f != existing[0]]]  # the one they keep
        target, others = files[0], files[1:]
        for other in others:
            read = self._read(client, other)
            if isinstance(read, Finding):
                self.plan.findings.append(read)
                return None
            if read is None:
                continue
            if self.owned.get(str(other)) == read[1]:
                self._retire(client, other, read)
                continue
            reason = (
                f"{client} loads both {target} and {other}; merge them into {target.name} "
                "to have its personal rules synced (nothing was edited)"
            )
            self.plan.findings.append(
                Finding("drift", SUBJECT, (str(target), str(other)), (client,), reason)
            )
            return None
        read = self._read(client, target)
        if isinstance(read, Finding):
            self.plan.findings.append(read)
            return None
        if read is None:
            return _Member(client, target, None, parse(""))
        text, sha = read
        doc = parse(text)
        imports = [b for b in doc.blocks if b.pin == "import"]
        shim = imports and len(imports) == len(doc.blocks)
        if shim and self.owned.get(str(target)) == sha:
            return _Member(client, target, sha, parse(""))  # our old one-line shim: replace it
        for block in imports:
            if any(self._resolve(target, line) in personal for line in block.text.split()):
                reason = (
                    f"{target} imports another client's personal file ({block.text.strip()}); "
                    f"{client} already loads those rules. Remove the import to sync by content"
                )
                self.plan.findings.append(
                    Finding("drift", SUBJECT, (str(target),), (client,), reason)
                )
                return None
        for block in doc.blocks:
            if block.pin == "secret":
                reason = (
                    f"{target} line {block.line}: the block holds a credential; it is not synced "
                    "(move the secret to an environment variable)"
                )
                self.plan.findings.append(
                    Finding("refused", SUBJECT, (f"{target}:{block.line}",), (client,), reason)
                )
        return _Member(client, target, sha, doc)

    def _resolve(self, file: Path, line: str) -> Path:
        ref = line.strip().removeprefix("@")
        if ref.startswith("~/"):
            return self.home / ref[2:]
        return (file.parent / ref) if not Path(ref).is_absolute() else Path(ref)

    def _retire(self, client: str, path: Path, read: tuple[str, str]) -> None:
        reason = (
            f"{client} loads {path} beside its own personal file; it is an untouched copy "
            "Synapse placed, so it is removed (the rules reach it by content)"
        )
        self.plan.actions.append(
            PlacementAction(
                "retire_copy",
                SUBJECT,
                path,
                (client,),
                reason,
                read[1],
                "",
                diff=file_diff(path, read[0], ""),
            )
        )

    def write(self, member: _Member, merged: list[str], blocks: Mapping[str, Block]) -> None:
        new = [blocks[k] for k in merged]
        keys = tuple(merged)
        if member.keys == keys:
            if member.sha256 is not None:
                self.plan.bases.append(
                    BaseNote(member.client, str(member.path), member.sha256, keys)
                )
            return
        old = "" if member.sha256 is None else render(member.doc)
        text = rewrite(member.doc, new)
        if text is None:
            reason = (
                f"{member.path}: the merged rules cannot be written without moving text "
                f"around {member.client}'s own section; edit the file by hand"
            )
            self.plan.findings.append(
                Finding("refused", SUBJECT, (str(member.path),), (member.client,), reason)
            )
            return
        data = text.encode()
        sha = sha256_hex(data)
        verb = "creates" if member.sha256 is None else "updates"
        self.plan.actions.append(
            PlacementAction(
                "sync_instructions",
                SUBJECT,
                member.path,
                (member.client,),
                f"{verb} {member.client}'s personal instructions by content (block merge)",
                member.sha256,
                sha,
                data,
                diff=file_diff(member.path, old, text),
            )
        )
        self.plan.bases.append(BaseNote(member.client, str(member.path), sha, keys))


def plan_personal(
    adapters: Mapping[str, ClientAdapter],
    home: Path,
    roots: Sequence[Path],
    *,
    bases: Mapping[str, tuple[str, list[str]]],
    start: Sequence[str] | None,
    owned: Mapping[str, str],
    resolutions: Mapping[str, str | ChosenText] | None = None,
) -> PersonalPlan:
    """Plan the by-content sync of the clients' personal instruction files.

    Args:
        adapters: the clients taking part (policy exclusions already removed).
        home: the home directory.
        roots: directories reads may reach.
        bases: path → (hash, block digests) of each file when last in sync.
        start: the group's latest base (None: never synced).
        owned: path → hash of files placement wrote (old copies and shims may be retired).
        resolutions: conflict id → the client a person chose, or the text they gave.

    Returns:
        The writes (each file at most once), findings, conflicts and bases to record.
    """
    planner = _Planner(home, roots, owned)
    chosen = resolutions or {}
    named = {
        c: _loaded_names(c, a, home, roots)
        for c, a in adapters.items()
        if a.user_instruction_files and installed(a, home)
    }
    loads = {c: files for c, files in named.items() if files is not None}
    personal = {p for files in loads.values() for p in files}
    members = [m for c, files in loads.items() if (m := planner.member(c, files, personal))]
    if not members:
        return planner.plan
    sides = []
    for m in members:
        base = bases.get(str(m.path))
        sides.append(FileSide(m.client, tuple(base[1]) if base else None, m.keys))

    def choose(client: str, region: Region) -> tuple[str, ...] | None:
        take = chosen.get(conflict_id(region))
        if take is None:
            return None
        if isinstance(take, ChosenText):
            return tuple(b.key for b in take.blocks())
        return region.right if take == client else region.left

    merged, conflicts = merge_files(sides, start, choose)
    if conflicts:
        planner.plan.conflicts = _conflicts(members, conflicts)
        planner.plan.actions = []
        return planner.plan
    blocks: dict[str, Block] = {}
    for m in members:
        for b in m.doc.synced:
            blocks.setdefault(b.key, b)
    for value in chosen.values():
        if isinstance(value, ChosenText):
            for b in value.blocks():
                blocks.setdefault(b.key, b)
    for m in members:
        if m.sha256 is None and not merged:
            continue  # nothing to create
        planner.write(m, merged, blocks)
    return planner.plan


def _conflicts(
    members: Sequence[_Member], found: Sequence[tuple[str, Region]]
) -> list[InstructionConflict]:
    out: dict[str, InstructionConflict] = {}
    for client, region in found:
        cid = conflict_id(region)
        base, theirs = set(region.base), set(region.left) - set(region.base)
        involved = [client]
        for m in members:
            keys = set(m.keys)
            changed = (theirs & keys) if theirs else (base - keys)
            if m.client != client and changed:
                involved.append(m.client)
        paths = tuple(str(m.path) for m in members if m.client in involved)
        region_keys = base | set(region.left) | set(region.right)
        parts = [m for m in members if m.client in involved]
        sides = {
            m.client: canonical_hash([k for k in m.keys if k in region_keys])[:16] for m in parts
        }
        previews = {m.client: preview(m.doc, region_keys) for m in parts}
        label = heading_label([m.doc for m in parts], region_keys) or cid
        out.setdefault(
            cid, InstructionConflict(cid, tuple(involved), paths, sides, previews, label)
        )
    return list(out.values())
