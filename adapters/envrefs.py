"""Environment-variable references: each client's syntax ↔ the canonical :class:`Value`.

Syntaxes (clients.md §3.2):

========  =====================================  ===========================
Syntax    References                             Default
========  =====================================  ===========================
CLAUDE    ``${VAR}``                             ``${VAR:-def}``
GEMINI    ``$VAR``, ``${VAR}`` (every string)    ``${VAR:-def}``
QWEN      ``$VAR``, ``${VAR}``                   none
OPENCODE  ``{env:VAR}``                          none
CURSOR    ``${env:VAR}``                         none
LITERAL   none (Codex: env goes through keys)    none
========  =====================================  ===========================

Nothing here reads ``os.environ``: references are kept as references. Secret detection
(:class:`SecretClassifier`) turns literal secrets into fingerprints and remembers the text
only inside the classifier, so a plan can write back a secret that is already in the file
being edited, and never copies it anywhere else.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from enum import StrEnum

from events.client_config import (
    DEFAULT_FINGERPRINT_KEY,
    EnvRef,
    Lit,
    SecretLiteral,
    Value,
    fingerprint,
)
from events.secrets import (
    flag_takes_secret,
    is_secret_name,
    looks_like_credential,
    secret_spans,
)

__all__ = [
    "EnvSyntax",
    "SecretClassifier",
    "inexpressible",
    "is_secret_name",
    "looks_like_credential",
    "parse",
    "render",
]


class EnvSyntax(StrEnum):
    """The env-reference dialect a client file uses."""

    CLAUDE = "claude"
    GEMINI = "gemini"
    QWEN = "qwen"
    OPENCODE = "opencode"
    CURSOR = "cursor"
    LITERAL = "literal"


_NAME = r"[A-Za-z0-9_]+"
_PATTERNS: dict[EnvSyntax, re.Pattern[str] | None] = {
    EnvSyntax.CLAUDE: re.compile(rf"\$\{{(?P<b>{_NAME})(?::-(?P<d>[^}}]*))?\}}"),
    EnvSyntax.GEMINI: re.compile(rf"\$(?:(?P<n>{_NAME})|\{{(?P<b>{_NAME})(?::-(?P<d>[^}}]*))?\}})"),
    EnvSyntax.QWEN: re.compile(rf"\$(?:(?P<n>{_NAME})|\{{(?P<b>{_NAME})\}})"),
    EnvSyntax.OPENCODE: re.compile(rf"\{{env:(?P<b>{_NAME})\}}"),
    EnvSyntax.CURSOR: re.compile(rf"\$\{{env:(?P<b>{_NAME})\}}"),
    EnvSyntax.LITERAL: None,
}
#: Literal text that a client would read as something other than literal text.
_TRIGGERS: dict[EnvSyntax, re.Pattern[str] | None] = {
    EnvSyntax.CLAUDE: re.compile(r"\$\{"),
    EnvSyntax.GEMINI: re.compile(r"\$(?:\w|\{)"),
    EnvSyntax.QWEN: re.compile(r"\$(?:\w|\{)"),
    EnvSyntax.OPENCODE: re.compile(r"\{(?:env|file):"),
    EnvSyntax.CURSOR: re.compile(r"\$\{"),
    EnvSyntax.LITERAL: None,
}
_HAS_DEFAULTS = {EnvSyntax.CLAUDE, EnvSyntax.GEMINI}


def parse(text: str, syntax: EnvSyntax) -> Value:
    """Split ``text`` into literal parts and env references, as ``syntax`` reads it."""
    pattern = _PATTERNS[syntax]
    if pattern is None:
        return Value.of(text)
    parts: list[Lit | EnvRef] = []
    pos = 0
    for match in pattern.finditer(text):
        parts.append(Lit(text[pos : match.start()]))
        groups = match.groupdict()
        name = groups.get("n") or groups["b"]
        parts.append(EnvRef(name, groups.get("d")))
        pos = match.end()
    parts.append(Lit(text[pos:]))
    return Value.of(*parts)


def _ref_text(ref: EnvRef, syntax: EnvSyntax) -> str:
    if syntax is EnvSyntax.OPENCODE:
        return f"{{env:{ref.name}}}"
    if syntax is EnvSyntax.CURSOR:
        return f"${{env:{ref.name}}}"
    if ref.default is not None and syntax in _HAS_DEFAULTS:
        return f"${{{ref.name}:-{ref.default}}}"
    return f"${{{ref.name}}}"


def inexpressible(
    value: Value, syntax: EnvSyntax, reveal: Mapping[str, str] | None = None
) -> list[str]:
    """List why ``value`` cannot be written faithfully in ``syntax`` (empty when it can).

    Args:
        value: the canonical template.
        syntax: the target dialect.
        reveal: fingerprint → secret text already present in the target file.
    """
    reasons: list[str] = []
    trigger = _TRIGGERS[syntax]
    for part in value.parts:
        if isinstance(part, Lit):
            if trigger is not None and trigger.search(part.text):
                reasons.append(f"literal {part.text!r} would be read as a reference by {syntax}")
        elif isinstance(part, SecretLiteral):
            if part.fingerprint not in (reveal or {}):
                reasons.append("literal secret is not present in the target file")
        elif syntax is EnvSyntax.LITERAL:
            reasons.append(f"${{{part.name}}} cannot be expanded (no interpolation)")
        elif part.default is not None and syntax not in _HAS_DEFAULTS:
            reasons.append(f"default for {part.name} is not supported by {syntax}")
        elif part.default is not None and "}" in part.default:
            reasons.append(f"default for {part.name} contains '}}'")
    return reasons


def render(value: Value, syntax: EnvSyntax, reveal: Mapping[str, str] | None = None) -> str:
    """Write ``value`` in ``syntax``; check :func:`inexpressible` first to report losses.

    A secret that cannot be revealed renders as an empty string; a default the syntax lacks is
    dropped; a reference in a syntax without interpolation is written as literal ``${VAR}``.
    """
    out: list[str] = []
    for part in value.parts:
        if isinstance(part, Lit):
            out.append(part.text)
        elif isinstance(part, SecretLiteral):
            out.append((reveal or {}).get(part.fingerprint, ""))
        else:
            out.append(_ref_text(part, syntax))
    return "".join(out)


class SecretClassifier:
    """Replace literal secrets with :class:`SecretLiteral` fingerprints.

    The classifier remembers fingerprint → text for the file it classified (:attr:`revealed`)
    so a plan can keep a secret that already lives in that same file.

    Args:
        key: HMAC key for :func:`~events.client_config.fingerprint`.
    """

    def __init__(self, key: bytes = DEFAULT_FINGERPRINT_KEY) -> None:
        self._key = key
        self._revealed: dict[str, str] = {}

    @property
    def revealed(self) -> Mapping[str, str]:
        """Fingerprint → secret text seen by this classifier."""
        return self._revealed

    def _secret(self, text: str) -> SecretLiteral:
        fp = fingerprint(text, self._key)
        self._revealed[fp] = text
        return SecretLiteral(fp)

    def classify(self, value: Value, *, secret_name: bool) -> Value:
        """Return ``value`` with literal secrets replaced by fingerprints.

        Under a credential name the whole literal value is the secret; otherwise each
        secret span of its literal text (a token's shape, a URL password, a credential
        query parameter, ``--token=VALUE``) is, and the text around it stays literal.

        Args:
            value: a parsed env, header, argument or URL value.
            secret_name: the key it sits under looks secret (``API_KEY``, ``Authorization``).
        """
        if secret_name and value.is_literal and value.text:
            return Value.of(self._secret(value.text))
        parts: list[Lit | EnvRef | SecretLiteral | str] = []
        for part in value.parts:
            if not isinstance(part, Lit):
                parts.append(part)
                continue
            last = 0
            for start, end in secret_spans(part.text):
                parts += [part.text[last:start], self._secret(part.text[start:end])]
                last = end
            parts.append(part.text[last:])
        return Value.of(*parts)

    def text(self, value: Value | None) -> Value | None:
        """A command, URL or working directory with its literal secrets fingerprinted."""
        return None if value is None else self.classify(value, secret_name=False)

    def args(self, values: Sequence[Value]) -> tuple[Value, ...]:
        """An argument list with literal secrets fingerprinted: the argument after a
        credential flag (``--api-key VALUE``) as a whole, and secret spans in the others."""
        out: list[Value] = []
        after_flag = False
        for value in values:
            out.append(self.classify(value, secret_name=after_flag))
            after_flag = value.is_literal and flag_takes_secret(value.text)
        return tuple(out)

    def mapping(self, raw: Mapping[str, object], syntax: EnvSyntax, where: str) -> dict[str, Value]:
        """Parse and classify an env/header mapping of strings.

        Raises:
            TypeError: a value is not a string (the caller turns it into a parse error).
        """
        out: dict[str, Value] = {}
        for name, text in raw.items():
            if not isinstance(text, str):
                raise TypeError(f"{where}.{name} must be a string")
            out[name] = self.classify(parse(text, syntax), secret_name=is_secret_name(name))
        return out
