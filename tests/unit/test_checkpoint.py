"""C2SP signed notes and checkpoints: the Go sumdb/note known answer, strict parsing, keys, witnesses."""

from __future__ import annotations

import base64
import hashlib

import pytest

from agents import merkle
from agents.checkpoint import (
    ALG_COSIGNATURE_V1,
    Checkpoint,
    add_signature,
    cosign,
    open_note,
    parse_and_verify,
    parse_verifier_key,
    sign_checkpoint,
    sign_note,
    verifier_key,
)
from agents.errors import RegistryError
from agents.keys import Ed25519KeyPair

# golang.org/x/mod/sumdb/note documentation example (PeterNeumann key)
GO_SKEY_B64 = "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
GO_NOTE = (
    GO_TEXT
    + "\n\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)
ORIGIN = "registry.workcred.test/log"


@pytest.fixture
def key() -> Ed25519KeyPair:
    return Ed25519KeyPair.from_seed(bytes(range(32)))


def _cp(size: int = 8) -> Checkpoint:
    return Checkpoint(ORIGIN, size, merkle.root([merkle.leaf_hash(bytes([i])) for i in range(size)]))


def test_go_note_known_answer() -> None:
    pair = Ed25519KeyPair.from_seed(base64.b64decode(GO_SKEY_B64)[1:])
    assert verifier_key("PeterNeumann", pair.public) == GO_VKEY
    assert sign_note(GO_TEXT, "PeterNeumann", pair) == GO_NOTE  # Ed25519 is deterministic
    name, public = parse_verifier_key(GO_VKEY)
    assert open_note(GO_NOTE, {name: public}) == GO_TEXT


def test_checkpoint_body_format(key: Ed25519KeyPair) -> None:
    root = bytes.fromhex("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328")
    cp = Checkpoint(ORIGIN, 8, root)
    assert cp.body() == f"{ORIGIN}\n8\n{base64.standard_b64encode(root).decode()}\n"
    assert cp.body().split("\n")[2].endswith("=")  # standard base64 with padding, not base64url
    note = sign_checkpoint(cp, ORIGIN, key)
    lines = note.split("\n")
    assert lines[3] == "" and lines[4].startswith(f"\u2014 {ORIGIN} ") and lines[5] == ""
    blob = base64.b64decode(lines[4].rsplit(" ", 1)[1])
    assert len(blob) == 4 + 64


def test_roundtrip_with_extensions(key: Ed25519KeyPair) -> None:
    cp = Checkpoint(ORIGIN, 3, _cp(3).root, ("Timestamp: 1700000000",))
    assert parse_and_verify(sign_checkpoint(cp, ORIGIN, key), {ORIGIN: key.public}) == cp


def test_wrong_key_and_unknown_key(key: Ed25519KeyPair) -> None:
    note = sign_checkpoint(_cp(), ORIGIN, key)
    other = Ed25519KeyPair.generate()
    with pytest.raises(RegistryError, match="not signed by a trusted registry key"):
        parse_and_verify(note, {ORIGIN: other.public})  # same name, other key: key hash differs
    with pytest.raises(RegistryError, match="not signed by a trusted registry key"):
        parse_and_verify(note, {"someone-else": key.public})


def test_altered_checkpoint_fails(key: Ed25519KeyPair) -> None:
    note = sign_checkpoint(_cp(8), ORIGIN, key)
    altered = note.replace(f"{ORIGIN}\n8\n", f"{ORIGIN}\n9\n", 1)
    with pytest.raises(RegistryError, match="does not verify"):
        parse_and_verify(altered, {ORIGIN: key.public})


@pytest.mark.parametrize(
    "mutate",
    [
        lambda n: n[:-1],  # no final newline
        lambda n: n.replace("\n\n", "\n", 1),  # no blank line
        lambda n: n.replace("\u2014 ", "- ", 1),  # not an em dash
        lambda n: n.replace("\n8\n", "\n08\n", 1),  # leading zero
        lambda n: n.replace("\n8\n", "\n-8\n", 1),
        lambda n: n.replace("=\n\n", "\n\n", 1),  # root not padded base64
        lambda n: n.replace("\n8\n", "\n8\r\n", 1),  # control character
        lambda n: "\n" + n,  # empty origin
        lambda n: n + "\u2014 x AAAA\n" * 101,  # too many signatures
        lambda n: n + "x" * 20000,  # too large
        lambda n: n.replace(f"\u2014 {ORIGIN} ", f"\u2014 {ORIGIN} !!", 1),  # bad base64
    ],
)
def test_malformed_notes_are_rejected(key: Ed25519KeyPair, mutate) -> None:  # type: ignore[no-untyped-def]
    note = sign_checkpoint(_cp(8), ORIGIN, key)
    with pytest.raises(RegistryError):
        parse_and_verify(mutate(note), {ORIGIN: key.public})


def test_non_checkpoint_body_rejected_even_when_signed(key: Ed25519KeyPair) -> None:
    note = sign_note("just text\n", ORIGIN, key)
    with pytest.raises(RegistryError, match="malformed checkpoint"):
        parse_and_verify(note, {ORIGIN: key.public})


def test_witness_cosignature_quorum(key: Ed25519KeyPair) -> None:
    w1, w2, w3 = (Ed25519KeyPair.generate() for _ in range(3))
    witnesses = {"w1.example": w1.public, "w2.example": w2.public, "w3.example": w3.public}
    note = sign_checkpoint(_cp(), ORIGIN, key)
    note = cosign(note, "w1.example", w1, timestamp=1_700_000_000)
    note = cosign(note, "unknown.example", Ed25519KeyPair.generate(), timestamp=1_700_000_000)  # ignored
    note = add_signature(note, "w3.example", w3)  # a plain note signature is not a cosignature/v1
    note = cosign(note, "w2.example", w2, timestamp=1_700_000_001)
    cp = parse_and_verify(note, {ORIGIN: key.public}, witnesses=witnesses, witness_quorum=2)
    assert cp.size == 8
    with pytest.raises(RegistryError, match="2 witness cosignatures; 3 required"):
        parse_and_verify(note, {ORIGIN: key.public}, witnesses=witnesses, witness_quorum=3)
    # a witness cannot stand in for the log
    with pytest.raises(RegistryError, match="not signed by a trusted registry key"):
        parse_and_verify(note, {"w1.example": w1.public})
    # a known witness whose cosignature does not verify is an error, not skipped
    other = cosign(sign_checkpoint(_cp(7), ORIGIN, key), "w3.example", w3, timestamp=5)
    with pytest.raises(RegistryError, match="w3.example"):
        parse_and_verify(note + other.rsplit("\n", 2)[-2] + "\n", {ORIGIN: key.public}, witnesses=witnesses)


def test_cosignature_v1_layout(key: Ed25519KeyPair) -> None:
    w = Ed25519KeyPair.from_seed(b"\x05" * 32)
    body = _cp().body()
    note = cosign(sign_checkpoint(_cp(), ORIGIN, key), "witness.example/w1", w, timestamp=1679315147)
    blob = base64.b64decode(note.rstrip("\n").rsplit(" ", 1)[1])
    key_id = hashlib.sha256(b"witness.example/w1\n\x04" + w.public.raw).digest()[:4]
    assert blob[:4] == key_id and int.from_bytes(blob[4:12], "big") == 1679315147 and len(blob) == 76
    assert w.public.verify(blob[12:], b"cosignature/v1\ntime 1679315147\n" + body.encode())
    vkey = verifier_key("witness.example/w1", w.public, ALG_COSIGNATURE_V1)
    assert parse_verifier_key(vkey, ALG_COSIGNATURE_V1) == ("witness.example/w1", w.public)
    with pytest.raises(RegistryError):
        parse_verifier_key(vkey)  # a cosigner key is not a note-signing key


def test_verifier_key_rejects_mangling() -> None:
    for bad in [GO_VKEY.replace("c74f20a3", "c74f20a4"), GO_VKEY + "+x", "PeterNeumann+c74f20a3", GO_VKEY[:-2]]:
        with pytest.raises(RegistryError):
            parse_verifier_key(bad)


def test_checkpoint_invariants() -> None:
    with pytest.raises(RegistryError):
        Checkpoint("", 1, b"\x00" * 32)
    with pytest.raises(RegistryError):
        Checkpoint(ORIGIN, -1, b"\x00" * 32)
    with pytest.raises(RegistryError):
        Checkpoint(ORIGIN, 1, b"\x00" * 31)
    with pytest.raises(RegistryError):
        Checkpoint(ORIGIN, 1, b"\x00" * 32, ("",))
