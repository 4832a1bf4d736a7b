"""OpenCode: ``~/.config/opencode/opencode.json[c]`` and the project ``opencode.json[c]``.

Servers live under ``mcp``: ``type: "local"`` with ``command`` as one array and
``environment`` instead of ``env``, or ``type: "remote"`` with ``url``/``headers``. Strings
use ``{env:VAR}`` (no defaults; an unset variable becomes ``""``). ``enabled: false``
disables a server inline. Remote servers negotiate HTTP vs SSE, so SSE is not kept apart.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from adapters import envrefs
from adapters._agent_tools import OPENCODE_PERMISSIONS, provider_model
from adapters._commands import CommandCodec
from adapters._mcp_plan import plan_servers
from adapters._mcp_values import native_value, value_list
from adapters._settings import SettingsDialect
from adapters._subagents import SubagentDialect
from adapters.base import Capabilities, ClientAdapter, ConfigFile, Desired, RenderPlan
from adapters.envrefs import EnvSyntax, SecretClassifier
from adapters.formats import Format
from events.client_config import ClientId, Entity, Loss, McpServer, Scope, Transport, Value
from events.errors import ConfigParseError

__all__ = ["OpenCodeAdapter"]

_MCP = frozenset({McpServer.kind})
_SYNTAX = EnvSyntax.OPENCODE
_MANAGED = frozenset({"type", "command", "environment", "url", "headers", "enabled"})
_SERVER_FIELDS = frozenset(
    {"transport", "command", "args", "env", "url", "headers", "bearer_token_env", "enabled"}
)
_UNSUPPORTED = (
    "cwd",
    "startup_timeout_ms",
    "tool_timeout_ms",
    "tools_include",
    "tools_exclude",
    "description",
)


def _first_existing(*candidates: Path) -> Path:
    return next((p for p in candidates if p.exists()), candidates[0])


class OpenCodeAdapter(ClientAdapter):
    """OpenCode's MCP configuration."""

    client = ClientId.OPENCODE
    display_name = "OpenCode"
    instruction_files = ("AGENTS.md", "CLAUDE.md")
    user_instruction_files = (".config/opencode/AGENTS.md",)
    # ``provider/model``: sync it only among clients whose model names fit (README).
    settings_dialect = SettingsDialect(
        client="opencode", fmt=Format.JSONC, path=None, model=("model",)
    )
    # The file name is the agent name; OpenCode moves unknown keys into ``options``.
    subagent_dialect = SubagentDialect(
        client="opencode",
        fmt=Format.MARKDOWN,
        suffix=".md",
        user_dirs=(".config/opencode/agents", ".config/opencode/agent"),
        project_dirs=(".opencode/agents", ".opencode/agent"),
        keys={
            "description": ("description",),
            "model": ("model",),
            "tools_deny": ("permission",),
            "max_turns": ("steps",),
            "temperature": ("temperature",),
            "color": ("color",),
        },
        name_key=None,
        tools=OPENCODE_PERMISSIONS,
        deny_as_permission=True,
        model_ok=provider_model,
        defaults={"mode": "subagent"},
        nested=True,
    )
    # The legacy ``skill/`` folders are read last: placement copies into a shared root.
    skill_dirs = (
        (".config/opencode/skills", ".claude/skills", ".agents/skills", ".config/opencode/skill"),
        (".opencode/skills", ".claude/skills", ".agents/skills", ".opencode/skill"),
    )
    command_codec = CommandCodec(Format.MARKDOWN)
    # ``commands/`` is the documented folder; the legacy ``command/`` is still read, and a
    # command found there is edited in place (never copied next to it).
    command_dirs = (
        (".config/opencode/commands", ".config/opencode/command"),
        (".opencode/commands", ".opencode/command"),
    )

    def discover(self, home: Path, projects: Sequence[Path]) -> list[ConfigFile]:
        """The global config (``.jsonc`` preferred for creation) and each project config."""
        root = home / ".config" / "opencode"
        user = _first_existing(root / "opencode.jsonc", root / "opencode.json")
        files = [ConfigFile(self.client, user, Scope.USER, Format.JSONC, _MCP, False)]
        for p in projects:
            path = _first_existing(
                p / "opencode.jsonc", p / "opencode.json", p / ".opencode" / "opencode.json"
            )
            files.append(ConfigFile(self.client, path, Scope.PROJECT, Format.JSONC, _MCP, False, p))
        files += self.command_files(home, projects) + self.subagent_files(home, projects)
        return self.with_settings(files, home)

    def _server(
        self, file: ConfigFile, name: str, raw: Mapping[str, Any], classifier: SecretClassifier
    ) -> McpServer:
        where = f"{file.path}: mcp.{name}"
        remote = raw.get("type") == "remote" or ("url" in raw and "command" not in raw)
        command = classifier.args(value_list(raw.get("command", []), _SYNTAX, where))
        try:
            env = classifier.mapping(raw.get("environment") or {}, _SYNTAX, where)
            headers = classifier.mapping(raw.get("headers") or {}, _SYNTAX, where)
        except TypeError as e:
            raise ConfigParseError(f"{where}: {e}") from e
        enabled = raw.get("enabled", True)
        extras = {k: v for k, v in raw.items() if k not in _MANAGED}
        return McpServer(
            name=name,
            scope=file.scope,
            transport=Transport.HTTP if remote else Transport.STDIO,
            command=command[0] if command else None,
            args=command[1:],
            env=env,
            url=classifier.text(native_value(raw.get("url"), _SYNTAX, where)),
            headers=headers,
            enabled=enabled if isinstance(enabled, bool) else True,
            extras={str(self.client): extras} if extras else {},
        )

    def _servers(
        self, file: ConfigFile, text: str, classifier: SecretClassifier
    ) -> tuple[Mapping[str, Any], dict[str, McpServer]]:
        table = self._load_mapping(file, text).get("mcp", {})
        if not isinstance(table, Mapping):
            raise ConfigParseError(f"{file.path}: mcp is not an object")
        servers: dict[str, McpServer] = {}
        for name, raw in table.items():
            checked = self._checked_name(name, file)
            if not isinstance(raw, Mapping):
                raise ConfigParseError(f"{file.path}: mcp.{checked} is not an object")
            servers[checked] = self._server(file, checked, raw, classifier)
        return table, servers

    def _parse(self, file: ConfigFile, text: str) -> list[Entity]:
        _, servers = self._servers(file, text, SecretClassifier(self.fingerprint_key))
        return list(servers.values())

    def to_native(
        self, server: McpServer, reveal: Mapping[str, str]
    ) -> tuple[dict[str, Any] | None, list[Loss]]:
        """Render ``server`` as an OpenCode ``mcp`` entry."""
        key = server.key
        losses = [
            self._loss(key, f, "not supported by this client")
            for f in _UNSUPPORTED
            if getattr(server, f) is not None
        ]

        def text(field_name: str, value: Value) -> str:
            losses.extend(
                self._loss(key, field_name, why)
                for why in envrefs.inexpressible(value, _SYNTAX, reveal)
            )
            return envrefs.render(value, _SYNTAX, reveal)

        def mapping(field_name: str, values: Mapping[str, Value]) -> dict[str, str]:
            out: dict[str, str] = {}
            for k, v in values.items():
                problems = envrefs.inexpressible(v, _SYNTAX, reveal)
                losses.extend(self._loss(key, f"{field_name}.{k}", why) for why in problems)
                if not any("secret" in p for p in problems):
                    out[k] = envrefs.render(v, _SYNTAX, reveal)
            return out

        native: dict[str, Any] = {}
        if server.transport is Transport.STDIO:
            if server.command is None:
                return None, [self._loss(key, "command", "stdio server without a command")]
            native["type"] = "local"
            native["command"] = [text("command", server.command)] + [
                text("args", a) for a in server.args
            ]
            if server.env:
                native["environment"] = mapping("env", server.env)
        else:
            if server.url is None:
                return None, [self._loss(key, "url", "remote server without a url")]
            if server.transport is Transport.SSE:
                losses.append(self._loss(key, "transport", "OpenCode negotiates HTTP/SSE itself"))
            native["type"] = "remote"
            native["url"] = text("url", server.url)
            headers = mapping("headers", server.headers)
            if server.bearer_token_env:
                headers["Authorization"] = f"Bearer {{env:{server.bearer_token_env}}}"
            if headers:
                native["headers"] = headers
        if not server.enabled:
            native["enabled"] = False
        for k, v in server.extras.get(str(self.client), {}).items():
            native.setdefault(k, v)
        return native, losses

    def _plan(self, file: ConfigFile, text: str, desired: Desired) -> RenderPlan:
        """Plan ``mcp`` edits; other top-level keys are never touched."""
        classifier = SecretClassifier(self.fingerprint_key)
        raw, current = self._servers(file, text, classifier)
        return plan_servers(
            client=self.client,
            scope=file.scope,
            container=("mcp",),
            raw=raw,
            current=current,
            desired=desired,
            to_native=self.to_native,
            reveal=classifier.revealed,
        )

    def capabilities(self) -> Capabilities:
        """OpenCode: inline ``enabled``; no timeouts, cwd or tool filters per server."""
        return Capabilities(
            self.client,
            {McpServer.kind: _SERVER_FIELDS, **self.entity_capabilities()},
            ("env syntax {env:VAR}", "unknown top-level keys make OpenCode refuse to start"),
        )
