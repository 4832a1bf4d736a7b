"""Field-level planning of MCP-server edits, shared by every adapter.

Each adapter supplies a ``to_native`` function (canonical server → the client's object). The
planner renders both the current and the desired server with it and edits only the keys whose
rendering differs, so unknown keys, per-client extras and untouched fields keep their bytes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from adapters.base import Desired, RenderPlan
from adapters.formats import DELETE, Edit
from events.client_config import ClientId, EntityKey, Loss, McpServer, Scope, SecretLiteral, Value

__all__ = [
    "ToNative",
    "entity_key",
    "keep_own_secrets",
    "plan_servers",
    "prepare_target",
]

#: (server, reveal) → (native object or ``None`` if inexpressible, losses)
ToNative = Callable[[McpServer, Mapping[str, str]], tuple[dict[str, Any] | None, list[Loss]]]


def prepare_target(
    client: ClientId, scope: Scope, desired: McpServer, current: McpServer | None
) -> McpServer:
    """Adapt a desired server to a target file: its scope, its trust, its extras.

    ``trust`` is per client and never synced, so the target keeps its own value. Extras for
    this client are kept from the current entry unless the desired server names them.
    """
    extras = dict(desired.extras)
    if str(client) not in extras and current is not None and str(client) in current.extras:
        extras[str(client)] = current.extras[str(client)]
    trust = current.trust if current is not None else None
    return desired.model_copy(update={"scope": scope, "trust": trust, "extras": extras})


def _hidden(value: Value | None, reveal: Mapping[str, str]) -> bool:
    """Whether ``value`` holds a literal secret this file does not already hold."""
    return value is not None and any(
        isinstance(p, SecretLiteral) and p.fingerprint not in reveal for p in value.parts
    )


def keep_own_secrets(
    target: McpServer, current: McpServer | None, reveal: Mapping[str, str]
) -> McpServer:
    """``target`` with each field holding a secret this file lacks taken from ``current``.

    Literal secrets are never copied between files, so such a field cannot be written as
    desired; writing it without the secret (an empty header, a blank argument) would break
    the server. The target keeps its own value of that field instead: its own token, under
    the same header or env name, or at the same argument position.
    """
    if current is None:
        return target
    update: dict[str, object] = {}
    for name in ("env", "headers"):
        mine: dict[str, Value] = getattr(current, name)
        want: dict[str, Value] = getattr(target, name)
        kept = {k: mine[k] if _hidden(v, reveal) and k in mine else v for k, v in want.items()}
        if kept != want:
            update[name] = kept
    for name in ("command", "url", "cwd"):
        if _hidden(getattr(target, name), reveal) and getattr(current, name) is not None:
            update[name] = getattr(current, name)
    if any(_hidden(a, reveal) for a in target.args):
        if len(current.args) == len(target.args):
            update["args"] = tuple(
                c if _hidden(a, reveal) else a
                for a, c in zip(target.args, current.args, strict=True)
            )
        else:
            update["args"] = current.args
    return target.model_copy(update=update) if update else target


def _blanks(server: McpServer, reveal: Mapping[str, str]) -> list[str]:
    """The scalar fields of ``server`` that would be written with a secret left blank."""
    fields = [n for n in ("command", "url", "cwd") if _hidden(getattr(server, n), reveal)]
    return fields + ["args" for a in server.args if _hidden(a, reveal)][:1]


def _same(current: McpServer, target: McpServer, client: ClientId) -> bool:
    return (
        current.synced() == target.synced()
        and current.extras.get(str(client)) == target.extras.get(str(client))
        and current.trust == target.trust
    )


def _server_edits(
    path: tuple[str | int, ...],
    raw: Mapping[str, Any],
    cur: Mapping[str, Any],
    des: Mapping[str, Any],
    supersedes: Mapping[str, tuple[str, ...]],
) -> list[Edit]:
    edits: list[Edit] = []
    superseded = False
    for key, value in des.items():
        if cur.get(key) != value:
            edits.append(Edit((*path, key), value))
            for alias in supersedes.get(key, ()):
                if alias in raw and alias not in des:
                    edits.append(Edit((*path, alias), DELETE))
                    superseded = True
    if superseded:
        # The raw entry used an alias spelling; write the keys the new spelling relies on.
        done = {e.path[-1] for e in edits}
        edits += [Edit((*path, k), v) for k, v in des.items() if k not in raw and k not in done]
    edits += [Edit((*path, k), DELETE) for k in cur if k not in des and k in raw]
    return edits


def plan_servers(
    *,
    client: ClientId,
    scope: Scope,
    container: tuple[str | int, ...],
    raw: Mapping[str, Any],
    current: Mapping[str, McpServer],
    desired: Desired,
    to_native: ToNative,
    reveal: Mapping[str, str],
    supersedes: Mapping[str, tuple[str, ...]] | None = None,
) -> RenderPlan:
    """Plan edits for the ``mcp_server`` entries of ``desired`` in one container.

    Args:
        client: the target client.
        scope: the target file's scope.
        container: path of the servers mapping inside the document.
        raw: that mapping as loaded (``{}`` if missing).
        current: servers parsed from ``raw``, by name.
        desired: target state; non-server kinds are ignored.
        to_native: the client's renderer.
        reveal: fingerprint → secret text present in this file.
        supersedes: native key → legacy keys it replaces (``url`` → ``httpUrl``).
    """
    plan = RenderPlan()
    for key, entity in desired.items():
        if key.kind != McpServer.kind:
            continue
        path = (*container, key.name)
        if entity is None:
            if key.name in raw:
                plan.edits.append(Edit(path, DELETE))
            continue
        assert isinstance(entity, McpServer)
        cur = current.get(key.name)
        target = keep_own_secrets(prepare_target(client, scope, entity, cur), cur, reveal)
        if cur is not None and _same(cur, target, client):
            continue
        if blanks := _blanks(target, reveal):
            plan.losses.extend(
                Loss(
                    client=str(client),
                    entity_key=key,
                    field=name,
                    reason="holds a literal secret that is not in this file; literal secrets "
                    "are never copied (use an env reference); the server is not written here",
                )
                for name in blanks
            )
            continue
        native, losses = to_native(target, reveal)
        plan.losses.extend(losses)
        if native is None:
            continue
        raw_entry = raw.get(key.name)
        if cur is None or not isinstance(raw_entry, Mapping):
            plan.edits.append(Edit(path, native))
            continue
        cur_native, _ = to_native(cur, reveal)
        plan.edits.extend(
            _server_edits(path, raw_entry, cur_native or {}, native, supersedes or {})
        )
    return plan


def entity_key(name: str) -> EntityKey:
    """The key of the MCP server called ``name``."""
    return EntityKey(McpServer.kind, name)
