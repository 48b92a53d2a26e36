"""Receipts: a document verifies against its receipt, an altered one does not; split-view memory."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import pytest

from agents import merkle
from agents.checkpoint import Checkpoint, sign_checkpoint
from agents.errors import RegistryError
from agents.keys import Ed25519KeyPair
from agents.multibase import b64url
from agents.receipts import (
    FileCheckpointMemory,
    InMemoryCheckpointMemory,
    Receipt,
    verify_receipt,
)

ORIGIN = "registry.workcred.test/log"
KEY = Ed25519KeyPair.from_seed(b"\x07" * 32)
KEYS = {ORIGIN: KEY.public}
DOC = {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"], "name": "홍길동 계약"}


class ToyLog:
    """An in-memory log with the registry's leaf layout, to build real receipts without a database."""

    def __init__(self, key: Ed25519KeyPair = KEY) -> None:
        self.leaves: list[bytes] = []
        self.salts: list[bytes] = []
        self.key = key

    def add(self, doc: dict[str, object], type_tag: str = "credential") -> int:
        salt = secrets.token_bytes(32)
        self.salts.append(salt)
        self.leaves.append(merkle.entry_leaf_hash(type_tag, salt, merkle.document_digest(doc)))
        return len(self.leaves) - 1

    def note(self, size: int | None = None) -> str:
        size = len(self.leaves) if size is None else size
        return sign_checkpoint(Checkpoint(ORIGIN, size, merkle.root(self.leaves[:size])), ORIGIN, self.key)

    def receipt(self, index: int, type_tag: str = "credential") -> Receipt:
        size = len(self.leaves)
        proof = merkle.inclusion_proof(index, size, merkle.nodes_from_leaves(self.leaves))
        return Receipt(ORIGIN, index, type_tag, b64url(self.salts[index]), tuple(b64url(p) for p in proof), self.note())

    def consistency(self, origin: str, a: int, b: int) -> list[bytes]:
        assert origin == ORIGIN
        return merkle.consistency_proof(a, b, merkle.nodes_from_leaves(self.leaves[:b]))


@pytest.fixture
def toy() -> ToyLog:
    log = ToyLog()
    for i in range(5):
        log.add({"n": i})
    return log


def test_receipt_verifies_against_its_document(toy: ToyLog) -> None:
    index = toy.add(DOC)
    for i in range(6):
        toy.add({"after": i})
    receipt = Receipt.from_json(json.dumps(toy.receipt(index).to_json()))
    cp = verify_receipt(receipt, DOC, KEYS, memory=None)
    assert (cp.origin, cp.size) == (ORIGIN, 12)


def test_altered_document_fails(toy: ToyLog) -> None:
    index = toy.add(DOC)
    receipt = toy.receipt(index)
    altered = dict(DOC, name="김철수 계약")
    with pytest.raises(RegistryError, match="not the one logged at index 5"):
        verify_receipt(receipt, altered, KEYS, memory=None)


def test_wrong_type_salt_or_key_fails(toy: ToyLog) -> None:
    index = toy.add(DOC)
    good = toy.receipt(index).to_json()
    with pytest.raises(RegistryError, match="not the one logged"):
        verify_receipt(Receipt.from_json(dict(good, type="audit-event")), DOC, KEYS, memory=None)
    with pytest.raises(RegistryError, match="not the one logged"):
        verify_receipt(Receipt.from_json(dict(good, salt=b64url(b"\x01" * 32))), DOC, KEYS, memory=None)
    with pytest.raises(RegistryError, match="trusted registry key"):
        verify_receipt(Receipt.from_json(good), DOC, {ORIGIN: Ed25519KeyPair.generate().public}, memory=None)
    with pytest.raises(RegistryError, match="checkpoint is from"):
        verify_receipt(Receipt.from_json(dict(good, origin="other/log")), DOC, KEYS, memory=None)


@pytest.mark.parametrize(
    "change",
    [
        {"extra": 1},
        {"index": -1},
        {"index": True},
        {"index": "3"},
        {"type": "passport"},
        {"salt": "short"},
        {"salt": "a+b/" * 11},
        {"inclusionProof": "abc"},
        {"inclusionProof": ["x"]},
        {"inclusionProof": [b64url(b"\x00" * 32)] * 65},
        {"checkpoint": ""},
        {"origin": 5},
    ],
)
def test_receipt_parsing_is_strict(toy: ToyLog, change: dict[str, object]) -> None:
    data = toy.receipt(0).to_json()
    data.update(change)
    with pytest.raises(RegistryError, match="receipt"):
        Receipt.from_json(data)


def test_receipt_missing_member_or_not_json() -> None:
    with pytest.raises(RegistryError, match="exactly"):
        Receipt.from_json({"origin": ORIGIN})
    with pytest.raises(RegistryError, match="receipt"):
        Receipt.from_json("{not json")


def test_memory_accepts_consistent_newer_checkpoint(toy: ToyLog) -> None:
    memory = InMemoryCheckpointMemory()
    index = toy.add(DOC)
    verify_receipt(toy.receipt(index), DOC, KEYS, memory=memory, fetch_consistency=toy.consistency)
    assert memory.get(ORIGIN) is not None and memory.get(ORIGIN).size == 6  # type: ignore[union-attr]
    for i in range(9):
        toy.add({"later": i})
    verify_receipt(toy.receipt(index), DOC, KEYS, memory=memory, fetch_consistency=toy.consistency)
    assert memory.get(ORIGIN).size == 15  # type: ignore[union-attr]
    # an older (but consistent) checkpoint is accepted and does not replace the newer one
    old = Checkpoint(ORIGIN, 6, merkle.root(toy.leaves[:6]))
    memory.observe(old, toy.consistency)
    assert memory.get(ORIGIN).size == 15  # type: ignore[union-attr]


def test_memory_detects_fork_same_size(toy: ToyLog) -> None:
    memory = InMemoryCheckpointMemory()
    index = toy.add(DOC)
    verify_receipt(toy.receipt(index), DOC, KEYS, memory=memory, fetch_consistency=toy.consistency)
    # the log shows someone else a different history of the same size
    fork = ToyLog()
    for i in range(5):
        fork.add({"n": i})
    fork_index = fork.add(DOC)
    with pytest.raises(RegistryError, match="fork detected"):
        verify_receipt(fork.receipt(fork_index), DOC, KEYS, memory=memory, fetch_consistency=fork.consistency)


def test_memory_detects_fork_on_growth(toy: ToyLog) -> None:
    memory = InMemoryCheckpointMemory()
    index = toy.add(DOC)
    verify_receipt(toy.receipt(index), DOC, KEYS, memory=memory, fetch_consistency=toy.consistency)
    rewritten = ToyLog()
    for i in range(4):
        rewritten.add({"n": i})
    rewritten.add({"n": "rewritten"})
    idx = rewritten.add(DOC)
    for i in range(4):
        rewritten.add({"more": i})
    with pytest.raises(RegistryError, match="fork detected"):
        verify_receipt(rewritten.receipt(idx), DOC, KEYS, memory=memory, fetch_consistency=rewritten.consistency)
    assert memory.get(ORIGIN).size == 6  # type: ignore[union-attr]  # the fork was not remembered


def test_memory_needs_a_proof_source(toy: ToyLog) -> None:
    memory = InMemoryCheckpointMemory()
    memory.observe(Checkpoint(ORIGIN, 3, merkle.root(toy.leaves[:3])), None)
    with pytest.raises(RegistryError, match="no consistency proof source"):
        memory.observe(Checkpoint(ORIGIN, 5, merkle.root(toy.leaves[:5])), None)


def test_file_memory_persists_and_detects_fork(toy: ToyLog, tmp_path: Path) -> None:
    path = tmp_path / "seen.json"
    FileCheckpointMemory(path).observe(Checkpoint(ORIGIN, 5, merkle.root(toy.leaves)), toy.consistency)
    again = FileCheckpointMemory(path)  # a new process reading the same file
    assert again.get(ORIGIN) == Checkpoint(ORIGIN, 5, merkle.root(toy.leaves))
    with pytest.raises(RegistryError, match="fork detected"):
        again.observe(Checkpoint(ORIGIN, 5, merkle.leaf_hash(b"other")), toy.consistency)
    path.write_text("[]")
    with pytest.raises(RegistryError, match="not a JSON object"):
        FileCheckpointMemory(path).get(ORIGIN)
