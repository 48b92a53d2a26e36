"""Registry key rotation in signed notes: several keys per name, retired keys bounded by their last size."""

from __future__ import annotations

import pytest

from agents import merkle
from agents.checkpoint import (
    Checkpoint,
    RetiredKey,
    add_signature,
    format_retired_key,
    merge_verifiers,
    parse_and_verify,
    parse_verifier_key,
    parse_verifier_keys,
    sign_checkpoint,
    verifier_key,
)
from agents.errors import RegistryError
from agents.keys import Ed25519KeyPair

ORIGIN = "registry.workcred.test/log"
OLD = Ed25519KeyPair.from_seed(b"\x01" * 32)
NEW = Ed25519KeyPair.from_seed(b"\x02" * 32)


def _cp(size: int) -> Checkpoint:
    return Checkpoint(ORIGIN, size, merkle.root([merkle.leaf_hash(bytes([i])) for i in range(size)]))


def test_retired_key_verifies_only_up_to_its_last_size() -> None:
    keys = {ORIGIN: (NEW.public, RetiredKey(OLD.public, 5))}
    assert parse_and_verify(sign_checkpoint(_cp(5), ORIGIN, OLD), keys).size == 5
    assert parse_and_verify(sign_checkpoint(_cp(9), ORIGIN, NEW), keys).size == 9
    with pytest.raises(RegistryError, match="retired before that size"):
        parse_and_verify(sign_checkpoint(_cp(6), ORIGIN, OLD), keys)
    # the hand-over checkpoint carries both signatures: either key alone accepts it
    handover = add_signature(sign_checkpoint(_cp(5), ORIGIN, OLD), ORIGIN, NEW)
    for only in (OLD.public, NEW.public):
        assert parse_and_verify(handover, {ORIGIN: only}).size == 5
    # a larger checkpoint signed by the old key and the new one counts (the new key vouches for it)
    both = add_signature(sign_checkpoint(_cp(7), ORIGIN, OLD), ORIGIN, NEW)
    assert parse_and_verify(both, keys).size == 7


def test_unknown_key_still_fails_with_several_keys() -> None:
    keys = {ORIGIN: [NEW.public, RetiredKey(OLD.public, 5)]}
    with pytest.raises(RegistryError, match="not signed by a trusted registry key"):
        parse_and_verify(sign_checkpoint(_cp(3), ORIGIN, Ed25519KeyPair.from_seed(b"\x03" * 32)), keys)
    # a signature by a known retired key over an altered body is an error, never skipped
    note = sign_checkpoint(_cp(3), ORIGIN, OLD)
    altered = note.replace(f"{ORIGIN}\n3\n", f"{ORIGIN}\n4\n", 1)
    with pytest.raises(RegistryError, match="does not verify"):
        parse_and_verify(altered, keys)


def test_configuration_form_round_trips() -> None:
    text = f" {verifier_key(ORIGIN, NEW.public)} ,{format_retired_key(ORIGIN, RetiredKey(OLD.public, 12))}\n"
    assert parse_verifier_keys(text) == {ORIGIN: (NEW.public, RetiredKey(OLD.public, 12))}
    assert parse_verifier_keys("") == {}
    with pytest.raises(RegistryError):
        parse_verifier_keys("not-a-key")
    with pytest.raises(RegistryError):
        RetiredKey(OLD.public, -1)
    merged = merge_verifiers({ORIGIN: NEW.public}, {ORIGIN: (RetiredKey(OLD.public, 1), NEW.public)})
    assert merged == {ORIGIN: (NEW.public, RetiredKey(OLD.public, 1))}


def test_vkey_with_plus_in_base64_regression() -> None:
    # the key's base64 may contain "+": parse_verifier_key split on every "+" and refused it
    pair = next(
        p for p in (Ed25519KeyPair.from_seed(bytes([n]) * 32) for n in range(256))
        if "+" in verifier_key(ORIGIN, p.public).split("+", 2)[2]
    )
    assert parse_verifier_key(verifier_key(ORIGIN, pair.public)) == (ORIGIN, pair.public)
