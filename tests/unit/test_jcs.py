"""agents.jcs equals the rfc8785 reference on every document, through its fast path or not."""

from __future__ import annotations

import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

import schemas
from agents import jcs

keys = st.text(max_size=8)  # includes astral characters, which take the slow path
scalars = st.none() | st.booleans() | st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1) | st.text(max_size=20)
floats = st.floats(allow_nan=False, allow_infinity=False, width=64)
json_values = st.recursive(scalars | floats, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4), max_leaves=25)


@settings(max_examples=400, deadline=None)
@given(json_values)
def test_equal_to_the_reference(value: object) -> None:
    assert jcs.canonicalize(value) == rfc8785.dumps(value)


def test_known_cases() -> None:
    for value in [
        {"b": 1, "a": "\u0007\n\"\\\x7f", "é": [True, None]},
        {"\U0001f600": 1, "\ufb01": 2},  # astral key: UTF-16 order differs from code-point order
        {"n": 1.0, "m": 1e21, "k": 0.1},
        schemas.example("labor-contract-part-time"),
    ]:
        assert jcs.canonicalize(value) == rfc8785.dumps(value)


def test_plain_range_floats_print_alike() -> None:
    import random

    rng = random.Random(8785)
    values = [rng.uniform(-1e16, 1e16) / 10 ** rng.randint(0, 19) for _ in range(20000)]
    values += [1e-4, 0.1, 0.30000000000000004, 9999999999999998.0 + 0.5, 123.456, 1.5]
    for v in values:
        assert jcs.canonicalize({"v": v}) == rfc8785.dumps({"v": v}), v


def test_every_escape_alike() -> None:
    """orjson (the fast path) escapes what JCS escapes: C0 controls, quote, backslash; DEL, U+2028 and the rest as they are."""
    chars = [chr(c) for c in range(0x00, 0x80)] + ["\u0080", "\u00ad", "\u2028", "\u2029", "\ufeff", "\uffff", "한"]
    for ch in chars:
        value = {ch: ch, "k" + ch: ["x" + ch + "y"]}
        assert jcs.canonicalize(value) == rfc8785.dumps(value), repr(ch)


def test_lone_surrogates_go_to_the_reference() -> None:
    import pytest

    from agents.errors import InvalidCredential

    # not encodable as UTF-8: neither path may emit bytes for it
    with pytest.raises((InvalidCredential, UnicodeEncodeError)):
        jcs.canonicalize({"a": "\ud800"})
