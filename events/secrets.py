"""One rule set for secrets: the names, shapes and positions that hold a credential.

Three kinds of rule, used by every layer that parses or shows configuration:

* **names**: an env var, header or key whose name means a credential (``API_KEY``,
  ``X-Api-Key``, ``Authorization``, ``password`` …): its whole value is secret;
* **shapes**: text that is a credential whatever it is called (``sk-…``, ``ghp_…``,
  ``AKIA…``, JWTs, ``Bearer …``, private-key blocks, long high-entropy runs);
* **positions**: the value after a credential flag (``--api-key VALUE``, ``--token=VALUE``),
  the password of a URL's userinfo (``postgres://user:PASS@host``), a credential-named query
  parameter (``?api_key=VALUE``), and ``NAME=VALUE`` or ``Name: VALUE`` with a credential
  name.

Env references (``${VAR}``, ``$VAR``, ``{env:VAR}``) name a secret without holding one and are
never masked. :data:`MARKER` is what a masked secret shows as.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence

__all__ = [
    "MARKER",
    "flag_takes_secret",
    "is_secret_name",
    "looks_like_credential",
    "mask",
    "mask_argv",
    "secret_spans",
]

#: What a masked secret shows as, everywhere.
MARKER = "***"

# Patterns of secret-ish names, not secrets.
_NAME = re.compile(
    r"token|secret|passw|pwd|auth|credential|cookie|session|private|key",
    re.IGNORECASE,
)
_FLAG_WORD = (
    r"(?:token|password|passwd|pwd|secret|key|apikey|auth|authorization|bearer"
    r"|credentials?|cookie)"
)
# A flag naming where a secret lives (a file, a variable) takes no secret itself.
_FLAG = re.compile(
    rf"^--?(?:[a-z0-9]+[-_])*{_FLAG_WORD}(?:[-_](?!(?:file|path|dir|env|var|name|id|type|header)$)[a-z0-9]+)*$",
    re.IGNORECASE,
)
_PARAM = re.compile(
    r"(?:^|[-_])(?:token|access[-_]?token|api[-_]?key|apikey|key|secret|client[-_]?secret"
    r"|password|passwd|pwd|auth|signature|sig|credential)$",
    re.IGNORECASE,
)
_USERINFO = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s:/@?#]*:(?P<value>[^\s@/?#]+)@")
_QUERY = re.compile(r"[?&;](?P<name>[^\s=&#;?]+)=(?P<value>[^\s&#;]+)")
# ``--flag=VALUE`` or ``--flag VALUE`` (the flag's name decides), and ``NAME=VALUE``.
_FLAG_VALUE = re.compile(
    r"(?<!\S)(?P<flag>--?[A-Za-z0-9][A-Za-z0-9_-]*)(?:=|\s+)(?P<value>[^\s-]\S*)"
)
_HEADER = re.compile(
    r"(?<![A-Za-z0-9-])(?P<name>[A-Za-z][A-Za-z0-9-]*):\s*(?:(?:Bearer|Basic|Token)\s+)?"
    r"(?P<value>[^\s\"',;]+)"
)
_ASSIGNMENT = re.compile(r"(?<![\S])(?P<name>[A-Za-z_][A-Za-z0-9_.-]*)=(?P<value>[^\s]+)")
_SHAPES = re.compile(
    r"(?<![A-Za-z0-9])(?P<known>"
    r"(?:gh[pousr]_|github_pat_)[A-Za-z0-9_]{16,}"
    r"|(?:sk|pk|rk)-[A-Za-z0-9_-]{12,}"
    r"|xox[abprs]-[A-Za-z0-9-]{8,}"
    r"|A[KS]IA[0-9A-Z]{16}(?![A-Za-z0-9])"
    r"|AIza[0-9A-Za-z_-]{20,}"
    r"|eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*"
    r"|-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)"
    r")"
    r"|^(?:Bearer|Basic|Token)\s+(?P<lead>[^\s\"']+)"
    r"|(?<![A-Za-z0-9])(?:Bearer|Basic|Token)\s+(?P<scheme>[^\s\"']{8,})"
    r"|(?P<run>(?<![A-Za-z0-9+_-])[A-Za-z0-9+_-]{32,}={0,2})",
)
# Everything a rule below can match needs one of these: a separator of a position rule, a
# flag, a known prefix, or a 32-character run.
_SCREEN = re.compile(
    r"[=:@]|(?<!\S)-|gh[pousr]_|github_pat_|[spr]k-|xox[abprs]-|A[KS]IA|AIza|eyJ"
    r"|PRIVATE KEY|Bearer|Basic|Token|[A-Za-z0-9+_-]{32}"
)
_REFERENCE = re.compile(r"^(?:\$\{[^}]*\}|\{env:[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*)$")
_HEXISH = re.compile(r"^[0-9a-fA-F-]+$")
# Hex digests and UUIDs top out at 4 bits per character; random base64 sits well above.
_MIN_ENTROPY = 4.2


def is_secret_name(name: str) -> bool:
    """Whether an env var, header or key name suggests its value is a credential."""
    return bool(_NAME.search(name))


def flag_takes_secret(arg: str) -> bool:
    """Whether ``arg`` is a bare credential flag (``--api-key``) whose value comes next."""
    return bool(_FLAG.match(arg))


def _entropy(text: str) -> float:
    counts = Counter(text)
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())


def _opaque(run: str) -> bool:
    """A long run that mixes letters and digits, random enough to be a key: no hex digest
    or UUID (4 bits per character at most), no path or package name."""
    return (
        not _HEXISH.match(run)
        and any(c.isdigit() for c in run)
        and any(c.isalpha() for c in run)
        and _entropy(run) >= _MIN_ENTROPY
    )


def _shape_spans(text: str, offset: int = 0) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    for m in _SHAPES.finditer(text):
        if m.group("known"):
            spans.append((offset + m.start(), offset + m.end()))
        elif (group := "lead" if m.group("lead") is not None else "scheme") and m.group(group):
            if not _REFERENCE.match(m.group(group)):
                spans.append((offset + m.start(group), offset + m.end(group)))
        elif _opaque(m.group("run")):
            spans.append((offset + m.start(), offset + m.end()))
    return spans


def secret_spans(text: str) -> list[tuple[int, int]]:
    """The ``(start, end)`` spans of ``text`` that hold secrets, sorted and disjoint.

    Covers shapes anywhere in the text and, by position, URL passwords, credential query
    parameters, the value of ``--flag=VALUE`` and of ``NAME=VALUE`` with a credential name.
    A span that is an env reference is not a secret.
    """
    if not _SCREEN.search(text):
        return []  # the common case (a name, a path, a number): one C-speed pass
    spans = _shape_spans(text)
    for m in _USERINFO.finditer(text):
        spans.append(m.span("value"))
    for m in _QUERY.finditer(text):
        if _PARAM.search(m.group("name")):
            spans.append(m.span("value"))
    spans += [m.span("value") for m in _HEADER.finditer(text) if is_secret_name(m["name"])]
    for m in _FLAG_VALUE.finditer(text):
        if _FLAG.match(m["flag"]):
            spans.append(m.span("value"))
    for m in _ASSIGNMENT.finditer(text):
        if is_secret_name(m["name"]):
            spans.append(m.span("value"))
    kept = [s for s in spans if not _REFERENCE.match(text[s[0] : s[1]]) and s[1] > s[0]]
    return _merged(kept)


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def looks_like_credential(text: str) -> bool:
    """Whether ``text`` holds a credential by shape or position anywhere in it."""
    return bool(secret_spans(text))


def mask(text: str) -> str:
    """``text`` with every secret span replaced by :data:`MARKER`."""
    spans = secret_spans(text)
    if not spans:
        return text
    out: list[str] = []
    last = 0
    for start, end in spans:
        out += [text[last:start], MARKER]
        last = end
    out.append(text[last:])
    return "".join(out)


def mask_argv(argv: Sequence[str]) -> list[str]:
    """``argv`` with secrets masked: the argument after a credential flag as a whole, and
    every secret span inside the others (same length as ``argv``)."""
    out: list[str] = []
    after_flag = False
    for arg in argv:
        if after_flag and not _REFERENCE.match(arg):
            out.append(MARKER)
        else:
            out.append(mask(arg))
        after_flag = flag_takes_secret(arg)
    return out
