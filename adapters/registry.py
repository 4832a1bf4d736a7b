"""Adapter registry: built-ins and third-party plug-ins go through one path.

Third-party packages register a :class:`~adapters.base.ClientAdapter` subclass under the
entry-point group ``synapse.adapters``. A plug-in that fails to import, is not an adapter
or cannot be constructed is skipped with a warning; it never breaks the built-ins.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from importlib.metadata import EntryPoint, entry_points

from adapters.base import ClientAdapter
from events.client_config import DEFAULT_FINGERPRINT_KEY, ClientId

__all__ = ["BUILTIN_ENTRY_POINTS", "GROUP", "load_adapters"]

GROUP = "synapse.adapters"
_log = logging.getLogger(__name__)

#: Built-in adapters, declared exactly as a third-party plug-in would declare itself.
BUILTIN_ENTRY_POINTS: tuple[EntryPoint, ...] = tuple(
    EntryPoint(name, value, GROUP)
    for name, value in (
        ("claude-code", "adapters.claude_code:ClaudeCodeAdapter"),
        ("codex", "adapters.codex:CodexAdapter"),
        ("gemini", "adapters.gemini_cli:GeminiCliAdapter"),
        ("qwen", "adapters.qwen_code:QwenCodeAdapter"),
        ("rovodev", "adapters.rovodev:RovoDevAdapter"),
        ("copilot", "adapters.copilot_cli:CopilotCliAdapter"),
        ("opencode", "adapters.opencode:OpenCodeAdapter"),
        ("cursor", "adapters.cursor:CursorAdapter"),
    )
)


def _instantiate(ep: EntryPoint, key: bytes) -> ClientAdapter | None:
    try:
        cls = ep.load()
        if not (isinstance(cls, type) and issubclass(cls, ClientAdapter)):
            _log.warning("plug-in %s (%s) is not a ClientAdapter; skipped", ep.name, ep.value)
            return None
        return cls(fingerprint_key=key)
    except Exception:  # noqa: BLE001 - a broken plug-in must not take the built-ins down
        _log.warning("plug-in %s (%s) failed to load; skipped", ep.name, ep.value, exc_info=True)
        return None


def load_adapters(
    extra: Iterable[EntryPoint] | None = None,
    *,
    fingerprint_key: bytes = DEFAULT_FINGERPRINT_KEY,
) -> dict[ClientId | str, ClientAdapter]:
    """Instantiate every adapter: built-ins, installed plug-ins, then ``extra``.

    Args:
        extra: more entry points (tests, explicit plug-in lists); default none.
        fingerprint_key: HMAC key handed to every adapter for secret fingerprints.

    Returns:
        Adapters by client id; a plug-in for an unknown client is keyed by its own string.
        Built-ins win over a plug-in claiming the same client.
    """
    adapters: dict[ClientId | str, ClientAdapter] = {}
    installed = tuple(entry_points(group=GROUP))
    for ep in (*BUILTIN_ENTRY_POINTS, *installed, *(extra or ())):
        adapter = _instantiate(ep, fingerprint_key)
        if adapter is None:
            continue
        client = adapter.client
        if client in adapters:
            _log.warning("plug-in %s duplicates client %s; skipped", ep.name, client)
            continue
        adapters[client] = adapter
    return adapters
