"""RFC 8785 JSON Canonicalization Scheme."""

from __future__ import annotations

from typing import Any

import orjson
import rfc8785

from .errors import InvalidCredential


def _fast_path_ok(value: Any) -> bool:
    """True when orjson (sorted keys) gives exactly the JCS bytes: only BMP keys, safe integers, plain floats.

    JCS sorts keys by UTF-16 code units (Python: by code points; equal for BMP-only keys) and
    writes numbers the ECMAScript way (Python's float repr differs, e.g. 1.0 and 1e+21); strings
    are escaped alike (\\b \\t \\n \\f \\r, other C0 as lower-case \\u00xx, nothing else).
    """
    keys: list[Any] = []
    level: list[Any] = [value]
    while level:
        below: list[Any] = []
        for node in level:
            t = type(node)
            if t is str or t is bool or node is None:
                continue
            if t is dict:
                keys.extend(node)
                below.extend(node.values())
            elif t is list:
                below.extend(node)
            elif t is int:
                if not -(2**53) < node < 2**53:
                    return False
            elif t is float:
                # both print the shortest round-trip digits in plain notation here; 2.0 would be "2" in JCS
                if node.is_integer() or not 1e-4 <= abs(node) < 1e16:
                    return False
            else:
                return False  # subclasses, tuples, anything else: the reference implementation decides
        level = below
    if not keys:
        return True
    try:
        joined = "".join(keys)
    except TypeError:
        return False  # a key that is not a string: the reference implementation refuses it
    return not joined or max(joined) <= "\uffff"


def canonicalize(obj: Any) -> bytes:
    """The RFC 8785 canonical UTF-8 bytes of a JSON value."""
    if _fast_path_ok(obj):
        # orjson writes what json.dumps(sort_keys, ensure_ascii=False) writes here, in a tenth of the
        # time; tests/unit/test_jcs.py holds both to the rfc8785 reference
        try:
            return orjson.dumps(obj, option=orjson.OPT_SORT_KEYS)
        except orjson.JSONEncodeError:  # e.g. a lone surrogate (not UTF-8): the reference decides
            pass
    try:
        return rfc8785.dumps(obj)
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as e:
        raise InvalidCredential(
            f"the document cannot be canonicalized with JCS: {e}",
            message_ko="문서를 JCS로 정규화할 수 없습니다 (정수 범위·숫자 형식을 확인하세요)",
        ) from None
