"""RFC 8785 JSON Canonicalization Scheme."""

from __future__ import annotations

from typing import Any

import rfc8785

from .errors import InvalidCredential


def canonicalize(obj: Any) -> bytes:
    """The RFC 8785 canonical UTF-8 bytes of a JSON value."""
    try:
        return rfc8785.dumps(obj)
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as e:
        raise InvalidCredential(
            f"the document cannot be canonicalized with JCS: {e}",
            message_ko="문서를 JCS로 정규화할 수 없습니다 (정수 범위·숫자 형식을 확인하세요)",
        ) from None
