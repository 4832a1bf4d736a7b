"""Layout and dependency-direction rules from STYLE.md, enforced."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ["events", "adapters", "projections", "actors", "serve", "synapse"]
# Lower layers may not import higher ones.
RANK = {name: i for i, name in enumerate(PACKAGES)}
RAY_ALLOWED = {"actors/supervision.py", "serve/deployments.py", "synapse/bootstrap.py"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", PACKAGES)
def test_package_resolves_inside_repo(package: str) -> None:
    """Each of the six packages is ours, not a same-named distribution."""
    module = importlib.import_module(package)
    assert module.__file__ is not None
    assert Path(module.__file__).resolve().is_relative_to(REPO)
    assert (REPO / package / "py.typed").exists()


@pytest.mark.parametrize("package", PACKAGES)
def test_dependencies_point_inward(package: str) -> None:
    """No module imports a package above its own layer."""
    offenders = []
    for path in (REPO / package).rglob("*.py"):
        for name in _imports(path) & set(RANK):
            if RANK[name] > RANK[package]:
                offenders.append(f"{path.relative_to(REPO)} imports {name}")
    assert offenders == []


def test_ray_is_imported_only_at_the_edges() -> None:
    """Domain logic stays free of Ray: only three modules may import it."""
    offenders = []
    for package in PACKAGES:
        for path in (REPO / package).rglob("*.py"):
            rel = str(path.relative_to(REPO))
            if "ray" in _imports(path) and rel not in RAY_ALLOWED:
                offenders.append(rel)
    assert offenders == []


@pytest.mark.parametrize("package", PACKAGES)
def test_dunder_all_matches_public_names(package: str) -> None:
    """Every name in ``__all__`` exists, so the public API is pinned."""
    module = importlib.import_module(package)
    exported = getattr(module, "__all__", None)
    assert exported is not None
    for name in exported:
        assert hasattr(module, name), f"{package}.{name}"


def test_no_loose_modules_at_root() -> None:
    """The root holds packages and tooling, never loose .py modules."""
    assert sorted(p.name for p in REPO.glob("*.py")) == []
