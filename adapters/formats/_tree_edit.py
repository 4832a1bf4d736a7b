"""Apply path edits to a round-trip document tree (tomlkit or ruamel.yaml containers).

Those libraries keep comments and layout on their container objects, so editing in place and
dumping changes only what was touched. This module holds the walk shared by both: find the
path, create missing parents, merge dicts key by key, and report whether anything changed.
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping, MutableSequence, Sequence
from typing import Any

from adapters.formats._model import DELETE, PathKey
from adapters.formats._text import same_value

__all__ = ["TreeOps", "apply_tree_edit", "build_value"]

Wrap = Callable[[object, object], object]
"""``wrap(value, parent)`` turns a plain value into the library's item for ``parent``."""


class TreeOps:
    """The two library-specific hooks: turning plain values into items, and back."""

    def __init__(self, wrap: Wrap, unwrap: Callable[[object], object]) -> None:
        self.wrap = wrap
        self.unwrap = unwrap


def build_value(keys: Sequence[PathKey], value: object) -> object:
    """Wrap ``value`` in the dicts (str keys) or one-item lists (index 0) a path would create."""
    for key in reversed(keys):
        if isinstance(key, str):
            value = {key: value}
        elif key == 0:
            value = [value]
        else:
            raise ValueError(f"cannot create array index {key} in a missing array")
    return value


def _lookup(container: Any, key: PathKey, *, deleting: bool = False) -> tuple[bool, Any]:
    if isinstance(container, MutableMapping):
        if not isinstance(key, str):
            if deleting:
                return False, None
            raise ValueError(f"index {key!r} used on a table/mapping")
        return (True, container[key]) if key in container else (False, None)
    if isinstance(container, MutableSequence):
        if not isinstance(key, int) or isinstance(key, bool) or key < 0:
            if deleting:
                return False, None
            raise ValueError(f"key {key!r} used on an array")
        if key > len(container):
            if deleting:
                return False, None
            raise ValueError(f"index {key} out of range for an array of {len(container)}")
        return (True, container[key]) if key < len(container) else (False, None)
    return False, None


def _store(container: Any, key: PathKey, value: object, ops: TreeOps) -> None:
    item = ops.wrap(value, container)
    if isinstance(container, MutableSequence) and key == len(container):
        container.append(item)
    else:
        container[key] = item


def apply_tree_edit(root: Any, path: tuple[PathKey, ...], value: object, ops: TreeOps) -> bool:
    """Apply one edit in place on a mapping ``root``; return True when the tree changed."""
    if not path:
        if not isinstance(value, dict):
            raise ValueError("the document root can only be set to a mapping")
        return _merge(root, (), value, ops)
    container = root
    for depth, key in enumerate(path[:-1]):
        found, child = _lookup(container, key, deleting=value is DELETE)
        if not found or not isinstance(child, MutableMapping | MutableSequence):
            if value is DELETE:
                return False
            _store(container, key, build_value(path[depth + 1 :], value), ops)
            return True
        container = child
    last = path[-1]
    found, current = _lookup(container, last, deleting=value is DELETE)
    if value is DELETE:
        if found:
            del container[last]
        return found
    if found:
        plain = ops.unwrap(current)
        if same_value(plain, value):
            return False
        if isinstance(current, MutableMapping) and isinstance(value, dict):
            return _merge(current, (), value, ops)
    _store(container, last, value, ops)
    return True


def _merge(target: Any, path: tuple[PathKey, ...], value: dict[str, object], ops: TreeOps) -> bool:
    """Make mapping ``target`` equal ``value`` key by key, keeping what is already right."""
    changed = False
    for key in [k for k in target if k not in value]:
        del target[key]
        changed = True
    for key, child in value.items():
        changed = apply_tree_edit(target, (*path, key), child, ops) or changed
    return changed
