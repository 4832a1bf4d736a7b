"""Opt-in client settings (``model``, ``approval_mode``): where each client keeps them.

A :class:`SettingsDialect` names the key path of each setting in one client's user settings
file and how the client spells approval modes. Only that one key is ever read or edited:
trust, approval lists (``permissions.allow``/``deny``) and hooks are never touched. Project
settings files are trust-sensitive, so settings are user scope only.

Full-access modes (``bypassPermissions``, ``yolo``, ``autopilot``) are parsed as
``full_access`` so the ledger knows, but never written (:func:`setting_refusal`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from adapters.formats import DELETE, Edit, Format
from events.client_config import EntityKey, Loss, Scope, Setting, setting_refusal

__all__ = ["SettingsDialect", "parse_settings", "plan_settings"]


@dataclass(frozen=True)
class SettingsDialect:
    """Where one client keeps its syncable settings and how it spells approval modes.

    Attributes:
        client: the client id (prefix of a native value with no equivalent).
        fmt: the settings file's format.
        path: the settings file under home; ``None`` means the client's user MCP file.
        model: key path of the model id (``None``: not synced for this client).
        approval: key path of the approval mode (``None``: not synced for this client).
        modes: native approval value → canonical value (the first native of a canonical
            value is the one written); a native value not listed has no equivalent.
    """

    client: str
    fmt: Format
    path: str | None
    model: tuple[str, ...] | None
    approval: tuple[str, ...] | None = None
    modes: Mapping[str, str] = field(default_factory=dict)

    @property
    def keys(self) -> dict[str, tuple[str, ...]]:
        """Setting name → key path, for the settings this client has."""
        found = {"model": self.model, "approval_mode": self.approval}
        return {name: path for name, path in found.items() if path is not None}

    @property
    def writable_modes(self) -> frozenset[str]:
        """Canonical approval modes this client can be given (never ``full_access``)."""
        if self.approval is None:
            return frozenset()
        modes = self.modes.values()
        return frozenset(m for m in modes if setting_refusal("approval_mode", m) is None)

    def canonical(self, name: str, native: str) -> str:
        """The canonical value of a native one (``<client>:<native>`` with no equivalent)."""
        if name != "approval_mode":
            return native
        return self.modes.get(native, f"{self.client}:{native}")

    def native(self, name: str, value: str) -> str | None:
        """The native spelling of a canonical value, or ``None`` when the client has none."""
        if name != "approval_mode":
            return value
        return next((n for n, c in self.modes.items() if c == value), None)


def _lookup(data: Mapping[str, Any], path: tuple[str, ...]) -> object:
    node: object = data
    for step in path:
        if not isinstance(node, Mapping):
            return None
        node = node.get(step)
    return node


def parse_settings(dialect: SettingsDialect, data: Mapping[str, Any]) -> list[Setting]:
    """The settings found in a loaded user settings file.

    Lenient on purpose: the file may also hold MCP servers, so a setting with an odd value
    (not a string, empty, control characters) is skipped rather than failing the file.
    """
    out: list[Setting] = []
    for name, path in dialect.keys.items():
        raw = _lookup(data, path)
        if not isinstance(raw, str):
            continue
        try:
            out.append(Setting(name=name, scope=Scope.USER, value=dialect.canonical(name, raw)))
        except ValidationError:
            continue
    return out


def plan_settings(
    dialect: SettingsDialect,
    data: Mapping[str, Any],
    desired: Mapping[EntityKey, object],
) -> tuple[list[Edit], list[Loss]]:
    """Edits of the one key per desired setting; refusals and gaps become losses.

    Args:
        dialect: the client's settings dialect (its ``client`` names the losses).
        data: the loaded settings file.
        desired: target state; only ``setting`` keys are looked at (``None`` removes the key).
    """
    client = dialect.client
    edits: list[Edit] = []
    losses: list[Loss] = []

    def loss(key: EntityKey, reason: str) -> None:
        losses.append(Loss(client=client, entity_key=key, field="value", reason=reason))

    for key, wanted in desired.items():
        if key.kind != Setting.kind:
            continue
        path = dialect.keys.get(key.name)
        if path is None:
            loss(key, f"{client} has no {key.name} setting Synapse can sync")
            continue
        current = _lookup(data, path)
        if wanted is None:
            if current is not None:
                edits.append(Edit(path, DELETE))
            continue
        if not isinstance(wanted, Setting):
            raise TypeError(f"{key} must be a Setting")
        refusal = setting_refusal(key.name, wanted.value)
        native = dialect.native(key.name, wanted.value)
        if refusal is not None or native is None:
            loss(key, refusal or f"{client} has no approval mode {wanted.value!r}")
            continue
        if current != native:
            edits.append(Edit(path, native))
    return edits, losses
