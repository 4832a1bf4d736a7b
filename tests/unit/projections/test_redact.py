"""Redaction: secret keys and credential-shaped values are masked, ordinary data is not."""

from __future__ import annotations

import json

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from projections.redact import MASK, looks_like_credential, might_hold_secrets, redact, suspects

CREDENTIALS = [
    "ghp_Zq8XyW3vU7tS1rQ9pO5nM2lK4jH6gF0dE8cB",
    "github_pat_11ABCDEFG0123456789_abcdefghijklmnop",
    "sk-proj-abcdefghijklmnop1234567890",
    "xoxb-1234567890-abcdefghij",
    "AKIAIOSFODNN7EXAMPLE",
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    "aGVsbG8gd29ybGQgdGhpcyBpcyBhIHNlY3JldCBrZXk9PT0xMjM0NTY3",
]
ORDINARY = [
    "task-3f2a9c1e-77d0-4b1e-9c8a-2f0b1d7e6a55",
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "/home/alice/projects/synapse/src/main.py",
    "events.runtime:ActorLifecycle.Started",
    "The quick brown fox jumps over the lazy dog",
    "claude-sonnet-4-5-20250929",
]


@pytest.mark.parametrize("value", CREDENTIALS)
def test_credentials_are_masked_under_any_key(value: str) -> None:
    """A credential-shaped value is masked even under an innocent key, and inside text."""
    assert redact({"note": value}) == {"note": MASK}
    assert redact({"note": f"use {value} now"}) == {"note": f"use {MASK} now"}
    assert might_hold_secrets(orjson.dumps({"note": value}))


@pytest.mark.parametrize("value", ORDINARY)
def test_ordinary_values_pass_through(value: str) -> None:
    """Ids, hashes, paths and model names are not mistaken for credentials."""
    assert not looks_like_credential(value)
    assert redact({"note": value}) == {"note": value}


def test_secret_keys_mask_text_but_keep_counts() -> None:
    """Strings and objects under secret-named keys are masked; numeric usage figures stay."""
    body = {
        "api_key": "abc",
        "Authorization": "Bearer x",
        "nested": [{"password": "p", "credentials": {"user": "u"}}],
        "max_tokens": 4096,
        "input_tokens": 12,
        "token": "",
    }
    assert redact(body) == {
        "api_key": MASK,
        "Authorization": MASK,
        "nested": [{"password": MASK, "credentials": MASK}],
        "max_tokens": 4096,
        "input_tokens": 12,
        "token": "",
    }


# Event bodies are written by orjson, whose integers are 64-bit: wider ones never reach a body.
_json = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner),
    max_leaves=20,
)


@given(_json)
def test_screen_never_misses_a_body_that_redaction_changes(value: object) -> None:
    """Whenever redact() would change a body, the cheap byte screen flags it."""
    if redact(value) != value:
        assert might_hold_secrets(orjson.dumps(value))


@given(_json)
def test_redact_is_idempotent(value: object) -> None:
    """Redacting twice gives the same result as redacting once."""
    once = redact(value)
    assert redact(once) == once


_bodies = st.lists(
    st.binary(max_size=80)
    | st.text(max_size=80).map(str.encode)
    | _json.map(lambda value: json.dumps(value).encode())
    | st.sampled_from([orjson.dumps({"v": c}) for c in CREDENTIALS + ORDINARY]),
    max_size=12,
)


@given(_bodies)
def test_the_batch_screen_flags_exactly_the_bodies_the_single_screen_flags(
    raws: list[bytes],
) -> None:
    """Screening a batch at once gives the same answer per body as screening each alone."""
    assert suspects(raws) == {i for i, raw in enumerate(raws) if might_hold_secrets(raw)}


def test_the_batch_screen_never_joins_two_bodies_into_a_hit() -> None:
    """A base64 run or a word split across two neighbouring bodies flags neither."""
    half = b"A1b2C3d4E5f6G7h8"  # 16 base64 characters: two of them make a 32-character run
    assert suspects([half, half, b"tok", b"en"]) == set()
    assert suspects([b"ok", half + half, b"x"]) == {1}
