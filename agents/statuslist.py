"""W3C Bitstring Status List v1.0: the bitstring, its encoding, list credentials and entries.

Spec: https://www.w3.org/TR/vc-bitstring-status-list/ . Section numbers in comments refer to it.
The list credential's proof is verified by the caller (agents.dataintegrity); this module only
builds, encodes, decodes and reads the list.
"""

from __future__ import annotations

import secrets
import struct
import zlib
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from . import multibase
from .errors import Conflict, InvalidCredential, InvalidInput, ResourceLimit

VC_V2_CONTEXT = "https://www.w3.org/ns/credentials/v2"
#: §2.1: "a minimum of 131,072 entries" (16 KB) so one entry does not single out its holder
MIN_ENTRIES = 131_072
#: decompressed size cap: 2 MiB = 16,777,216 entries; anything bigger is refused as a bomb
MAX_DECODED_BYTES = 2 * 1024 * 1024
#: the encoded string itself is capped too (a 2 MiB list of random bits stays well under this)
MAX_ENCODED_CHARS = 4 * 1024 * 1024
PURPOSES = frozenset({"revocation", "suspension", "refresh", "message"})


class Bitstring:
    """A mutable bitstring; bit 0 is the most significant bit of byte 0 (§3.2 "left-most bit")."""

    __slots__ = ("_bits",)

    def __init__(self, length: int = MIN_ENTRIES) -> None:
        if length < MIN_ENTRIES or length % 8:
            raise InvalidInput(
                f"a status list has at least {MIN_ENTRIES} entries, a multiple of 8",
                message_ko=f"상태 목록은 {MIN_ENTRIES}개 이상(8의 배수)의 항목이 필요합니다",
            )
        if length // 8 > MAX_DECODED_BYTES:
            raise ResourceLimit("status list too large", message_ko="상태 목록이 너무 큽니다")
        self._bits = bytearray(length // 8)

    @classmethod
    def from_bytes(cls, data: bytes) -> Bitstring:
        out = cls(len(data) * 8)
        out._bits[:] = data
        return out

    def __len__(self) -> int:
        return len(self._bits) * 8

    def __bytes__(self) -> bytes:
        return bytes(self._bits)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Bitstring) and self._bits == other._bits

    def __hash__(self) -> int:  # mutable: not hashable by value
        raise TypeError("Bitstring is mutable")

    def _check(self, index: int) -> None:
        if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < len(self):
            raise InvalidInput(
                f"status index {index!r} is outside the list (0..{len(self) - 1})",
                message_ko="상태 목록 색인이 범위를 벗어났습니다",
            )

    def get(self, index: int) -> bool:
        self._check(index)
        return bool(self._bits[index // 8] & (0x80 >> (index % 8)))

    def set(self, index: int, value: bool = True) -> None:
        self._check(index)
        if value:
            self._bits[index // 8] |= 0x80 >> (index % 8)
        else:
            self._bits[index // 8] &= ~(0x80 >> (index % 8)) & 0xFF

    def clear(self, index: int) -> None:
        self.set(index, False)

    def count(self) -> int:
        """Number of set bits."""
        return sum(b.bit_count() for b in self._bits)

    def encode(self) -> str:
        """§3.2 Generate Algorithm step 4: GZIP, then multibase base64url without padding ('u')."""
        return multibase.encode(_gzip(bytes(self._bits)), "u")

    @classmethod
    def decode(cls, encoded: str, *, max_bytes: int = MAX_DECODED_BYTES) -> Bitstring:
        """§3.3 Expand Algorithm, with the decompressed size capped (a compression bomb is refused)."""
        if not isinstance(encoded, str) or not encoded.startswith("u"):
            raise InvalidCredential(
                "encodedList must be a multibase base64url string ('u' prefix)",
                message_ko="encodedList는 'u'로 시작하는 multibase base64url 문자열이어야 합니다",
            )
        if len(encoded) > MAX_ENCODED_CHARS:
            raise ResourceLimit("encodedList is too long", message_ko="encodedList가 너무 깁니다")
        compressed = multibase.decode(encoded)
        inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)  # gzip framing only
        try:
            # ask for one byte more than allowed: getting it proves the input is over the cap
            data = inflater.decompress(compressed, max_bytes + 1)
        except zlib.error:
            raise InvalidCredential(
                "encodedList is not GZIP-compressed", message_ko="encodedList가 GZIP 형식이 아닙니다"
            ) from None
        if len(data) > max_bytes:
            raise ResourceLimit(
                f"encodedList expands beyond {max_bytes} bytes",
                message_ko="encodedList의 압축을 풀면 허용 크기를 넘습니다",
            )
        if not inflater.eof or inflater.unused_data:
            raise InvalidCredential(
                "encodedList is truncated or has trailing data",
                message_ko="encodedList가 잘렸거나 뒤에 다른 데이터가 있습니다",
            )
        if len(data) * 8 < MIN_ENTRIES:
            raise InvalidCredential(
                f"a status list has at least {MIN_ENTRIES} entries",
                message_ko=f"상태 목록은 {MIN_ENTRIES}개 이상의 항목이 필요합니다",
            )
        return cls.from_bytes(data)

    def __repr__(self) -> str:
        return f"Bitstring(length={len(self)}, set={self.count()})"


def _gzip(data: bytes) -> bytes:
    """RFC 1952 member with mtime 0, XFL 0, OS 3 (Unix): deterministic, and byte-equal to the
    spec's example and to the JavaScript implementations (Python's gzip module writes OS 255)."""
    deflater = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    body = deflater.compress(data) + deflater.flush()
    trailer = struct.pack("<II", zlib.crc32(data), len(data) & 0xFFFFFFFF)
    return b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03" + body + trailer


def _purpose(purpose: str) -> str:
    if not isinstance(purpose, str) or purpose not in PURPOSES:  # a list or object is unhashable: was a 500
        raise InvalidInput(
            f"statusPurpose must be one of {sorted(PURPOSES)}", message_ko="statusPurpose 값이 잘못되었습니다"
        )
    return purpose


def _xsd_datetime(at: datetime) -> str:
    if at.tzinfo is None:
        raise InvalidInput("validFrom needs a time zone", message_ko="validFrom에 시간대가 필요합니다")
    return at.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def status_list_credential(
    list_url: str,
    issuer: str,
    purpose: str,
    bitstring: Bitstring,
    valid_from: datetime,
    ttl_ms: int | None = None,
) -> dict[str, Any]:
    """Build an unsigned BitstringStatusListCredential (§2.2); sign it with agents.dataintegrity."""
    subject: dict[str, Any] = {
        "id": f"{list_url}#list",
        "type": "BitstringStatusList",
        "statusPurpose": _purpose(purpose),
        "encodedList": bitstring.encode(),
    }
    if ttl_ms is not None:
        if not isinstance(ttl_ms, int) or ttl_ms < 0:
            raise InvalidInput(
                "ttl must be a non-negative integer (ms)", message_ko="ttl 값이 잘못되었습니다"
            )
        subject["ttl"] = ttl_ms
    return {
        # the VCDM 2.0 context defines every Bitstring Status List term
        "@context": [VC_V2_CONTEXT],
        "id": list_url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer,
        "validFrom": _xsd_datetime(valid_from),
        "credentialSubject": subject,
    }


def status_entry(list_url: str, index: int, purpose: str) -> dict[str, Any]:
    """A BitstringStatusListEntry (§2.1) for a credential's `credentialStatus`."""
    if not isinstance(index, int) or isinstance(index, bool) or index < 0:
        raise InvalidInput(
            "statusListIndex must be a non-negative integer", message_ko="상태 색인이 잘못되었습니다"
        )
    return {
        "id": f"{list_url}#{index}",
        "type": "BitstringStatusListEntry",
        "statusPurpose": _purpose(purpose),
        "statusListIndex": str(index),
        "statusListCredential": list_url,
    }


def parse_entry(entry: Mapping[str, Any]) -> tuple[str, int, str]:
    """Return (list URL, index, purpose) of a BitstringStatusListEntry, or raise InvalidCredential."""
    if not isinstance(entry, Mapping) or entry.get("type") != "BitstringStatusListEntry":
        raise InvalidCredential(
            "credentialStatus is not a BitstringStatusListEntry",
            message_ko="credentialStatus가 BitstringStatusListEntry가 아닙니다",
        )
    url, raw_index, purpose = (
        entry.get("statusListCredential"),
        entry.get("statusListIndex"),
        entry.get("statusPurpose"),
    )
    if not isinstance(url, str) or not url:
        raise InvalidCredential(
            "statusListCredential is missing", message_ko="statusListCredential이 없습니다"
        )
    # §2.1: statusListIndex is an arbitrary-size integer "expressed as a string"; digits only
    if (
        not isinstance(raw_index, str)
        or not raw_index.isascii()
        or not raw_index.isdigit()
        or len(raw_index) > 12
    ):
        raise InvalidCredential(
            "statusListIndex must be a decimal string",
            message_ko="statusListIndex는 십진수 문자열이어야 합니다",
        )
    if not isinstance(purpose, str) or purpose not in PURPOSES:  # a list or object is unhashable: was a 500
        raise InvalidCredential(
            "statusPurpose is not recognised", message_ko="statusPurpose 값을 알 수 없습니다"
        )
    return url, int(raw_index), str(purpose)


def check_status(entry: Mapping[str, Any], list_credential: Mapping[str, Any]) -> bool:
    """§3.4 Validate Algorithm steps 6-12: True when the entry's bit is set (revoked/suspended).

    The caller must already have verified `list_credential`'s proof and its issuer (step 5).
    """
    url, index, purpose = parse_entry(entry)
    # 6. the list credential must be the one the entry names
    if list_credential.get("id") not in (None, url):
        raise InvalidCredential(
            "the status list credential is not the one the entry names",
            message_ko="상태 목록 자격증명이 항목이 가리키는 것과 다릅니다",
        )
    types = list_credential.get("type")
    if not isinstance(types, list) or "BitstringStatusListCredential" not in types:
        raise InvalidCredential(
            "not a BitstringStatusListCredential", message_ko="BitstringStatusListCredential이 아닙니다"
        )
    subject = list_credential.get("credentialSubject")
    if not isinstance(subject, Mapping) or subject.get("type") != "BitstringStatusList":
        raise InvalidCredential(
            "the list has no BitstringStatusList subject", message_ko="상태 목록 내용이 없습니다"
        )
    # 7. purposes must match (a revocation entry is never read from a suspension list)
    if subject.get("statusPurpose") != purpose:
        raise InvalidCredential(
            "statusPurpose of the entry and of the list differ",
            message_ko="항목과 상태 목록의 statusPurpose가 다릅니다",
        )
    size = subject.get("statusSize", 1)
    if size != 1:
        raise InvalidCredential("only statusSize 1 is supported", message_ko="statusSize 1만 지원합니다")
    # 8-9. expand the list; 10. the index must be inside it (a short list is a status failure)
    bits = Bitstring.decode(str(subject.get("encodedList", "")))
    if index >= len(bits):
        raise InvalidCredential(
            "statusListIndex is outside the status list",
            message_ko="상태 색인이 상태 목록 범위를 벗어났습니다",
        )
    # 11-12. the status is the bit at the index
    return bits.get(index)


def decode_list_credential(list_credential: Mapping[str, Any]) -> tuple[str, Bitstring]:
    """Return (purpose, bitstring) of a list credential (for the issuing side to flip a bit)."""
    subject = list_credential.get("credentialSubject")
    if not isinstance(subject, Mapping) or subject.get("type") != "BitstringStatusList":
        raise InvalidCredential(
            "the list has no BitstringStatusList subject", message_ko="상태 목록 내용이 없습니다"
        )
    return _purpose(str(subject.get("statusPurpose"))), Bitstring.decode(str(subject.get("encodedList", "")))


def allocate(length: int, claim: Callable[[int], bool], *, attempts: int = 64) -> int:
    """Pick a random unused index: `claim(i)` records it and returns False if it was taken.

    Indexes are random (§6.3 group privacy: consecutive indexes leak issuance order). `claim`
    must rely on a unique constraint in its store, so two concurrent callers can never both
    get the same index; a conflict is simply retried with a fresh random index.
    """
    for _ in range(attempts):
        index = secrets.randbelow(length)
        if claim(index):
            return index
    raise Conflict(
        "could not find a free status index; the list is nearly full",
        message_ko="빈 상태 색인을 찾지 못했습니다. 상태 목록이 거의 찼습니다",
    )
