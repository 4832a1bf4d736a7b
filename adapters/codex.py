"""Codex CLI: ``~/.codex/config.toml`` and the project ``.codex/config.toml`` (TOML).

Codex never interpolates strings. Env references are therefore expressed through keys:
stdio ``K=${K}`` → ``env_vars = ["K"]``; ``Authorization: Bearer ${T}`` →
``bearer_token_env_var = "T"``; a header whose whole value is ``${V}`` →
``env_http_headers``. Anything else (``K=${OTHER}``, templates, defaults, SSE) is a loss.
Timeouts are seconds in the file and milliseconds in the canonical model.

Codex has no commands: its custom prompts (``~/.codex/prompts/*.md``, ``/prompts:name``) were
deprecated in favour of skills and removed in codex 0.117.0 (openai/codex#14987, #15941), so
current Codex loads none of those files and Synapse neither reads nor writes them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from adapters import envrefs
from adapters._agent_tools import openai_model
from adapters._mcp_plan import plan_servers
from adapters._mcp_values import literal_list, native_value, optional_int, value_list
from adapters._settings import SettingsDialect
from adapters._subagents import SubagentDialect
from adapters.base import Capabilities, ClientAdapter, ConfigFile, Desired, RenderPlan
from adapters.envrefs import EnvSyntax, SecretClassifier
from adapters.formats import Format, load
from events.client_config import (
    ClientId,
    Entity,
    EnvRef,
    Loss,
    McpServer,
    Transport,
    Value,
)
from events.errors import ConfigParseError

__all__ = ["CodexAdapter", "is_project_trusted"]

_LIT = EnvSyntax.LITERAL
_CUSTOM_PROMPTS_NOTE = "no commands: custom prompts (~/.codex/prompts) were removed in 0.117.0"
_MANAGED = frozenset(
    {
        "command",
        "args",
        "env",
        "env_vars",
        "cwd",
        "url",
        "http_headers",
        "env_http_headers",
        "bearer_token_env_var",
        "enabled",
        "startup_timeout_sec",
        "tool_timeout_sec",
        "enabled_tools",
        "disabled_tools",
    }
)
_SERVER_FIELDS = frozenset(
    {
        "command",
        "args",
        "env",
        "cwd",
        "url",
        "headers",
        "bearer_token_env",
        "enabled",
        "startup_timeout_ms",
        "tool_timeout_ms",
        "tools_include",
        "tools_exclude",
    }
)


def is_project_trusted(user_config_text: str, project: Path) -> bool:
    """Whether ``[projects."<abs>"] trust_level = "trusted"`` is set (Codex reads the
    project file only then)."""
    data = _load_toml(user_config_text)
    entry = data.get("projects", {}).get(str(project), {})
    return isinstance(entry, Mapping) and entry.get("trust_level") == "trusted"


def _load_toml(text: str) -> Mapping[str, Any]:
    data = load(Format.TOML, text) if text.strip() else {}
    return data if isinstance(data, Mapping) else {}


def _seconds(ms: int) -> int | float:
    return ms // 1000 if ms % 1000 == 0 else ms / 1000


class CodexAdapter(ClientAdapter):
    """Codex CLI's MCP configuration."""

    client = ClientId.CODEX
    display_name = "Codex CLI"
    instruction_files = ("AGENTS.override.md", "AGENTS.md")
    user_instruction_files = (".codex/AGENTS.md", ".codex/AGENTS.override.md")
    subagent_dialect = SubagentDialect(
        client="codex",
        fmt=Format.TOML,
        suffix=".toml",
        user_dirs=(".codex/agents",),
        project_dirs=(".codex/agents",),
        keys={"description": ("description",), "model": ("model",)},
        body_key="developer_instructions",
        model_ok=openai_model,
    )
    skill_dirs = ((".codex/skills", ".agents/skills"), (".codex/skills", ".agents/skills"))
    # approval_policy / sandbox_mode have no clean equivalent: no approval_mode for Codex.
    settings_dialect = SettingsDialect(client="codex", fmt=Format.TOML, path=None, model=("model",))

    def discover(self, home: Path, projects: Sequence[Path]) -> list[ConfigFile]:
        """The user config plus each project's ``.codex/config.toml`` (trust-gated)."""
        files = self.mcp_files(
            home, projects, ".codex/config.toml", ".codex/config.toml", Format.TOML
        )
        return self.with_settings(files + self.subagent_files(home, projects), home)

    def _server(
        self, file: ConfigFile, name: str, raw: Mapping[str, Any], classifier: SecretClassifier
    ) -> McpServer:
        where = f"{file.path}: mcp_servers.{name}"
        try:
            env = classifier.mapping(raw.get("env") or {}, _LIT, where)
            headers = classifier.mapping(raw.get("http_headers") or {}, _LIT, where)
        except TypeError as e:
            raise ConfigParseError(f"{where}: {e}") from e
        env.update({k: Value.of(EnvRef(k)) for k in literal_list(raw.get("env_vars", []), where)})
        for header, var in (raw.get("env_http_headers") or {}).items():
            if not isinstance(var, str):
                raise ConfigParseError(f"{where}: env_http_headers.{header} must be a string")
            headers[header] = Value.of(EnvRef(var))
        bearer = raw.get("bearer_token_env_var")
        enabled = raw.get("enabled", True)
        extras = {k: v for k, v in raw.items() if k not in _MANAGED}
        include, exclude = raw.get("enabled_tools"), raw.get("disabled_tools")
        return McpServer(
            name=name,
            scope=file.scope,
            transport=Transport.HTTP if "url" in raw else Transport.STDIO,
            command=classifier.text(native_value(raw.get("command"), _LIT, where)),
            args=classifier.args(value_list(raw.get("args", []), _LIT, where)),
            env=env,
            cwd=native_value(raw.get("cwd"), _LIT, where),
            url=classifier.text(native_value(raw.get("url"), _LIT, where)),
            headers=headers,
            bearer_token_env=bearer if isinstance(bearer, str) else None,
            enabled=enabled if isinstance(enabled, bool) else True,
            startup_timeout_ms=optional_int(raw.get("startup_timeout_sec"), where, scale=1000),
            tool_timeout_ms=optional_int(raw.get("tool_timeout_sec"), where, scale=1000),
            tools_include=None if include is None else literal_list(include, where),
            tools_exclude=None if exclude is None else literal_list(exclude, where),
            extras={str(self.client): extras} if extras else {},
        )

    def _servers(
        self, file: ConfigFile, text: str, classifier: SecretClassifier
    ) -> tuple[Mapping[str, Any], dict[str, McpServer]]:
        table = self._load_mapping(file, text).get("mcp_servers", {})
        if not isinstance(table, Mapping):
            raise ConfigParseError(f"{file.path}: mcp_servers is not a table")
        servers: dict[str, McpServer] = {}
        for name, raw in table.items():
            checked = self._checked_name(name, file)
            if not isinstance(raw, Mapping):
                raise ConfigParseError(f"{file.path}: mcp_servers.{checked} is not a table")
            servers[checked] = self._server(file, checked, raw, classifier)
        return table, servers

    def _parse(self, file: ConfigFile, text: str) -> list[Entity]:
        _, servers = self._servers(file, text, SecretClassifier(self.fingerprint_key))
        return list(servers.values())

    def to_native(  # noqa: C901 - one branch per Codex key reads better than helpers here
        self, server: McpServer, reveal: Mapping[str, str]
    ) -> tuple[dict[str, Any] | None, list[Loss]]:
        """Render ``server`` as a ``[mcp_servers.<name>]`` table (``None`` for SSE)."""
        key = server.key
        losses: list[Loss] = []
        if server.transport is Transport.SSE:
            return None, [self._loss(key, "transport", "Codex supports no SSE servers")]

        def lit(field_name: str, value: Value) -> str:
            losses.extend(
                self._loss(key, field_name, why)
                for why in envrefs.inexpressible(value, _LIT, reveal)
            )
            return envrefs.render(value, _LIT, reveal)

        def split(
            field_name: str, values: Mapping[str, Value], ref_ok: bool
        ) -> tuple[dict[str, str], dict[str, str]]:
            plain: dict[str, str] = {}
            refs: dict[str, str] = {}
            for k, v in values.items():
                part = v.parts[0] if len(v.parts) == 1 else None
                if isinstance(part, EnvRef) and part.default is None and (ref_ok or part.name == k):
                    refs[k] = part.name
                elif not (problems := envrefs.inexpressible(v, _LIT, reveal)):
                    plain[k] = envrefs.render(v, _LIT, reveal)
                else:
                    losses.extend(self._loss(key, f"{field_name}.{k}", p) for p in problems)
            return plain, refs

        native: dict[str, Any] = {}
        if server.transport is Transport.STDIO:
            if server.command is None:
                return None, [self._loss(key, "command", "stdio server without a command")]
            native["command"] = lit("command", server.command)
            native["args"] = [lit("args", a) for a in server.args]
            env, passthrough = split("env", server.env, ref_ok=False)
            if env:
                native["env"] = env
            if passthrough:
                native["env_vars"] = list(passthrough)
            if server.cwd is not None:
                native["cwd"] = lit("cwd", server.cwd)
        else:
            if server.url is None:
                return None, [self._loss(key, "url", "remote server without a url")]
            native["url"] = lit("url", server.url)
            headers, env_headers = split("headers", server.headers, ref_ok=True)
            if headers:
                native["http_headers"] = headers
            if env_headers:
                native["env_http_headers"] = env_headers
            if server.bearer_token_env:
                native["bearer_token_env_var"] = server.bearer_token_env
        if server.startup_timeout_ms is not None:
            native["startup_timeout_sec"] = _seconds(server.startup_timeout_ms)
        if server.tool_timeout_ms is not None:
            native["tool_timeout_sec"] = _seconds(server.tool_timeout_ms)
        if not server.enabled:
            native["enabled"] = False
        if server.tools_include is not None:
            native["enabled_tools"] = list(server.tools_include)
        if server.tools_exclude is not None:
            native["disabled_tools"] = list(server.tools_exclude)
        if server.description is not None:
            losses.append(self._loss(key, "description", "not supported by this client"))
        for k, v in server.extras.get(str(self.client), {}).items():
            native.setdefault(k, v)
        return native, losses

    def _plan(self, file: ConfigFile, text: str, desired: Desired) -> RenderPlan:
        """Plan ``[mcp_servers.*]`` edits; other tables and comments are never touched."""
        classifier = SecretClassifier(self.fingerprint_key)
        raw, current = self._servers(file, text, classifier)
        return plan_servers(
            client=self.client,
            scope=file.scope,
            container=("mcp_servers",),
            raw=raw,
            current=current,
            desired=desired,
            to_native=self.to_native,
            reveal=classifier.revealed,
        )

    def capabilities(self) -> Capabilities:
        """Codex: no SSE, no interpolation, seconds-based timeouts."""
        return Capabilities(
            self.client,
            {McpServer.kind: _SERVER_FIELDS, **self.entity_capabilities()},
            (
                "no SSE",
                "no ${VAR}: env_vars / env_http_headers / bearer_token_env_var",
                "project config read only when trusted",
                _CUSTOM_PROMPTS_NOTE,
            ),
        )
