"""Canonical client-config value objects."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from events.client_config import EnvRef, Lit, McpServer, Scope, Value, fingerprint


def test_bearer_header_is_normalised_to_the_bearer_field() -> None:
    """Authorization: Bearer ${T} and bearer_token_env=T are the same canonical server."""
    by_header = McpServer(
        name="r", url=Value.of("u"), headers={"Authorization": Value.of("Bearer ", EnvRef("T"))}
    )
    by_field = McpServer(name="r", url=Value.of("u"), bearer_token_env="T")
    assert by_header == by_field


def test_digest_ignores_scope_trust_and_extras() -> None:
    """The digest covers synced content only, so placement and client state never churn it."""
    a = McpServer(name="s", command=Value.of("x"))
    b = a.model_copy(update={"scope": Scope.PROJECT, "trust": True, "extras": {"x": {"k": 1}}})
    assert a.digest() == b.digest()
    assert a.digest() != a.model_copy(update={"command": Value.of("y")}).digest()


def test_values_merge_adjacent_literals() -> None:
    """Equal templates compare equal however they were assembled."""
    assert Value.of("a", "", Lit("b")) == Value.of("ab")


@pytest.mark.parametrize("name", ["../x", "", "a\x00", "x" * 200, "a/b"])
def test_hostile_names_are_rejected_by_the_model(name: str) -> None:
    """The model itself refuses names that could escape a path."""
    with pytest.raises(ValidationError):
        McpServer(name=name)


def test_fingerprint_is_keyed() -> None:
    """The same secret fingerprints differently under different keys."""
    assert fingerprint("s", b"a") != fingerprint("s", b"b")
    assert len(fingerprint("s")) == 16
