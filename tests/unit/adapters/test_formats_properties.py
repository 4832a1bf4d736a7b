"""Property tests: the JSON/JSONC editor agrees with a plain dict model of the same edits."""

from __future__ import annotations

import copy
import json

import pytest
import tomlkit
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.formats import DELETE, Edit, Format, apply_edits, load

KEYS = st.text(st.characters(blacklist_categories=("Cs",)), max_size=6)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(10**12), 10**12)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(st.characters(blacklist_categories=("Cs",)), max_size=8)
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS, inner, max_size=3),
    max_leaves=12,
)
DOCS = st.dictionaries(KEYS, VALUES, max_size=5)
PATH_KEYS = st.sampled_from(["a", "b", "mcpServers", "x.y", 'q"'])


def _model_apply(doc: dict[str, object], path: tuple[str, ...], value: object) -> None:
    node: dict[str, object] = doc
    for key in path[:-1]:
        child = node.get(key)
        if isinstance(child, list):
            if value is DELETE:
                return
            raise ValueError(key)
        if not isinstance(child, dict):
            if value is DELETE:
                return
            child = {}
            node[key] = child
        node = child
    if value is DELETE:
        node.pop(path[-1], None)
    else:
        node[path[-1]] = copy.deepcopy(value)


def _expected(
    doc: dict[str, object], edits: list[tuple[tuple[str, ...], object]]
) -> dict[str, object] | None:
    """The dict model's result, or None when an edit walks a string key into a list."""
    expected = copy.deepcopy(doc)
    try:
        for path, value in edits:
            _model_apply(expected, path, value)
    except ValueError:
        return None
    return expected


EDITS = st.lists(
    st.tuples(st.lists(PATH_KEYS, min_size=1, max_size=3).map(tuple), VALUES | st.just(DELETE)),
    max_size=5,
)


@given(DOCS)
def test_load_equals_stdlib_on_pretty_json(doc: dict[str, object]) -> None:
    """Our strict parser reads json.dumps(indent=2) output exactly like the stdlib."""
    assert load(Format.JSON, json.dumps(doc, indent=2)) == doc


@settings(max_examples=150, deadline=None)
@given(DOCS, EDITS, st.sampled_from([0, 2, 4]))
def test_edits_match_dict_model_and_are_idempotent(
    doc: dict[str, object], edits: list[tuple[tuple[str, ...], object]], indent: int
) -> None:
    """Random edits then load equals the dict model; a second pass changes nothing."""
    text = json.dumps(doc, indent=indent or None)
    batch = [Edit(path, value) for path, value in edits]
    expected = _expected(doc, edits)
    if expected is None:
        with pytest.raises(ValueError):
            apply_edits(Format.JSON, text, batch)
        return
    out = apply_edits(Format.JSON, text, batch)
    assert load(Format.JSON, out) == expected
    if _expected(expected, edits) != expected:
        return  # a later edit retyped a parent an earlier one walks through
    again = apply_edits(Format.JSON, out, batch)
    assert load(Format.JSON, again) == expected
    if all(edit.value is not DELETE for edit in batch):
        # Without delete-then-recreate, a second pass finds every value already set.
        assert again == out


@settings(max_examples=100, deadline=None)
@given(DOCS, EDITS)
def test_comments_interleaved_survive_edits(
    doc: dict[str, object], edits: list[tuple[tuple[str, ...], object]]
) -> None:
    """With comments on their own lines, edits keep every comment and still match the model."""
    lines = json.dumps(doc, indent=2).split("\n")
    commented = "\n".join(
        f"{line}\n  // c{i}" if line.endswith(",") else line for i, line in enumerate(lines)
    )
    text = "// header\n" + commented + "\n/* tail */\n"
    batch = [Edit(path, value) for path, value in edits]
    expected = _expected(doc, edits)
    if expected is None:
        with pytest.raises(ValueError):
            apply_edits(Format.JSONC, text, batch)
        return
    out = apply_edits(Format.JSONC, text, batch)
    assert load(Format.JSONC, out) == expected
    assert out.startswith("// header\n")
    assert out.endswith("/* tail */\n")
    assert apply_edits(Format.JSONC, text, []) == text


@settings(max_examples=60, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["a", "b", "c.d"]), SCALARS.filter(lambda v: v is not None), max_size=3
    ),
    EDITS,
)
def test_toml_edits_match_dict_model(
    doc: dict[str, object], edits: list[tuple[tuple[str, ...], object]]
) -> None:
    """TOML edits (no nulls, TOML has none) load back as the dict model predicts."""

    def no_null(value: object) -> bool:
        if value is None:
            return False
        if isinstance(value, dict):
            return all(no_null(v) for v in value.values())
        if isinstance(value, list):
            return all(no_null(v) for v in value) and not any(
                isinstance(v, list | dict) for v in value
            )
        return True

    edits = [(p, v) for p, v in edits if v is DELETE or no_null(v)]
    text = tomlkit.dumps(doc)
    batch = [Edit(path, value) for path, value in edits]
    expected = _expected(doc, edits)
    if expected is None:
        with pytest.raises(ValueError):
            apply_edits(Format.TOML, text, batch)
        return
    out = apply_edits(Format.TOML, text, batch)
    assert load(Format.TOML, out) == expected


@given(value=st.text(st.characters(blacklist_categories=("Cs",)), max_size=12))
@settings(max_examples=300)
def test_any_string_set_in_yaml_reads_back_unchanged(value: str) -> None:
    """Any string, line breaks YAML alone knows included (NEL, LS, PS), survives a YAML edit,
    and so does the comment beside it."""
    text = "# keep me\nname: rovo\n"
    new = apply_edits(Format.YAML, text, [Edit(("model",), value)])
    assert load(Format.YAML, new) == {"name": "rovo", "model": value}
    assert new.startswith("# keep me\n")


@pytest.mark.parametrize("value", ["\x85x", "x\x85", "a\u2028b", "a\u2029b"])
def test_unicode_line_breaks_in_yaml_strings_are_escapes_not_raw_breaks(value: str) -> None:
    """Written raw inside quotes, a reader folds NEL/LS/PS into a space (" x" for "\\x85x")."""
    new = apply_edits(Format.YAML, "name: rovo\n", [Edit(("model",), value)])
    assert load(Format.YAML, new)["model"] == value
    assert not any(ch in new for ch in "\x85\u2028\u2029")
