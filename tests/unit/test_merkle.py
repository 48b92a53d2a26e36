"""RFC 6962 / 9162 Merkle hashing and proofs: known answers, properties, tampering."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agents import merkle
from agents.errors import RegistryError

VECTORS = json.loads((Path(__file__).parent.parent / "vectors" / "rfc6962" / "ct-8-leaves.json").read_text())
LEAVES = [merkle.leaf_hash(bytes.fromhex(x)) for x in VECTORS["leaves"]]
ROOTS = [bytes.fromhex(r) for r in VECTORS["roots"]]
GET = merkle.nodes_from_leaves(LEAVES)


def _leaves(n: int) -> list[bytes]:
    return [merkle.leaf_hash(i.to_bytes(4, "big")) for i in range(n)]


def test_empty_tree_root_is_sha256_of_nothing() -> None:
    assert merkle.root([]) == hashlib.sha256(b"").digest() == ROOTS[0]
    assert merkle.frontier_root([]) == merkle.EMPTY_ROOT


def test_leaf_and_node_hash_prefixes() -> None:
    assert merkle.leaf_hash(b"") == hashlib.sha256(b"\x00").digest() == ROOTS[1]
    assert merkle.node_hash(b"a", b"b") == hashlib.sha256(b"\x01ab").digest()


@pytest.mark.parametrize("size", range(9))
def test_roots_match_rfc6962_vectors(size: int) -> None:
    assert merkle.root(LEAVES[:size]) == ROOTS[size]


@pytest.mark.parametrize("case", VECTORS["inclusion"], ids=lambda c: f"{c['index']}-of-{c['size']}")
def test_inclusion_vectors(case: dict[str, object]) -> None:
    index, size = int(case["index"]), int(case["size"])  # type: ignore[call-overload]
    expected = [bytes.fromhex(h) for h in case["proof"]]  # type: ignore[attr-defined]
    assert merkle.inclusion_proof(index, size, GET) == expected
    merkle.verify_inclusion(LEAVES[index], index, size, expected, ROOTS[size])


@pytest.mark.parametrize("case", VECTORS["consistency"], ids=lambda c: f"{c['first']}-to-{c['second']}")
def test_consistency_vectors(case: dict[str, object]) -> None:
    a, b = int(case["first"]), int(case["second"])  # type: ignore[call-overload]
    expected = [bytes.fromhex(h) for h in case["proof"]]  # type: ignore[attr-defined]
    assert merkle.consistency_proof(a, b, GET) == expected
    merkle.verify_consistency(a, b, ROOTS[a], ROOTS[b], expected)


def _inclusion_mutations(index: int, size: int, proof: list[bytes], root: bytes, leaf: bytes):  # type: ignore[no-untyped-def]
    """The corruptions of the CT verifier tests: every one must fail."""
    some = bytes.fromhex("abacaba000000000000000000000000000000000000000000060061e00123456")
    yield index - 1, size, proof, root, leaf
    yield index + 1, size, proof, root, leaf
    yield index ^ 2, size, proof, root, leaf
    yield index, size * 2, proof, root, leaf
    yield index, size // 2, proof, root, leaf
    yield index, size, proof, root, some
    yield index, size, proof, merkle.EMPTY_ROOT, leaf
    yield index, size, proof, some, leaf
    yield index, size, [*proof, root], root, leaf
    yield index, size, [root, *proof], root, leaf
    for i in range(len(proof)):
        bad = list(proof)
        bad[i] = bytes([bad[i][0] ^ 8]) + bad[i][1:]
        yield index, size, bad, root, leaf
    if proof:
        yield index, size, proof[:-1], root, leaf
    if len(proof) > 1:
        yield index, size, [proof[0], some, *proof[1:]], root, leaf


@pytest.mark.parametrize("case", VECTORS["inclusion"][1:], ids=lambda c: f"{c['index']}-of-{c['size']}")
def test_corrupted_inclusion_proofs_fail(case: dict[str, object]) -> None:
    index, size = int(case["index"]), int(case["size"])  # type: ignore[call-overload]
    proof = [bytes.fromhex(h) for h in case["proof"]]  # type: ignore[attr-defined]
    for args in _inclusion_mutations(index, size, proof, ROOTS[size], LEAVES[index]):
        with pytest.raises(RegistryError):
            merkle.verify_inclusion(args[4], args[0], args[1], args[2], args[3])


@pytest.mark.parametrize("case", VECTORS["consistency"][1:], ids=lambda c: f"{c['first']}-to-{c['second']}")
def test_corrupted_consistency_proofs_fail(case: dict[str, object]) -> None:
    a, b = int(case["first"]), int(case["second"])  # type: ignore[call-overload]
    proof = [bytes.fromhex(h) for h in case["proof"]]  # type: ignore[attr-defined]
    r1, r2 = ROOTS[a], ROOTS[b]
    wrong = hashlib.sha256(b"WrongRoot").digest()
    probes = [
        (a - 1, b, r1, r2, proof), (a + 1, b, r1, r2, proof), (a ^ 2, b, r1, r2, proof),
        (a, b * 2, r1, r2, proof), (a, b // 2, r1, r2, proof),
        (a, b, wrong, r2, proof), (a, b, r1, wrong, proof), (a, b, r2, r1, proof),
        (a, b, r1, r2, []), (a, b, r1, r2, [*proof, r1]), (a, b, r1, r2, [*proof, r2]),
        (a, b, r1, r2, [r1, *proof]), (a, b, r1, r2, [r2, *proof]), (a, b, r1, r2, [proof[0], *proof]),
        (a, b, r1, r2, proof[:-1]),
    ]
    for i in range(len(proof)):
        bad = list(proof)
        bad[i] = bytes([bad[i][0] ^ 16]) + bad[i][1:]
        probes.append((a, b, r1, r2, bad))
    for s1, s2, x, y, p in probes:
        if (s1, s2, x, y, p) == (a, b, r1, r2, proof):
            continue
        with pytest.raises(RegistryError):
            merkle.verify_consistency(s1, s2, x, y, p)


def test_trivial_consistency_cases() -> None:
    merkle.verify_consistency(0, 0, merkle.EMPTY_ROOT, merkle.EMPTY_ROOT, [])
    merkle.verify_consistency(0, 5, b"\x11" * 32, ROOTS[5], [])  # the empty tree is a prefix of all
    with pytest.raises(RegistryError, match="fork"):
        merkle.verify_consistency(3, 3, ROOTS[3], ROOTS[4], [])
    with pytest.raises(RegistryError, match="must be empty"):
        merkle.verify_consistency(0, 1, ROOTS[0], ROOTS[1], [ROOTS[0]])
    with pytest.raises(RegistryError, match="not in order"):
        merkle.verify_consistency(2, 1, ROOTS[2], ROOTS[1], [])
    with pytest.raises(RegistryError, match="is empty"):
        merkle.verify_consistency(1, 2, ROOTS[1], ROOTS[2], [])


def test_inclusion_bounds_and_shapes() -> None:
    for index, size in [(0, 0), (1, 0), (2, 1)]:
        with pytest.raises(RegistryError):
            merkle.verify_inclusion(LEAVES[0], index, size, [], merkle.EMPTY_ROOT)
        with pytest.raises(RegistryError):
            merkle.inclusion_proof(index, size, GET)
    with pytest.raises(RegistryError, match="32 bytes"):
        merkle.verify_inclusion(b"short", 0, 1, [], ROOTS[1])
    with pytest.raises(RegistryError, match="at most 64"):
        merkle.verify_inclusion(LEAVES[0], 0, 1, [b"\x00" * 32] * 65, ROOTS[1])
    # a one-leaf tree: root == leaf hash and the proof is empty
    merkle.verify_inclusion(LEAVES[0], 0, 1, [], ROOTS[1])


def test_frontier_append_yields_perfect_subtrees() -> None:
    frontier: list[bytes] = []
    completed: dict[tuple[int, int], bytes] = {}
    for i, leaf in enumerate(LEAVES):
        frontier, done = merkle.frontier_append(frontier, i, leaf)
        completed.update({(lv, ix): h for lv, ix, h in done})
        assert merkle.frontier_root(frontier) == ROOTS[i + 1]
        assert len(frontier) == bin(i + 1).count("1")
    assert completed[(3, 0)] == ROOTS[8]
    assert completed[(2, 1)] == GET(2, 1)
    assert set(completed) == {(1, 0), (1, 1), (1, 2), (1, 3), (2, 0), (2, 1), (3, 0)}


def test_entry_leaf_layout() -> None:
    salt, digest = bytes(range(32)), hashlib.sha256(b"doc").digest()
    leaf = merkle.entry_leaf("credential", salt, digest)
    assert leaf == b"credential" + b"\x00" + salt + digest
    assert len(leaf) == 10 + 1 + 32 + 32
    assert merkle.entry_leaf_hash("credential", salt, digest) == hashlib.sha256(b"\x00" + leaf).digest()
    # the type is bound into the leaf: the same document under another type is another leaf
    assert merkle.entry_leaf_hash("audit-event", salt, digest) != merkle.entry_leaf_hash("credential", salt, digest)
    with pytest.raises(RegistryError, match="unknown log entry type"):
        merkle.entry_leaf("credentialx", salt, digest)
    with pytest.raises(RegistryError, match="salt is 32 bytes"):
        merkle.entry_leaf("credential", salt[:16], digest)
    with pytest.raises(RegistryError, match="digest is 32 bytes"):
        merkle.entry_leaf("credential", salt, digest[:31])


def test_document_digest_is_sha256_of_jcs() -> None:
    doc = {"b": [1, "가"], "a": {"z": None, "y": True}}
    assert merkle.document_digest(doc) == hashlib.sha256(
        '{"a":{"y":true,"z":null},"b":[1,"가"]}'.encode()
    ).digest()
    assert merkle.document_digest({"a": 1, "b": 2}) == merkle.document_digest({"b": 2, "a": 1})
    with pytest.raises(RegistryError, match="canonicalised"):
        merkle.document_digest({"n": 2**60})  # beyond the I-JSON integer range


@settings(max_examples=150, deadline=None)
@given(size=st.integers(1, 300), data=st.data())
def test_every_inclusion_proof_verifies_and_tampering_fails(size: int, data: st.DataObject) -> None:
    leaves = _leaves(size)
    get = merkle.nodes_from_leaves(leaves)
    root = merkle.root(leaves)
    index = data.draw(st.integers(0, size - 1))
    proof = merkle.inclusion_proof(index, size, get)
    assert len(proof) <= size.bit_length()
    merkle.verify_inclusion(leaves[index], index, size, proof, root)
    if proof:
        i = data.draw(st.integers(0, len(proof) - 1))
        bit = data.draw(st.integers(0, 255))
        bad = list(proof)
        bad[i] = bytes([bad[i][bit // 8] ^ (1 << (bit % 8)) if j == bit // 8 else b for j, b in enumerate(bad[i])])
        with pytest.raises(RegistryError):
            merkle.verify_inclusion(leaves[index], index, size, bad, root)
    other = data.draw(st.integers(0, size - 1))
    if other != index:
        with pytest.raises(RegistryError):
            merkle.verify_inclusion(leaves[other], index, size, proof, root)


@settings(max_examples=150, deadline=None)
@given(size2=st.integers(1, 300), data=st.data())
def test_every_consistency_proof_verifies_and_tampering_fails(size2: int, data: st.DataObject) -> None:
    leaves = _leaves(size2)
    get = merkle.nodes_from_leaves(leaves)
    size1 = data.draw(st.integers(0, size2))
    r1, r2 = merkle.root(leaves[:size1]), merkle.root(leaves)
    proof = merkle.consistency_proof(size1, size2, get)
    merkle.verify_consistency(size1, size2, r1, r2, proof)
    if 0 < size1 < size2:
        forked = list(leaves[:size1])
        forked[data.draw(st.integers(0, size1 - 1))] = merkle.leaf_hash(b"rewritten")
        with pytest.raises(RegistryError):
            merkle.verify_consistency(size1, size2, merkle.root(forked), r2, proof)
        i = data.draw(st.integers(0, len(proof) - 1))
        bad = list(proof)
        bad[i] = bytes([bad[i][0] ^ 1]) + bad[i][1:]
        with pytest.raises(RegistryError):
            merkle.verify_consistency(size1, size2, r1, r2, bad)


def test_node_plans_name_only_complete_subtrees() -> None:
    for size in range(1, 70):
        for index in range(size):
            for level, ix in merkle.inclusion_nodes(index, size):
                assert (ix + 1) << level <= size
        for first in range(size + 1):
            for level, ix in merkle.consistency_nodes(first, size):
                assert (ix + 1) << level <= size
