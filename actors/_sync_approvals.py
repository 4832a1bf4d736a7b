"""What waits for a person, as people read it, and the alert for a trusted project's change.

Each pending approval (a project MCP server's new or changed ``command`` / ``args`` / ``url``,
or a deletion held back by ``max_deletions``) is listed with its id, the file it came from,
the exact command line it would run or the URL it would reach (secrets masked), the clients
that would get it, and the verbs that release or refuse it.
"""

from __future__ import annotations

import copy
import re
import shlex
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from actors._sync_state import SyncState
from actors._sync_types import ApprovalFact, Fact, HoldDeletion, NeedsApproval, Write
from actors._sync_write import FileChange
from actors.lifecycle import raise_alert
from actors.sync_engine import SyncEngine
from adapters.base import ConfigFile
from events.secrets import MARKER, mask_argv
from events.store import EventStore

__all__ = ["alert_trusted", "approval_rows", "command_line", "url_of"]

#: ``(client, scope, key)`` → the file of that client holding the key there (or None).
Target = Callable[[str, str, tuple[str, str]], ConfigFile | None]
#: writes → the file changes they would make (a refused one is a no-op with its losses).
Receivers = Callable[[list[Write]], list[FileChange]]
_PLAIN = re.compile(r"[\w@%+=:,./${}*-]+")


def _text(template: Any) -> str:
    """One canonical template as text: literals, ``${NAME}`` references, masked secrets."""
    parts = template.get("parts", []) if isinstance(template, Mapping) else []
    out: list[str] = []
    for part in parts:
        kind = part.get("kind")
        if kind == "lit":
            out.append(str(part.get("text", "")))
        elif kind == "env":
            default = part.get("default")
            # A default may be a literal credential: shown only as being there.
            out.append(f"${{{part.get('name')}{'' if default is None else ':-' + MARKER}}}")
        else:
            out.append(MARKER)
    return "".join(out)


def command_line(value: Mapping[str, Any] | None) -> str | None:
    """The command line an MCP server value runs (secrets masked), or None (no command)."""
    if not value or not value.get("command"):
        return None
    argv = mask_argv([_text(value["command"]), *(_text(a) for a in value.get("args") or ())])
    return " ".join(a if _PLAIN.fullmatch(a) else shlex.quote(a) for a in argv)


def url_of(value: Mapping[str, Any] | None) -> str | None:
    """The URL an MCP server value reaches (secrets masked), or None."""
    if not value or not value.get("url"):
        return None
    return mask_argv([_text(value["url"])])[0]


def _preview(engine: SyncEngine, decision: NeedsApproval | HoldDeletion) -> list[Write]:
    """The writes approving ``decision`` would plan, on a copy of its slot only."""
    slot = (decision.key, decision.scope)
    state = SyncState({slot: copy.deepcopy(engine.state.slots[slot])}, set(engine.state.scanned))
    return SyncEngine(engine.policy, state).judge(decision.approval_id, approve=True)


def approval_rows(engine: SyncEngine, target: Target, receivers: Receivers) -> list[dict[str, Any]]:
    """Every pending approval of ``engine`` as a JSON-safe row (values never included).

    Args:
        engine: the sync engine.
        target: finds the file of a client that holds (or would hold) an entity.
        receivers: the file changes a list of writes would make.

    Returns:
        Rows with ``id``, ``type`` (``change`` / ``deletion``), ``kind``, ``name``, ``scope``,
        ``client`` and ``file`` (where it came from), ``reason``, ``command`` and ``url``,
        ``clients`` (whose files it would change), ``losses`` (``client: field: why``, e.g. a
        literal secret that is never copied), and the ``approve`` / ``reject`` commands.
    """
    rows: list[dict[str, Any]] = []
    for d in engine.decisions():
        if not isinstance(d, NeedsApproval | HoldDeletion) or d.client is None:
            continue
        st = engine.state.slots[(d.key, d.scope)]
        value = st.value(d.digest if isinstance(d, NeedsApproval) else st.agreed)
        source = target(d.client, d.scope, d.key)
        changes = receivers(_preview(engine, d))
        losses = {f"{x.client}: {x.field}: {x.reason}" for c in changes for x in c.losses}
        rows.append(
            {
                "id": d.approval_id,
                "type": "change" if isinstance(d, NeedsApproval) else "deletion",
                "kind": d.key[0],
                "name": d.key[1],
                "scope": d.scope,
                "client": d.client,
                "file": None if source is None else str(source.path),
                "reason": d.reason,
                "command": command_line(value),
                "url": url_of(value),
                "clients": sorted({c.client for c in changes if not c.is_noop}),
                "losses": sorted(losses),
                "approve": f"synapse sync approve {d.approval_id}",
                "reject": f"synapse sync reject {d.approval_id}",
            }
        )
    return rows


def alert_trusted(store: EventStore, facts: Iterable[Fact], engine: SyncEngine) -> None:
    """Raise an alert per change a trusted project let through without asking.

    Args:
        store: the event store.
        facts: the engine facts just recorded.
        engine: the engine that made them (it holds their values, for the command line).
    """
    for fact in facts:
        if not isinstance(fact, ApprovalFact) or fact.verdict != "trusted":
            continue
        st = engine.state.slots.get((fact.key, fact.scope))
        value = None if st is None else st.value(fact.digest)
        runs = command_line(value) or url_of(value) or "(nothing)"
        raise_alert(
            store,
            alert_id=f"sync-trusted:{fact.approval_id}",
            severity="warning",
            source=f"sync:{fact.client}",
            message=f"{fact.key[0]}:{fact.key[1]} in {fact.scope} ({fact.reason}) now runs "
            f'{runs}; synced without asking: the project has trust = "auto"',
        )
