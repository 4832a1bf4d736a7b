"""requirements.lock pins every dependency pyproject.toml declares, within its range."""

from __future__ import annotations

import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]


def _pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version, f"not an exact pin: {line!r}"
            pins[canonicalize_name(name)] = version.strip()
    return pins


def test_every_declared_dependency_is_pinned_within_its_range() -> None:
    """A dependency added to pyproject.toml without `./run lock` fails here, by name."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = [*project["dependencies"], *project["optional-dependencies"]["dev"]]
    pins = _pins()
    problems = []
    for text in declared:
        req = Requirement(text)
        pinned = pins.get(canonicalize_name(req.name))
        if pinned is None:
            problems.append(f"{req.name}: not in requirements.lock")
        elif not req.specifier.contains(pinned, prereleases=True):
            problems.append(f"{req.name}: locked {pinned} is outside {req.specifier}")
    assert problems == [], "run ./run lock\n" + "\n".join(problems)


def test_the_lock_pins_only_exact_versions_and_not_synapse_itself() -> None:
    """Every line is ``name==version``; the project is installed from the tree, not the lock."""
    pins = _pins()
    assert len(pins) > 50
    assert "synapse-ai" not in pins
