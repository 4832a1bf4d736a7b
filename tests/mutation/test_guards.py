"""The guard mutation table stays aimed at real code: each pattern matches exactly once.

The full mutation run (``python tests/mutation/guards.py``, part of ``./run test``) takes a
minute; this check takes milliseconds, so a refactor that moves or rewrites a guard fails
here first, naming the entry to update.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

HERE = Path(__file__).resolve().parent


def _load_guards() -> ModuleType:
    spec = importlib.util.spec_from_file_location("synapse_guard_mutations", HERE / "guards.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being built
    spec.loader.exec_module(module)
    return module


guards = _load_guards()


def test_every_mutation_pattern_matches_exactly_once_and_names_real_tests() -> None:
    """Each entry's source text occurs once in its module and its tests exist."""
    assert guards.check_patterns() == []


def test_each_mutation_really_changes_the_code() -> None:
    """No entry is a no-op substitution, and each names at least one test."""
    for m in guards.MUTATIONS:
        assert m.old != m.new, m.name
        assert m.tests, m.name


def test_a_drifted_pattern_is_reported(tmp_path: Path) -> None:
    """A guard rewritten so its pattern no longer matches is named with its file."""
    m = guards.MUTATIONS[0]
    for name in {m.path, *(t.partition("::")[0] for t in m.tests)}:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text((guards.REPO_ROOT / name).read_text())
    (tmp_path / m.path).write_text("# the guard moved elsewhere\n")
    problems = guards.check_patterns(tmp_path)
    assert f"{m.name}: pattern found 0 times in {m.path}: {m.old!r}" in problems
    assert not any(p.startswith(f"{m.name}: test") for p in problems)


@pytest.mark.parametrize("area", ["host", "origin", "content type", "safe methods", "token"])
def test_the_table_covers_the_http_guards_the_bar_names(area: str) -> None:
    """Host, Origin, content type, safe-method and token checks each have an entry."""
    assert any(area in m.name.lower() for m in guards.MUTATIONS)
