"""Adapter registry: built-ins and plug-ins through one entry-point path."""

from __future__ import annotations

import logging
import sys
import types
from collections.abc import Iterator, Sequence
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest

from adapters.base import Capabilities, ClientAdapter, ConfigFile, Desired, RenderPlan
from adapters.registry import GROUP, load_adapters
from events.client_config import ClientId, Entity


class FakePluginAdapter(ClientAdapter):
    """A third-party adapter for a client Synapse does not ship."""

    client = ClientId.CURSOR  # reassigned per test through a subclass
    display_name = "Fake"

    def discover(self, home: Path, projects: Sequence[Path]) -> list[ConfigFile]:
        return []

    def _parse(self, file: ConfigFile, text: str) -> list[Entity]:
        return []

    def _plan(self, file: ConfigFile, text: str, desired: Desired) -> RenderPlan:
        return RenderPlan()

    def capabilities(self) -> Capabilities:
        return Capabilities(self.client, {})


class WindsurfAdapter(FakePluginAdapter):
    """A plug-in adapter keyed by a client id string Synapse does not know."""

    client = "windsurf"  # type: ignore[assignment]


@pytest.fixture
def plugin_module() -> Iterator[str]:
    """A throwaway importable module holding plug-in classes."""
    module = types.ModuleType("fake_synapse_plugin")
    module.WindsurfAdapter = WindsurfAdapter  # type: ignore[attr-defined]
    module.NotAnAdapter = object  # type: ignore[attr-defined]
    module.FakePluginAdapter = FakePluginAdapter  # type: ignore[attr-defined]
    sys.modules[module.__name__] = module
    yield module.__name__
    del sys.modules[module.__name__]


def test_all_eight_builtins_are_registered() -> None:
    """Every built-in client has exactly one adapter instance."""
    adapters = load_adapters()
    assert set(adapters) >= set(ClientId)
    assert all(adapters[c].client == c for c in ClientId)


def test_plugin_entry_point_is_loaded(plugin_module: str) -> None:
    """A plug-in registered under synapse.adapters is loaded beside the built-ins."""
    ep = EntryPoint("windsurf", f"{plugin_module}:WindsurfAdapter", GROUP)
    adapters = load_adapters([ep])
    assert isinstance(adapters["windsurf"], WindsurfAdapter)


@pytest.mark.parametrize(
    "value", ["no_such_module_xyz:Adapter", "fake_synapse_plugin:NotAnAdapter"]
)
def test_broken_plugin_is_skipped_with_a_warning(
    plugin_module: str, value: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A plug-in that fails to import or is not an adapter never breaks loading."""
    with caplog.at_level(logging.WARNING, logger="adapters.registry"):
        adapters = load_adapters([EntryPoint("broken", value, GROUP)])
    assert set(adapters) == set(ClientId)
    assert "skipped" in caplog.text


def test_plugin_cannot_replace_a_builtin(
    plugin_module: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A plug-in claiming a built-in client is skipped; the built-in stays."""
    ep = EntryPoint("cursor2", f"{plugin_module}:FakePluginAdapter", GROUP)
    with caplog.at_level(logging.WARNING, logger="adapters.registry"):
        adapters = load_adapters([ep])
    assert type(adapters[ClientId.CURSOR]).__name__ == "CursorAdapter"
    assert "duplicates client" in caplog.text
