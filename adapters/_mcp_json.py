"""The ``mcpServers`` JSON family (Claude, Gemini, Qwen, Copilot, Cursor, Rovo Dev).

These clients share one object shape (``command``/``args``/``env`` or ``url``/``headers``)
and differ in the transport marker, the HTTP key, the env syntax and a few optional fields.
A :class:`JsonDialect` captures those differences; :class:`McpJsonAdapter` does the rest.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from adapters import envrefs
from adapters._mcp_plan import entity_key, plan_servers
from adapters._mcp_values import literal_list, native_value, optional_int, value_list
from adapters.base import ClientAdapter, ConfigFile, Desired, RenderPlan
from adapters.envrefs import EnvSyntax, SecretClassifier
from events.client_config import Entity, EnvRef, Loss, McpServer, Transport, Value
from events.errors import ConfigParseError

__all__ = [
    "OPTIONAL_FIELDS",
    "JsonDialect",
    "McpJsonAdapter",
    "parse_server",
    "server_to_native",
]

#: Optional native keys a dialect may support, and the canonical field behind each.
OPTIONAL_FIELDS: Mapping[str, str] = {
    "cwd": "cwd",
    "timeout": "tool_timeout_ms",
    "trust": "trust",
    "description": "description",
    "includeTools": "tools_include",
    "excludeTools": "tools_exclude",
    "tools": "tools_include",
}
_TRANSPORT_NAMES = {
    "stdio": Transport.STDIO,
    "local": Transport.STDIO,
    "http": Transport.HTTP,
    "streamable-http": Transport.HTTP,
    "streamableHttp": Transport.HTTP,
    "sse": Transport.SSE,
}


@dataclass(frozen=True)
class JsonDialect:
    """How one client spells an MCP server in JSON.

    Attributes:
        syntax: env-reference syntax of the client.
        type_key: key naming the transport (``type``, ``transport``) or ``None``.
        stdio_type: value written for stdio, or ``None`` to omit it.
        http_url_key: ``url`` or Qwen's ``httpUrl``.
        typed_remote: write ``type: http|sse`` next to ``url``.
        untyped_url: transport of a ``url`` entry without a type.
        always_env: write ``env: {}`` for stdio servers even when empty (as the CLI does).
        optional: supported keys from :data:`OPTIONAL_FIELDS`.
        disabled_note: where the client keeps the disabled state (a loss reason).
    """

    syntax: EnvSyntax
    type_key: str | None = "type"
    stdio_type: str | None = "stdio"
    http_url_key: str = "url"
    typed_remote: bool = True
    untyped_url: Transport = Transport.HTTP
    always_env: bool = False
    optional: frozenset[str] = frozenset()
    disabled_note: str = "the client has no per-server disabled flag in this file"

    @property
    def managed(self) -> frozenset[str]:
        """Every native key the dialect translates (the rest are extras)."""
        keys = {"command", "args", "env", "url", "httpUrl", "headers", *self.optional}
        return frozenset(keys | ({self.type_key} if self.type_key else set()))


def parse_server(
    dialect: JsonDialect,
    client: str,
    name: str,
    raw: Mapping[str, Any],
    file: ConfigFile,
    classifier: SecretClassifier,
) -> McpServer:
    """Translate one native server object into the canonical model."""
    where = f"{file.path}: server {name!r}"
    syntax = dialect.syntax
    kind = raw.get(dialect.type_key) if dialect.type_key else None
    if isinstance(kind, str) and kind in _TRANSPORT_NAMES:
        transport = _TRANSPORT_NAMES[kind]
    elif "httpUrl" in raw:
        transport = Transport.HTTP
    elif "url" in raw and "command" not in raw:
        transport = dialect.untyped_url
    else:
        transport = Transport.STDIO
    url = raw.get("httpUrl", raw.get("url"))
    try:
        fields: dict[str, Any] = {
            "name": name,
            "scope": file.scope,
            "transport": transport,
            "command": classifier.text(native_value(raw.get("command"), syntax, where)),
            "args": classifier.args(value_list(raw.get("args", []), syntax, where)),
            "env": classifier.mapping(raw.get("env") or {}, syntax, where),
            "url": classifier.text(native_value(url, syntax, where)),
            "headers": classifier.mapping(raw.get("headers") or {}, syntax, where),
        }
    except TypeError as e:
        raise ConfigParseError(f"{where}: {e}") from e
    opt = dialect.optional
    if "cwd" in opt:
        fields["cwd"] = native_value(raw.get("cwd"), syntax, where)
    if "timeout" in opt:
        fields["tool_timeout_ms"] = optional_int(raw.get("timeout"), where)
    if "trust" in opt and isinstance(raw.get("trust"), bool):
        fields["trust"] = raw["trust"]
    if "description" in opt and isinstance(raw.get("description"), str):
        fields["description"] = raw["description"]
    for native in ("includeTools", "excludeTools"):
        if native in opt and native in raw:
            fields[OPTIONAL_FIELDS[native]] = literal_list(raw[native], where)
    if "tools" in opt and "tools" in raw:
        tools = literal_list(raw["tools"], where)
        fields["tools_include"] = None if tools == ("*",) else tools
    extras = {k: v for k, v in raw.items() if k not in dialect.managed}
    if extras:
        fields["extras"] = {client: extras}
    return McpServer(**fields)


def _unsupported(server: McpServer, dialect: JsonDialect) -> list[tuple[str, str]]:
    checks = {
        "startup_timeout_ms": server.startup_timeout_ms is not None,
        "cwd": server.cwd is not None and "cwd" not in dialect.optional,
        "tool_timeout_ms": server.tool_timeout_ms is not None and "timeout" not in dialect.optional,
        "description": server.description is not None and "description" not in dialect.optional,
        "tools_include": server.tools_include is not None
        and not {"includeTools", "tools"} & dialect.optional,
        "tools_exclude": server.tools_exclude is not None
        and "excludeTools" not in dialect.optional,
        "enabled": not server.enabled,
    }
    reasons = {"enabled": dialect.disabled_note}
    return [(f, reasons.get(f, "not supported by this client")) for f, bad in checks.items() if bad]


def _optional_native(dialect: JsonDialect, server: McpServer, native: dict[str, Any]) -> None:
    """Add the dialect's optional keys (trust, description, tool filters) to ``native``."""
    opt = dialect.optional
    values: dict[str, Any] = {
        "timeout": server.tool_timeout_ms,
        "trust": server.trust,
        "description": server.description,
        "includeTools": None if server.tools_include is None else list(server.tools_include),
        "excludeTools": None if server.tools_exclude is None else list(server.tools_exclude),
    }
    native.update({k: v for k, v in values.items() if k in opt and v is not None})


def server_to_native(
    dialect: JsonDialect, adapter: ClientAdapter, server: McpServer, reveal: Mapping[str, str]
) -> tuple[dict[str, Any] | None, list[Loss]]:
    """Render a canonical server as this dialect's JSON object."""
    key = server.key
    losses = [adapter._loss(key, f, why) for f, why in _unsupported(server, dialect)]

    def text(field_name: str, value: Any) -> str:
        losses.extend(
            adapter._loss(key, field_name, why)
            for why in envrefs.inexpressible(value, dialect.syntax, reveal)
        )
        return envrefs.render(value, dialect.syntax, reveal)

    def mapping(field_name: str, values: Mapping[str, Any]) -> dict[str, str]:
        out: dict[str, str] = {}
        for k, v in values.items():
            problems = envrefs.inexpressible(v, dialect.syntax, reveal)
            losses.extend(adapter._loss(key, f"{field_name}.{k}", why) for why in problems)
            if not any("secret" in p for p in problems):
                out[k] = envrefs.render(v, dialect.syntax, reveal)
        return out

    native: dict[str, Any] = {}
    headers = mapping("headers", server.headers)
    if server.bearer_token_env:
        headers["Authorization"] = text(
            "bearer_token_env", Value.of("Bearer ", EnvRef(server.bearer_token_env))
        )
    if "tools" in dialect.optional:  # Copilot writes its allowlist first, "*" when open
        native["tools"] = list(server.tools_include or ("*",))
        native.update({"timeout": server.tool_timeout_ms} if server.tool_timeout_ms else {})
    if server.transport is Transport.STDIO:
        if dialect.type_key and dialect.stdio_type:
            native[dialect.type_key] = dialect.stdio_type
        if server.command is None:
            losses.append(adapter._loss(key, "command", "stdio server without a command"))
            return None, losses
        native["command"] = text("command", server.command)
        native["args"] = [text("args", a) for a in server.args]
        env = mapping("env", server.env)
        if env or dialect.always_env:
            native["env"] = env
        native.update(
            {"cwd": text("cwd", server.cwd)}
            if "cwd" in dialect.optional and server.cwd is not None
            else {}
        )
    else:
        if server.url is None:
            losses.append(adapter._loss(key, "url", "remote server without a url"))
            return None, losses
        url_key = dialect.http_url_key if server.transport is Transport.HTTP else "url"
        native[url_key] = text("url", server.url)
        if dialect.type_key and dialect.typed_remote:
            native[dialect.type_key] = str(server.transport)
        native.update({"headers": headers} if headers else {})
    _optional_native(dialect, server, native)
    for k, v in server.extras.get(str(adapter.client), {}).items():
        native.setdefault(k, v)
    return native, losses


class McpJsonAdapter(ClientAdapter):
    """Base for clients whose MCP servers live in a JSON ``mcpServers``-style mapping."""

    dialect: ClassVar[JsonDialect]

    def container(self, file: ConfigFile) -> tuple[str, ...]:
        """Path of the servers mapping inside ``file``."""
        return ("mcpServers",)

    def _servers(
        self, file: ConfigFile, data: Mapping[str, Any], classifier: SecretClassifier
    ) -> tuple[Mapping[str, Any], dict[str, McpServer]]:
        node: Any = data
        for step in self.container(file):
            node = node.get(step, {}) if isinstance(node, Mapping) else {}
        if not isinstance(node, Mapping):
            raise ConfigParseError(f"{file.path}: {'.'.join(self.container(file))} not an object")
        servers: dict[str, McpServer] = {}
        for name, raw in node.items():
            checked = self._checked_name(name, file)
            if not isinstance(raw, Mapping):
                raise ConfigParseError(f"{file.path}: server {checked!r} is not an object")
            servers[checked] = parse_server(
                self.dialect, str(self.client), checked, raw, file, classifier
            )
        return node, servers

    def _parse(self, file: ConfigFile, text: str) -> list[Entity]:
        data = self._load_mapping(file, text)
        _, servers = self._servers(file, data, SecretClassifier(self.fingerprint_key))
        return list(servers.values())

    def to_native(
        self, server: McpServer, reveal: Mapping[str, str]
    ) -> tuple[dict[str, Any] | None, list[Loss]]:
        """Render ``server`` for this client (``None`` when it cannot be expressed)."""
        return server_to_native(self.dialect, self, server, reveal)

    def _plan(self, file: ConfigFile, text: str, desired: Desired) -> RenderPlan:
        """Plan MCP-server edits for ``file`` (see :func:`adapters._mcp_plan.plan_servers`)."""
        data = self._load_mapping(file, text)
        classifier = SecretClassifier(self.fingerprint_key)
        raw, current = self._servers(file, data, classifier)
        return plan_servers(
            client=self.client,
            scope=file.scope,
            container=self.container(file),
            raw=raw,
            current=current,
            desired=desired,
            to_native=self.to_native,
            reveal=classifier.revealed,
            supersedes={"url": ("httpUrl",), "httpUrl": ("url",)},
        )

    @staticmethod
    def key_of(name: str) -> Any:
        """The entity key of server ``name`` (convenience for callers and tests)."""
        return entity_key(name)
