"""Env-reference parsing and rendering across client syntaxes."""

from __future__ import annotations

import os

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters import envrefs
from adapters.envrefs import EnvSyntax, SecretClassifier
from events.client_config import EnvRef, Lit, SecretLiteral, Value, fingerprint


@pytest.mark.parametrize(
    ("syntax", "text", "parts"),
    [
        (EnvSyntax.CLAUDE, "Bearer ${TOKEN}", (Lit("Bearer "), EnvRef("TOKEN"))),
        (EnvSyntax.CLAUDE, "${A:-x}/$B", (EnvRef("A", "x"), Lit("/$B"))),
        (EnvSyntax.GEMINI, "$A-${B:-d}", (EnvRef("A"), Lit("-"), EnvRef("B", "d"))),
        (EnvSyntax.QWEN, "$A ${B:-d}", (EnvRef("A"), Lit(" ${B:-d}"))),
        (EnvSyntax.OPENCODE, "{env:T} ${T}", (EnvRef("T"), Lit(" ${T}"))),
        (EnvSyntax.CURSOR, "${env:T} ${T}", (EnvRef("T"), Lit(" ${T}"))),
        (EnvSyntax.LITERAL, "${T}", (Lit("${T}"),)),
    ],
)
def test_each_syntax_reads_its_own_references(
    syntax: EnvSyntax, text: str, parts: tuple[Lit | EnvRef, ...]
) -> None:
    """Each client's reference spelling parses to EnvRefs; foreign spellings stay literal."""
    assert envrefs.parse(text, syntax).parts == parts


@pytest.mark.parametrize(
    ("syntax", "expected"),
    [
        (EnvSyntax.CLAUDE, "Bearer ${T:-d}"),
        (EnvSyntax.GEMINI, "Bearer ${T:-d}"),
        (EnvSyntax.QWEN, "Bearer ${T}"),
        (EnvSyntax.OPENCODE, "Bearer {env:T}"),
        (EnvSyntax.CURSOR, "Bearer ${env:T}"),
    ],
)
def test_render_writes_each_syntax(syntax: EnvSyntax, expected: str) -> None:
    """One canonical template renders in every client's spelling."""
    value = Value.of("Bearer ", EnvRef("T", "d"))
    assert envrefs.render(value, syntax) == expected


def test_losses_for_defaults_literal_dollar_and_codex() -> None:
    """Defaults into Qwen, $ into Gemini and any reference into Codex are reported."""
    assert envrefs.inexpressible(Value.of(EnvRef("A", "d")), EnvSyntax.QWEN)
    assert envrefs.inexpressible(Value.of("pa$word"), EnvSyntax.GEMINI)
    assert envrefs.inexpressible(Value.of(EnvRef("A")), EnvSyntax.LITERAL)
    assert not envrefs.inexpressible(Value.of("pa$word"), EnvSyntax.CLAUDE)


def test_secret_literals_are_fingerprinted_and_revealed_only_locally() -> None:
    """A secret under a secret-looking key becomes a fingerprint; only the classifier knows it."""
    classifier = SecretClassifier(b"k")
    value = classifier.classify(Value.of("secret123"), secret_name=True)
    assert value == Value.of(SecretLiteral(fingerprint("secret123", b"k")))
    assert classifier.revealed == {fingerprint("secret123", b"k"): "secret123"}
    assert envrefs.render(value, EnvSyntax.CLAUDE, classifier.revealed) == "secret123"
    assert envrefs.inexpressible(value, EnvSyntax.CLAUDE)  # not present elsewhere


@pytest.mark.parametrize(
    "text", ["sk-abcdefghijklmnop1234", "ghp_abcdefghijklmnopqrstu", "Bearer xyz"]
)
def test_credential_shapes_are_detected_under_any_key(text: str) -> None:
    """Token-shaped literals are secrets even under an innocent key name (an auth scheme in
    front of the token stays literal text)."""
    value = SecretClassifier().classify(Value.of(text), secret_name=False)
    assert isinstance(value.parts[-1], SecretLiteral)
    assert all(isinstance(p, SecretLiteral) or p == Lit("Bearer ") for p in value.parts)


@pytest.mark.parametrize(
    ("args", "secret"),
    [
        (["--api-key", "plainkey1"], "plainkey1"),
        (["--token=shorttok"], "shorttok"),
        (["--db", "postgres://app:hunter2@db.local/app"], "hunter2"),
        (["https://api.example.com/mcp?api_key=abc123&v=2"], "abc123"),
        (["PASSWORD=letmein"], "letmein"),
    ],
)
def test_secrets_in_arguments_are_found_by_position(args: list[str], secret: str) -> None:
    """A value after a credential flag, a URL password, a credential query parameter and a
    credential assignment become fingerprints; the text around them stays literal."""
    classifier = SecretClassifier(b"k")
    values = classifier.args([Value.of(a) for a in args])
    literal = "".join(p.text for v in values for p in v.parts if isinstance(p, Lit))
    assert secret not in literal
    assert SecretLiteral(fingerprint(secret, b"k")) in [p for v in values for p in v.parts]
    assert classifier.revealed[fingerprint(secret, b"k")] == secret


def test_references_and_ordinary_arguments_stay_as_they_are() -> None:
    """``--token ${T}``, a flag naming a variable, packages and paths are not secrets."""
    args = ["--token", "${T}", "--api-key-env", "OPENAI_API_KEY", "-y", "@scope/pkg", "/tmp"]
    values = SecretClassifier().args([envrefs.parse(a, EnvSyntax.CLAUDE) for a in args])
    assert not any(isinstance(p, SecretLiteral) for v in values for p in v.parts)


def test_plain_values_stay_literal() -> None:
    """Ordinary env values (FOO=bar, OTHER=1) are not treated as secrets."""
    classifier = SecretClassifier()
    assert classifier.mapping({"FOO": "bar", "OTHER": "1"}, EnvSyntax.CLAUDE, "t") == {
        "FOO": Value.of("bar"),
        "OTHER": Value.of("1"),
    }


_names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True)
_parts = st.one_of(
    st.builds(Lit, st.text(max_size=12)),
    st.builds(EnvRef, _names, st.one_of(st.none(), st.text(max_size=6))),
)
_values = st.lists(_parts, max_size=5).map(lambda ps: Value.of(*ps))
_syntaxes = st.sampled_from(list(EnvSyntax))


@given(_values, _syntaxes)
def test_render_then_parse_is_identity_when_expressible(value: Value, syntax: EnvSyntax) -> None:
    """parse(render(v)) == v for every syntax that can express v."""
    if not envrefs.inexpressible(value, syntax):
        assert envrefs.parse(envrefs.render(value, syntax), syntax) == value


@given(_values, _syntaxes)
def test_render_never_reads_the_environment(value: Value, syntax: EnvSyntax) -> None:
    """Rendering writes references, never values taken from os.environ."""
    secret = "synapse-env-canary-9f3b"
    os.environ["SYNAPSE_CANARY"] = secret
    try:
        with_ref = Value.of(*value.parts, EnvRef("SYNAPSE_CANARY"))
        assert secret not in envrefs.render(with_ref, syntax)
    finally:
        del os.environ["SYNAPSE_CANARY"]
