"""The one secret rule set: names, shapes and positions, and what is never a secret."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from events.secrets import MARKER, is_secret_name, mask, mask_argv, secret_spans

#: (text, the secret inside it): one entry per shape and position the rules promise.
CORPUS = [
    ("sk-proj-Ab3dEf6hIj9kLm2nOp5q", "sk-proj-Ab3dEf6hIj9kLm2nOp5q"),
    ("sk-ant-api03-Zx9yW8vU7tS6rQ5p", "sk-ant-api03-Zx9yW8vU7tS6rQ5p"),
    ("ghp_0123456789abcdefABCDEFghij", "ghp_0123456789abcdefABCDEFghij"),
    ("github_pat_11ABCDEFG0123456789_abc", "github_pat_11ABCDEFG0123456789_abc"),
    ("AKIAIOSFODNN7EXAMPLE", "AKIAIOSFODNN7EXAMPLE"),
    ("xoxb-1234567890-abcdefghij", "xoxb-1234567890-abcdefghij"),
    ("AIzaSyA1b2C3d4E5f6G7h8I9j0KlmnOPq", "AIzaSyA1b2C3d4E5f6G7h8I9j0KlmnOPq"),
    (
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N",
        "eyJzdWIiOiIxMjM0NTY3ODkwIn0",
    ),
    ("Bearer abc.def.ghi", "abc.def.ghi"),
    ("Authorization: Bearer abc.def", "abc.def"),
    ("X-Api-Key: k3y-value", "k3y-value"),
    ("postgres://app:hunter2@db.internal:5432/app", "hunter2"),
    ("https://user:p%40ss@example.com/", "p%40ss"),
    ("https://api.example.com/v1?api_key=plain123&page=2", "plain123"),
    ("wss://example.com/mcp?token=t0ken", "t0ken"),
    ("--token=shorttok", "shorttok"),
    ("--api-key=abc", "abc"),
    ("OPENAI_API_KEY=abc", "abc"),
    ("DB_PASSWORD=letmein", "letmein"),
    ("-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----", "MIIEow"),
    ("aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3z", "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3z"),
]

#: Text the rules must leave alone: references, paths, packages, digests, plain URLs.
NOT_SECRETS = [
    "${GITHUB_TOKEN}",
    "Bearer ${TOKEN}",
    "--token=${T}",
    "{env:API_KEY}",
    "@modelcontextprotocol/server-filesystem",
    "/usr/local/lib/node_modules/some-package-2024/dist/index.js",
    "ghcr.io/github/github-mcp-server",
    "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "123e4567-e89b-12d3-a456-426614174000",
    "https://mcp.example.com/mcp?page=2",
    "fix the token parser",
    "--keyboard",
    "KEYBOARD_LAYOUT",
]


@pytest.mark.parametrize(("text", "secret"), CORPUS, ids=[c[0][:24] for c in CORPUS])
def test_every_shape_and_position_is_masked(text: str, secret: str) -> None:
    """Each corpus entry is masked: the secret is gone and the marker stands in its place."""
    masked = mask(text)
    assert secret not in masked
    assert MARKER in masked


@pytest.mark.parametrize("text", NOT_SECRETS)
def test_references_and_ordinary_text_are_kept(text: str) -> None:
    """References name a secret without holding one; paths, packages and digests are text."""
    assert mask(text) == text
    assert secret_spans(text) == []


def test_a_credential_flag_masks_the_next_argument() -> None:
    """``--api-key VALUE`` masks VALUE whatever it looks like; a flag naming a variable or a
    file does not, and neither does an env reference after the flag."""
    argv = ["srv", "--api-key", "x", "--api-key-env", "MY_KEY", "--token", "${T}", "-k", "v"]
    masked = ["srv", "--api-key", MARKER, "--api-key-env", "MY_KEY", "--token", "${T}", "-k", "v"]
    assert mask_argv(argv) == masked


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("OPENAI_API_KEY", True),
        ("X-Api-Key", True),
        ("Proxy-Authorization", True),
        ("password", True),
        ("GITHUB_TOKEN", True),
        ("PATH", False),
        ("HOME", False),
    ],
)
def test_credential_names(name: str, secret: bool) -> None:
    """Names that mean a credential are recognised; ordinary names are not."""
    assert is_secret_name(name) is secret


@given(
    st.sampled_from(CORPUS),
    st.text(alphabet=st.characters(categories=["L", "N", "Zs"]), max_size=20),
    st.text(alphabet=st.characters(categories=["L", "N", "Zs"]), max_size=20),
)
def test_a_secret_is_masked_wherever_it_sits(
    entry: tuple[str, str], before: str, after: str
) -> None:
    """Surrounded by any words, a corpus secret never survives masking."""
    text, secret = entry
    assert secret not in mask(f"{before} {text} {after}")
