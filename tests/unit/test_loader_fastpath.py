"""`loader.parse_json` takes shortcuts (orjson, limits read off the bytes); it must refuse and accept
exactly what the plain path (json.loads, then a walk of every node) refuses and accepts."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from agents import loader
from agents.errors import Error

SMALL = loader.Limits(max_bytes=4096, max_depth=4, max_members=12, max_string=24)

keys = st.text(max_size=6)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**40), max_value=10**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=5) | st.dictionaries(keys, inner, max_size=5), max_leaves=30)


def _reference(raw: bytes, limits: loader.Limits) -> tuple[str, Any]:
    try:
        value = json.loads(raw.decode("utf-8"), parse_constant=loader._reject_constant, parse_int=loader._bounded_int)
        loader.check_bounds(value, limits)
    except (Error, ValueError, RecursionError) as e:
        return "refused", type(e).__name__
    return "accepted", value


def _ours(raw: bytes, limits: loader.Limits) -> tuple[str, Any]:
    try:
        return "accepted", loader.parse_json(raw, limits)
    except Error as e:
        return "refused", type(e).__name__


@settings(max_examples=600, deadline=None)
@given(values, st.booleans())
def test_same_decision_and_value_as_the_plain_path(value: Any, ascii_only: bool) -> None:
    raw = json.dumps(value, ensure_ascii=ascii_only).encode("utf-8")
    for limits in (SMALL, loader.DEFAULT_LIMITS):
        ours, ref = _ours(raw, limits), _reference(raw, limits)
        assert ours[0] == ref[0], (raw, limits, ours, ref)
        if ours[0] == "accepted":
            assert ours[1] == ref[1] and json.dumps(ours[1]) == json.dumps(ref[1])  # same values, same types


def test_integers_orjson_would_round_are_read_exactly() -> None:
    for text in (b"[18446744073709551616]", b'{"a": -99999999999999999999}', b"[1234567890123456789012345678901]"):
        assert loader.parse_json(text) == json.loads(text)
