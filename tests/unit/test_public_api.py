"""Every module pins its public API in ``__all__`` (as httpx's test_exported_members does).

A public class or function defined in a module and missing from its ``__all__`` — or a name in
``__all__`` that does not exist — fails here, so the surface a module offers is a decision
written down, not an accident of naming.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from types import ModuleType

import pytest

PACKAGES = ["events", "adapters", "projections", "actors", "serve", "synapse"]
#: Generated protobuf code, and folders of static assets.
SKIP = ("serve.grpc.synapse_pb2", "serve.grpc.synapse_pb2_grpc", "serve.static")


def _modules() -> list[str]:
    names = []
    for package in PACKAGES:
        root = importlib.import_module(package)
        names.append(package)
        names += [
            info.name
            for info in pkgutil.walk_packages(root.__path__, f"{package}.")
            if not info.name.startswith(SKIP)
        ]
    return sorted(names)


MODULES = _modules()


def _defined_here(module: ModuleType) -> set[str]:
    return {
        name
        for name, obj in vars(module).items()
        if not name.startswith("_")
        and (inspect.isclass(obj) or inspect.isfunction(obj))
        and obj.__module__ == module.__name__
    }


def test_every_module_is_checked() -> None:
    """The walk finds the packages' modules (a broken walk would check nothing)."""
    assert len(MODULES) > 150
    assert "events.store" in MODULES
    assert "actors.gateway.router" in MODULES


@pytest.mark.parametrize("name", MODULES)
def test_all_names_exactly_the_public_definitions(name: str) -> None:
    """``__all__`` exists, every name in it resolves, and every public class or function the
    module defines is in it."""
    module = importlib.import_module(name)
    exported = getattr(module, "__all__", None)
    assert exported is not None, f"{name} has no __all__"
    assert len(set(exported)) == len(exported), f"{name}: duplicates in __all__"
    assert [n for n in exported if not hasattr(module, n)] == []
    assert sorted(_defined_here(module) - set(exported)) == []
