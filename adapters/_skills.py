"""Skills: a directory holding ``SKILL.md`` plus any files, synced as one unit.

A skill's identity is its directory name and a digest of every file (sorted relative paths
and bytes), so the same skill found under ``.agents/skills`` and ``.claude/skills`` is one
entity (:func:`dedupe`). :func:`plan_skill` prefers shared roots: a client that already reads
a root holding the same content gets nothing copied; otherwise the skill is planned into the
first shared root the client reads (``.agents/skills``, then ``.claude/skills``), as a copy or
a symlink. Reads refuse ``..`` paths and symlinks leading outside the allowed roots; plans
only ever write or delete inside the skill's own directory.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from adapters._frontmatter import scalar_text, text_value
from adapters._paths import has_control_chars, resolve_under_roots
from adapters.files import TEMP_PREFIX, check_entity_name, read_regular
from adapters.formats import Format, load
from events.client_config import Loss, Placement, Scope, Skill
from events.errors import ConfigParseError, UnsafeInputError

__all__ = [
    "MAX_SKILL_BYTES",
    "SHARED_ROOTS",
    "SKILL_FIELDS",
    "FoundSkill",
    "SkillPlan",
    "SkillRoot",
    "check_relative",
    "dedupe",
    "find_skills",
    "plan_skill",
    "read_skill",
    "skill_digest",
]

SKILL_FILE: Final = "SKILL.md"
#: Roots several clients read; planning prefers them, in this order.
SHARED_ROOTS: Final = (".agents/skills", ".claude/skills")
MAX_SKILL_BYTES: Final = 16 * 1024 * 1024
_MAX_FILES: Final = 2000
#: Canonical fields a client with skills can hold (every byte is copied, so all of them).
SKILL_FIELDS: Final = frozenset(
    {"name", "description", "license", "compatibility", "metadata", "allowed_tools"}
    | {"content_sha256"}
)
_CORE = frozenset({"name", "description", "license", "compatibility", "metadata", "allowed-tools"})
_CLAUDE_KEYS = frozenset(
    {
        "argument-hint",
        "disable-model-invocation",
        "user-invocable",
        "model",
        "effort",
        "context",
        "agent",
        "hooks",
        "paths",
        "when_to_use",
    }
)
_TOOL = re.compile(r"[^\s,()]+(?:\([^)]*\))?")


@dataclass(frozen=True)
class SkillRoot:
    """A directory of skill directories that one or more clients read.

    Attributes:
        path: absolute path of the root (it may not exist).
        rel: the root as declared, relative to home or project (``.agents/skills``).
        scope: user or project.
        project: the project root for project scope.
    """

    path: Path
    rel: str
    scope: Scope
    project: Path | None = None

    @property
    def shared(self) -> bool:
        """Whether several clients read this root."""
        return self.rel in SHARED_ROOTS


@dataclass(frozen=True)
class FoundSkill:
    """A skill read from disk: the canonical entity, its files and where it lives.

    Attributes:
        skill: the canonical entity.
        root: the root it was read from (the first one, after :func:`dedupe`).
        files: relative POSIX path → bytes, for every file of the directory.
        client_keys: ``SKILL.md`` frontmatter keys outside the Agent Skills core.
        locations: every directory holding this exact content.
    """

    skill: Skill
    root: SkillRoot
    files: Mapping[str, bytes]
    client_keys: tuple[str, ...] = ()
    locations: tuple[Path, ...] = ()

    @property
    def dir(self) -> Path:
        """The directory the skill was read from."""
        return self.root.path / self.skill.name


@dataclass(frozen=True)
class SkillPlan:
    """How one skill reaches one client.

    Attributes:
        placement: ``shared_root`` (already visible, nothing to do), ``copy`` or ``symlink``.
        target_dir: the skill directory to create or update (``None`` for shared_root).
        writes: relative path → bytes to write under ``target_dir``.
        deletes: relative paths under ``target_dir`` that the source no longer has.
        symlink_to: for ``symlink``, the link text (relative to ``target_dir.parent``).
        reused: the directory the client already sees, for ``shared_root``.
        losses: what the client will not understand.
    """

    placement: Placement
    target_dir: Path | None = None
    writes: dict[str, bytes] = field(default_factory=dict)
    deletes: tuple[str, ...] = ()
    symlink_to: str | None = None
    reused: Path | None = None
    losses: list[Loss] = field(default_factory=list)


def skill_digest(files: Mapping[str, bytes]) -> str:
    """SHA-256 over sorted relative paths and their bytes (length-prefixed, unambiguous)."""
    h = hashlib.sha256()
    for rel in sorted(files):
        name = rel.encode()
        h.update(len(name).to_bytes(8, "big") + name)
        h.update(len(files[rel]).to_bytes(8, "big") + files[rel])
    return h.hexdigest()


def check_relative(rel: str) -> str:
    """Return ``rel`` if it is a plain relative POSIX path inside a skill directory.

    Raises:
        UnsafeInputError: absolute, ``..``, empty parts, backslashes or control characters.
    """
    parts = rel.split("/")
    bad = (
        not rel
        or rel.startswith("/")
        or "\\" in rel
        or has_control_chars(rel)
        or any(p in {"", ".", ".."} for p in parts)
    )
    if bad:
        raise UnsafeInputError(f"refusing skill file path {rel[:60]!r}")
    return rel


def _walk(skill_dir: Path, allowed: Sequence[Path]) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    total = 0
    seen: set[Path] = set()
    for here, dirs, names in os.walk(skill_dir, followlinks=True):
        real = resolve_under_roots(Path(here), allowed)
        if real in seen:  # a symlink cycle: walk each real directory once
            dirs.clear()
            continue
        seen.add(real)
        dirs[:] = sorted(d for d in dirs if d != ".git" and not d.startswith(TEMP_PREFIX))
        for name in sorted(names):
            if name.startswith(TEMP_PREFIX):
                continue
            path = Path(here) / name
            target = resolve_under_roots(path, allowed)
            rel = check_relative(path.relative_to(skill_dir).as_posix())
            # Never a plain read: a FIFO in the folder would block the scan (and the copy).
            data = read_regular(target, max_bytes=MAX_SKILL_BYTES)
            if data is None:
                raise UnsafeInputError(f"refusing skill {skill_dir}: {rel} vanished while read")
            total += len(data)
            if total > MAX_SKILL_BYTES or len(files) >= _MAX_FILES:
                raise UnsafeInputError(f"refusing skill {skill_dir}: over the size limit")
            files[rel] = data
    return files


def _tools(raw: object, where: Path) -> tuple[str, ...] | None:
    if raw is None:
        return None
    if isinstance(raw, str):
        return tuple(_TOOL.findall(raw))
    if isinstance(raw, list) and all(isinstance(t, str | bool | int | float) for t in raw):
        return tuple(scalar_text(t) for t in raw)
    raise ConfigParseError(f"{where}: allowed-tools must be a string or a list of strings")


def _text(front: Mapping[str, Any], key: str, where: Path) -> str | None:
    # ``version: 1.0`` or ``license: 0`` are text to the clients; a list is not.
    return text_value(front.get(key), f"{where}: {key}")


def read_skill(skill_dir: Path, root: SkillRoot, allowed_roots: Sequence[Path]) -> FoundSkill:
    """Read one skill directory.

    Args:
        skill_dir: ``<root>/<name>``; it may be a symlink.
        root: the root it sits in.
        allowed_roots: directories every file (and symlink target) must resolve into.

    Raises:
        UnsafeInputError: a hostile name, ``..``, a symlink out of the allowed roots, a
            file that is not a regular one (a FIFO, socket or device: never read), or a
            directory over :data:`MAX_SKILL_BYTES`.
        ReadFailedError: a file of the skill cannot be read (permission denied).
        ConfigParseError: no ``SKILL.md`` or invalid frontmatter.
    """
    check_entity_name(skill_dir.name)
    resolve_under_roots(skill_dir, allowed_roots)
    files = _walk(skill_dir, allowed_roots)
    where = skill_dir / SKILL_FILE
    if SKILL_FILE not in files:
        raise ConfigParseError(f"{skill_dir}: no {SKILL_FILE}")
    try:
        text = files[SKILL_FILE].decode()
    except UnicodeDecodeError as e:
        raise ConfigParseError(f"{where}: not UTF-8") from e
    front: Mapping[str, Any] = load(Format.MARKDOWN, text)["frontmatter"]
    metadata = front.get("metadata") or {}
    if not isinstance(metadata, Mapping):
        raise ConfigParseError(f"{where}: metadata must be a mapping")
    skill = Skill(
        name=skill_dir.name,
        scope=root.scope,
        description=_text(front, "description", where) or "",
        license=_text(front, "license", where),
        compatibility=_text(front, "compatibility", where),
        metadata={str(k): str(v) for k, v in metadata.items()},
        allowed_tools=_tools(front.get("allowed-tools"), where),
        content_sha256=skill_digest(files),
        root=root.rel,
        placement=Placement.SYMLINK if skill_dir.is_symlink() else Placement.COPY,
    )
    extra = tuple(str(k) for k in front if k not in _CORE)
    return FoundSkill(skill, root, files, extra, (skill_dir,))


def find_skills(
    roots: Sequence[SkillRoot], allowed_roots: Sequence[Path] | None = None
) -> list[FoundSkill]:
    """Every skill directory (one holding ``SKILL.md``) under ``roots``, de-duplicated.

    Args:
        roots: skill roots, in priority order.
        allowed_roots: where symlinks may lead; defaults to the roots themselves.
    """
    allowed = list(allowed_roots) if allowed_roots is not None else [r.path for r in roots]
    found: list[FoundSkill] = []
    for root in roots:
        if not root.path.is_dir():
            continue
        found.extend(
            read_skill(entry, root, allowed)
            for entry in sorted(root.path.iterdir())
            if entry.is_dir() and (entry / SKILL_FILE).is_file()
        )
    return dedupe(found)


def dedupe(found: Iterable[FoundSkill]) -> list[FoundSkill]:
    """Merge skills with the same scope, project, name and content into one entity.

    The first occurrence wins; its ``locations`` lists every directory holding the content.
    Same name with different content stays separate (a conflict for the caller).
    """
    merged: dict[tuple[Scope, Path | None, str, str], FoundSkill] = {}
    for item in found:
        key = (item.skill.scope, item.root.project, item.skill.name, item.skill.content_sha256)
        first = merged.get(key)
        if first is None:
            merged[key] = item
        else:
            where = tuple(dict.fromkeys((*first.locations, *item.locations)))
            merged[key] = FoundSkill(first.skill, first.root, first.files, first.client_keys, where)
    return list(merged.values())


def _target_root(client_roots: Sequence[SkillRoot]) -> SkillRoot:
    for rel in SHARED_ROOTS:
        for root in client_roots:
            if root.rel == rel:
                return root
    return client_roots[0]


def plan_skill(
    source: FoundSkill,
    client: str,
    client_roots: Sequence[SkillRoot],
    existing: Sequence[FoundSkill] = (),
    placement: Placement = Placement.COPY,
) -> SkillPlan:
    """Plan how ``source`` reaches ``client`` without duplicating what it already sees.

    Args:
        source: the skill to propagate.
        client: the target client id.
        client_roots: the roots the client reads for the target scope, in its order.
        existing: skills already on disk (for reuse and for updates in place).
        placement: ``copy`` or ``symlink`` when something must be created.

    Returns:
        ``shared_root`` with no writes when a root the client reads already holds the same
        content; otherwise a copy (or a symlink) into the preferred root.

    Raises:
        UnsafeInputError: no roots, a hostile name or file path.
    """
    if not client_roots:
        raise UnsafeInputError(f"refusing skill {source.skill.name!r}: {client} reads no skills")
    name = check_entity_name(source.skill.name)
    losses = _losses(source, client)
    readable = {r.path for r in client_roots}
    for other in existing:
        if other.skill.content_sha256 != source.skill.content_sha256 or other.skill.name != name:
            continue
        hit = next((d for d in other.locations if d.parent in readable), None)
        if hit is not None:
            return SkillPlan(Placement.SHARED_ROOT, reused=hit, losses=losses)
    root = _target_root(client_roots)
    target = root.path / name
    current = next((o for o in existing if target in o.locations), None)
    have = dict(current.files) if current is not None else {}
    if placement is Placement.SYMLINK and current is None:
        link = os.path.relpath(source.dir, target.parent)
        return SkillPlan(Placement.SYMLINK, target, symlink_to=link, losses=losses)
    if placement is Placement.SYMLINK:
        losses.append(_loss(client, name, "placement", "target exists; updated as a copy"))
    writes = {check_relative(r): b for r, b in source.files.items() if have.get(r) != b}
    deletes = tuple(check_relative(r) for r in sorted(have) if r not in source.files)
    return SkillPlan(Placement.COPY, target, writes, deletes, losses=losses)


def _loss(client: str, name: str, field_name: str, reason: str) -> Loss:
    return Loss(client=client, entity_key=Skill(name=name).key, field=field_name, reason=reason)


def _losses(source: FoundSkill, client: str) -> list[Loss]:
    if client == "claude-code":
        return []
    return [
        _loss(
            client, source.skill.name, f"frontmatter.{key}", f"Claude-only key; {client} ignores it"
        )
        for key in source.client_keys
        if key in _CLAUDE_KEYS
    ]
