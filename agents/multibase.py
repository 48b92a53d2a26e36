"""Multibase (base58btc 'z', base64url 'u') and multicodec helpers."""

from __future__ import annotations

import base64

from .errors import InvalidInput

_B58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX = {c: i for i, c in enumerate(_B58_ALPHABET)}

# multicodec varint prefixes
ED25519_PUB = b"\xed\x01"
ED25519_PRIV = b"\x80\x26"
P256_PUB = b"\x80\x24"


def b58encode(data: bytes) -> str:
    n = int.from_bytes(data, "big")
    out = []
    while n:
        n, r = divmod(n, 58)
        out.append(_B58_ALPHABET[r])
    pad = len(data) - len(data.lstrip(b"\0"))
    return "1" * pad + "".join(reversed(out))


_B58_DIGITS = bytes(_B58_INDEX.get(chr(i), 0xFF) for i in range(256))


def b58decode(text: str) -> bytes:
    if len(text) > 512:
        raise InvalidInput("base58 value too long", message_ko="base58 값이 너무 깁니다")
    try:
        digits = text.encode("ascii").translate(_B58_DIGITS)
    except UnicodeEncodeError:
        digits = b"\xff"
    if 0xFF in digits:
        bad = next((c for c in text if c not in _B58_INDEX), "?")
        raise InvalidInput(f"invalid base58 character {bad!r}", message_ko="base58 값에 허용되지 않는 문자가 있습니다")
    n = 0
    for d in digits:
        n = n * 58 + d
    pad = len(text) - len(text.lstrip("1"))
    body = n.to_bytes((n.bit_length() + 7) // 8, "big") if n else b""
    return b"\0" * pad + body


def encode(data: bytes, base: str = "z") -> str:
    if base == "z":
        return "z" + b58encode(data)
    if base == "u":
        return "u" + base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")
    raise ValueError(f"unsupported multibase {base!r}")


def decode(text: str) -> bytes:
    """Decode a multibase string ('z' base58btc or 'u' base64url without padding)."""
    if not isinstance(text, str) or not text:
        raise InvalidInput("empty or non-string multibase value", message_ko="multibase 값이 비어 있습니다")
    if text[0] == "z":
        return b58decode(text[1:])
    if text[0] == "u":
        body = text[1:]
        if any(c not in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_" for c in body):
            raise InvalidInput("invalid base64url multibase value", message_ko="base64url 값이 잘못되었습니다")
        try:
            return base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        except ValueError:
            raise InvalidInput("invalid base64url multibase value", message_ko="base64url 값이 잘못되었습니다") from None
    raise InvalidInput(
        f"unsupported multibase prefix {text[0]!r}", message_ko="지원하지 않는 multibase 형식입니다"
    )


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError):
        raise InvalidInput("invalid base64url value", message_ko="base64url 값이 잘못되었습니다") from None
