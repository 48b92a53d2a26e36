"""Bitstring Status List v1.0: encoding, bit order, bounds, entries and the status check."""

from __future__ import annotations

import gzip
import threading
import zlib
from datetime import UTC, datetime

import pytest

from agents import multibase
from agents.errors import Conflict, InvalidCredential, InvalidInput, ResourceLimit
from agents.statuslist import (
    MIN_ENTRIES,
    Bitstring,
    allocate,
    check_status,
    decode_list_credential,
    status_entry,
    status_list_credential,
)

# The spec's example (§2.2): the encodedList of an all-zero 131,072-entry list
SPEC_EMPTY_LIST = "uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA"
URL = "https://registry.example/status/dept/rev-1"
T0 = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


def test_empty_list_encodes_to_the_spec_example() -> None:
    assert Bitstring().encode() == SPEC_EMPTY_LIST
    decoded = Bitstring.decode(SPEC_EMPTY_LIST)
    assert len(decoded) == MIN_ENTRIES and decoded.count() == 0


def test_round_trip_with_bits_set() -> None:
    bits = Bitstring()
    for i in (0, 7, 8, 94567, MIN_ENTRIES - 1):
        bits.set(i)
    again = Bitstring.decode(bits.encode())
    assert again == bits
    assert [i for i in range(MIN_ENTRIES) if again.get(i)] == [0, 7, 8, 94567, MIN_ENTRIES - 1]
    again.clear(7)
    assert not again.get(7) and again.count() == 4


def test_bit_zero_is_the_most_significant_bit_of_byte_zero() -> None:
    bits = Bitstring()
    bits.set(0)
    bits.set(9)
    raw = bytes(bits)
    assert raw[0] == 0x80 and raw[1] == 0x40 and raw[2:] == bytes(len(raw) - 2)
    # and the encoded form is plain GZIP of those bytes
    assert gzip.decompress(multibase.decode(bits.encode())) == raw


def test_short_or_odd_lists_are_refused() -> None:
    with pytest.raises(InvalidInput, match="at least 131072"):
        Bitstring(1024)
    short = multibase.encode(gzip.compress(bytes(100), mtime=0), "u")
    with pytest.raises(InvalidCredential, match="at least 131072"):
        Bitstring.decode(short)


def test_index_out_of_range() -> None:
    with pytest.raises(InvalidInput, match="outside the list"):
        Bitstring().get(MIN_ENTRIES)
    with pytest.raises(InvalidInput, match="outside the list"):
        Bitstring().set(-1)


def test_decompression_bomb_is_refused() -> None:
    # 64 MiB of zeros compresses to ~64 KB; expanding it must stop at the cap, not allocate it all
    deflater = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    chunk = bytes(1024 * 1024)
    bomb = b"".join(deflater.compress(chunk) for _ in range(64)) + deflater.flush()
    assert len(bomb) < 100_000
    with pytest.raises(ResourceLimit, match="expands beyond"):
        Bitstring.decode(multibase.encode(bomb, "u"))


@pytest.mark.parametrize(
    ("value", "match"),
    [
        ("zabc", "'u' prefix"),
        ("u" + multibase.b64url(b"not gzip at all"), "not GZIP"),
        ("u" + multibase.b64url(gzip.compress(bytes(16384), mtime=0)[:-12]), "truncated"),
        ("u" + multibase.b64url(gzip.compress(bytes(16384), mtime=0) + b"junk"), "trailing"),
        ("u!!", "base64url"),
    ],
)
def test_malformed_encoded_lists(value: str, match: str) -> None:
    with pytest.raises(InvalidInput, match=match):
        Bitstring.decode(value)


def test_list_credential_and_entry_shapes() -> None:
    bits = Bitstring()
    bits.set(94567)
    vc = status_list_credential(URL, "did:web:registry.example:issuers:dept", "revocation", bits, T0, 300_000)
    assert vc["@context"] == ["https://www.w3.org/ns/credentials/v2"]
    assert vc["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert vc["validFrom"] == "2027-03-01T09:00:00Z"
    assert vc["credentialSubject"] == {
        "id": URL + "#list",
        "type": "BitstringStatusList",
        "statusPurpose": "revocation",
        "encodedList": bits.encode(),
        "ttl": 300_000,
    }
    entry = status_entry(URL, 94567, "revocation")
    assert entry == {
        "id": URL + "#94567",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": "94567",
        "statusListCredential": URL,
    }
    assert check_status(entry, vc) is True
    assert check_status(status_entry(URL, 94566, "revocation"), vc) is False
    assert decode_list_credential(vc) == ("revocation", bits)


def test_check_status_refuses_mismatches() -> None:
    vc = status_list_credential(URL, "did:example:i", "suspension", Bitstring(), T0)
    with pytest.raises(InvalidCredential, match="statusPurpose"):
        check_status(status_entry(URL, 1, "revocation"), vc)
    with pytest.raises(InvalidCredential, match="outside the status list"):
        check_status(status_entry(URL, MIN_ENTRIES, "suspension"), vc)
    with pytest.raises(InvalidCredential, match="not the one the entry names"):
        check_status(status_entry(URL + "x", 1, "suspension"), vc)
    bad = status_entry(URL, 1, "suspension") | {"statusListIndex": "-1"}
    with pytest.raises(InvalidCredential, match="decimal string"):
        check_status(bad, vc)
    with pytest.raises(InvalidInput, match="statusPurpose"):
        status_entry(URL, 1, "deletion")
    with pytest.raises(InvalidInput, match="time zone"):
        status_list_credential(URL, "did:example:i", "revocation", Bitstring(), datetime(2027, 1, 1))


def test_allocate_retries_on_conflict_and_never_reuses() -> None:
    taken: set[int] = set()
    lock = threading.Lock()

    def claim(i: int) -> bool:
        with lock:  # stands in for the store's unique constraint
            if i in taken:
                return False
            taken.add(i)
            return True

    got: list[int] = []

    def worker() -> None:
        for _ in range(200):
            got.append(allocate(4096, claim))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(got) == 1600 and len(set(got)) == 1600
    full = set(range(16))
    with pytest.raises(Conflict, match="nearly full"):
        allocate(16, lambda i: i not in full)
