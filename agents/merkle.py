"""RFC 6962 / RFC 9162 Merkle tree hashing, proofs and their verification (pure, no I/O).

Hashing (RFC 9162 §2.1.1): ``leaf_hash(d) = SHA-256(0x00 || d)``, ``node_hash(l, r) = SHA-256(0x01 || l || r)``,
the empty tree's root is ``SHA-256("")``, and a tree of n > 1 leaves splits at the largest power of two
smaller than n.

Leaf input of the workcred registry (what ``leaf_hash`` is applied to), 66 to 97 bytes::

    type tag (ASCII, 5..32 bytes, one of ENTRY_TYPES)
    0x00                       separator; a tag never contains 0x00, so the split is unambiguous
    salt (32 bytes)            random, chosen by the registry, returned in the holder's receipt only
    document digest (32 bytes) SHA-256 of the RFC 8785 (JCS) canonical form of the signed document

The log holds only hashes of salted digests: no personal data, and without the salt nobody can
confirm a guess of a document's content from the log.

Storage interface: proofs are built from hashes of *perfect* subtrees, named ``(level, index)`` and
covering leaves ``[index * 2**level, (index + 1) * 2**level)``; level 0 is the leaf hashes.
``get_node(level, index)`` returns one. ``inclusion_nodes`` / ``consistency_nodes`` list every node a
proof will ask for, so a store can fetch them in one query first.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from . import jcs
from .errors import InvalidCredential, RegistryError

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()
ENTRY_TYPES = ("credential", "did-document", "status-list", "audit-event", "trust-list")
LEAF_SEPARATOR = b"\x00"
SALT_SIZE = 32
#: a proof longer than this cannot belong to a tree of fewer than 2**64 leaves
MAX_PROOF_LEN = 64
MAX_TREE_SIZE = 2**63 - 1

GetNode = Callable[[int, int], bytes]
NodeId = tuple[int, int]


def leaf_hash(data: bytes) -> bytes:
    """SHA-256(0x00 || data) (RFC 9162 §2.1.1)."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || left || right) (RFC 9162 §2.1.1)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def document_digest(doc: dict[str, Any]) -> bytes:
    """SHA-256 of the RFC 8785 canonical JSON of a (signed) document (`agents.jcs`, the one JCS)."""
    try:
        # agents.jcs: the orjson fast path, held to the rfc8785 reference by tests/unit/test_jcs.py
        return hashlib.sha256(jcs.canonicalize(doc)).digest()
    except InvalidCredential as e:
        raise RegistryError(
            f"the document cannot be canonicalised (RFC 8785): {e.message}",
            message_ko="문서를 RFC 8785 정규화할 수 없습니다",
        ) from None


def entry_leaf(type_tag: str, salt: bytes, document_digest: bytes) -> bytes:
    """The leaf input: ``type tag || 0x00 || salt(32) || digest(32)`` (layout in the module docstring)."""
    if type_tag not in ENTRY_TYPES:
        raise RegistryError(
            f"unknown log entry type {type_tag!r}; expected one of {', '.join(ENTRY_TYPES)}",
            message_ko=f"알 수 없는 로그 항목 유형입니다: {type_tag!r}",
        )
    if len(salt) != SALT_SIZE:
        raise RegistryError("a log salt is 32 bytes", message_ko="로그 솔트는 32바이트여야 합니다")
    if len(document_digest) != HASH_SIZE:
        raise RegistryError("a document digest is 32 bytes (SHA-256)", message_ko="문서 해시는 32바이트여야 합니다")
    return type_tag.encode("ascii") + LEAF_SEPARATOR + salt + document_digest


def entry_leaf_hash(type_tag: str, salt: bytes, document_digest: bytes) -> bytes:
    """``leaf_hash(entry_leaf(...))``: the value stored in the tree for one registry entry."""
    return leaf_hash(entry_leaf(type_tag, salt, document_digest))


# --- tree shape helpers -------------------------------------------------------------------------


def _split(n: int) -> int:
    """The largest power of two strictly smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def _check_size(size: int) -> None:
    if not 0 <= size <= MAX_TREE_SIZE:
        raise RegistryError(f"tree size {size} out of range", message_ko="트리 크기가 범위를 벗어났습니다")


def subtrees(start: int, end: int) -> list[NodeId]:
    """Decompose the leaf range [start, end) of a tree into perfect subtrees, left to right.

    Only ranges that occur in RFC 6962 proofs are passed here: ``start`` aligned to a power of two at
    least as large as ``end - start``, so the decomposition is by the binary digits of ``end - start``.
    """
    out: list[NodeId] = []
    pos = start
    remaining = end - start
    while remaining:
        level = remaining.bit_length() - 1
        width = 1 << level
        out.append((level, pos >> level))
        pos += width
        remaining -= width
    return out


def range_hash(start: int, end: int, get_node: GetNode) -> bytes:
    """MTH(D[start:end]) from the perfect subtrees that compose it (right to left, as RFC 6962 splits)."""
    parts = subtrees(start, end)
    if not parts:
        return EMPTY_ROOT
    acc = get_node(*parts[-1])
    for level, index in reversed(parts[:-1]):
        acc = node_hash(get_node(level, index), acc)
    return acc


def root(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH of a list of leaf hashes (RFC 9162 §2.1.1), iteratively in O(n)."""
    frontier: list[bytes] = []
    for i, h in enumerate(leaf_hashes):
        frontier, _ = frontier_append(frontier, i, h)
    return frontier_root(frontier)


def frontier_append(frontier: Sequence[bytes], size: int, leaf: bytes) -> tuple[list[bytes], list[tuple[int, int, bytes]]]:
    """Append one leaf hash to a compact range; return the new range and the perfect subtrees it completed.

    The compact range of a tree of ``size`` leaves is the hashes of its perfect subtrees along the
    right edge, largest first (one per set bit of ``size``). Completed nodes are ``(level, index, hash)``
    with level >= 1.
    """
    stack = list(frontier)
    h = leaf
    level = 0
    index = size
    done: list[tuple[int, int, bytes]] = []
    while (size >> level) & 1:
        h = node_hash(stack.pop(), h)
        level += 1
        index >>= 1
        done.append((level, index, h))
    stack.append(h)
    return stack, done


def frontier_root(frontier: Sequence[bytes]) -> bytes:
    """Root of the tree whose compact range is `frontier`."""
    if not frontier:
        return EMPTY_ROOT
    acc = frontier[-1]
    for h in reversed(frontier[:-1]):
        acc = node_hash(h, acc)
    return acc


def frontier_ids(size: int) -> list[NodeId]:
    """The perfect subtrees forming the compact range of a tree of `size` leaves, largest first."""
    return subtrees(0, size)


# --- inclusion (RFC 9162 §2.1.3) ----------------------------------------------------------------


def _inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """The leaf ranges whose MTH form PATH(index, D[0:size]), in proof order (bottom up)."""
    out: list[tuple[int, int]] = []
    start, end = 0, size
    while end - start > 1:
        k = _split(end - start)
        if index - start < k:
            out.append((start + k, end))  # PATH(m, D[0:k]) : MTH(D[k:n])
            end = start + k
        else:
            out.append((start, start + k))  # PATH(m - k, D[k:n]) : MTH(D[0:k])
            start += k
    out.reverse()
    return out


def inclusion_nodes(index: int, size: int) -> list[NodeId]:
    """Every perfect subtree `inclusion_proof(index, size, ...)` will read."""
    return [n for s, e in _inclusion_ranges(index, size) for n in subtrees(s, e)]


def inclusion_proof(index: int, size: int, get_node: GetNode) -> list[bytes]:
    """The audit path for leaf `index` in the tree of the first `size` leaves (RFC 9162 §2.1.3.1)."""
    _check_size(size)
    if not 0 <= index < size:
        raise RegistryError(
            f"leaf index {index} is not in a tree of size {size}", message_ko="잎 번호가 트리 크기를 벗어났습니다"
        )
    return [range_hash(s, e, get_node) for s, e in _inclusion_ranges(index, size)]


def verify_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes], root_hash: bytes) -> None:
    """Verify an inclusion proof (RFC 9162 §2.1.3.2); raise RegistryError when it does not hold."""
    _check_proof_shape(proof)
    if len(leaf) != HASH_SIZE or len(root_hash) != HASH_SIZE:
        raise RegistryError("hashes are 32 bytes", message_ko="해시 길이가 잘못되었습니다")
    # 1. leaf_index must be smaller than tree_size
    if not 0 <= index < size:
        raise RegistryError(
            f"inclusion proof: index {index} is not below tree size {size}",
            message_ko="포함 증명: 잎 번호가 트리 크기보다 작지 않습니다",
        )
    # 2. fn = leaf_index, sn = tree_size - 1
    fn, sn = index, size - 1
    # 3. r = hash
    r = leaf
    # 4. for each p in inclusion_path
    for p in proof:
        # 4a. if sn is 0, fail
        if sn == 0:
            raise _inclusion_failed("the proof is longer than the path")
        # 4b. if LSB(fn) is set or fn == sn: r = HASH(0x01 || p || r), then shift until LSB(fn) or fn == 0
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            # otherwise r = HASH(0x01 || r || p)
            r = node_hash(r, p)
        # 4c. shift both once
        fn >>= 1
        sn >>= 1
    # 5. sn must be 0 and r must equal root_hash
    if sn != 0:
        raise _inclusion_failed("the proof is shorter than the path")
    if not hmac.compare_digest(r, root_hash):
        raise _inclusion_failed("the computed root does not match the checkpoint's root")


def _inclusion_failed(why: str) -> RegistryError:
    return RegistryError(f"inclusion proof does not verify: {why}", message_ko="포함 증명이 검증되지 않습니다")


def _check_proof_shape(proof: Sequence[bytes]) -> None:
    if len(proof) > MAX_PROOF_LEN or any(len(p) != HASH_SIZE for p in proof):
        raise RegistryError(
            "a proof is at most 64 hashes of 32 bytes each", message_ko="증명 형식이 잘못되었습니다"
        )


# --- consistency (RFC 9162 §2.1.4) --------------------------------------------------------------


def _consistency_ranges(size1: int, size2: int) -> list[tuple[int, int]]:
    """The leaf ranges whose MTH form PROOF(size1, D[0:size2]) (RFC 9162 §2.1.4.1), in proof order."""
    if size1 == 0 or size1 == size2:
        return []
    siblings: list[tuple[int, int]] = []
    start, end = 0, size2
    complete = True  # the "b" flag of SUBPROOF
    while end != size1:
        k = _split(end - start)
        if size1 - start <= k:
            siblings.append((start + k, end))  # SUBPROOF(m, D[0:k], b) : MTH(D[k:n])
            end = start + k
        else:
            siblings.append((start, start + k))  # SUBPROOF(m - k, D[k:n], false) : MTH(D[0:k])
            start += k
            complete = False
    head = [] if complete else [(start, end)]  # SUBPROOF(m, D[m], false) = {MTH(D[m])}
    return head + siblings[::-1]


def consistency_nodes(size1: int, size2: int) -> list[NodeId]:
    """Every perfect subtree `consistency_proof(size1, size2, ...)` will read."""
    return [n for s, e in _consistency_ranges(size1, size2) for n in subtrees(s, e)]


def consistency_proof(size1: int, size2: int, get_node: GetNode) -> list[bytes]:
    """The consistency proof between the trees of the first `size1` and `size2` leaves (§2.1.4.1)."""
    _check_size(size2)
    if not 0 <= size1 <= size2:
        raise RegistryError(
            f"consistency proof: first size {size1} is larger than second size {size2}",
            message_ko="일관성 증명: 앞 크기가 뒤 크기보다 큽니다",
        )
    return [range_hash(s, e, get_node) for s, e in _consistency_ranges(size1, size2)]


def verify_consistency(size1: int, size2: int, root1: bytes, root2: bytes, proof: Sequence[bytes]) -> None:
    """Verify that the tree (size1, root1) is a prefix of (size2, root2) (RFC 9162 §2.1.4.2)."""
    _check_proof_shape(proof)
    if len(root1) != HASH_SIZE or len(root2) != HASH_SIZE:
        raise RegistryError("hashes are 32 bytes", message_ko="해시 길이가 잘못되었습니다")
    if not 0 <= size1 <= size2 <= MAX_TREE_SIZE:
        raise _consistency_failed(f"sizes {size1} and {size2} are not in order")
    if size1 == size2:
        # same tree: nothing to prove, the roots must simply be equal
        if proof or not hmac.compare_digest(root1, root2):
            raise _consistency_failed("two trees of one size with different roots (a fork)")
        return
    if size1 == 0:
        # the empty tree is a prefix of every tree
        if proof:
            raise _consistency_failed("a proof from the empty tree must be empty")
        return
    # 1. an empty consistency_path fails
    if not proof:
        raise _consistency_failed("the proof is empty")
    path = list(proof)
    # 2. if first is an exact power of 2, prepend first_hash
    if size1 & (size1 - 1) == 0:
        path.insert(0, root1)
    # 3. fn = first - 1, sn = second - 1
    fn, sn = size1 - 1, size2 - 1
    # 4. if LSB(fn) is set, shift both until it is not
    while fn & 1:
        fn >>= 1
        sn >>= 1
    # 5. fr = sr = the first value of the path
    fr = sr = path[0]
    # 6. for each subsequent value c
    for c in path[1:]:
        # 6a. if sn is 0, fail
        if sn == 0:
            raise _consistency_failed("the proof is longer than the path")
        # 6b. if LSB(fn) is set or fn == sn
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)  # i.
            sr = node_hash(c, sr)  # ii.
            if not fn & 1:  # iii.
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        # 6c. shift both once
        fn >>= 1
        sn >>= 1
    # 7. fr == first_hash, sr == second_hash, sn == 0
    if sn != 0:
        raise _consistency_failed("the proof is shorter than the path")
    if not hmac.compare_digest(fr, root1):
        raise _consistency_failed("the first root does not match (the log rewrote its history: a fork)")
    if not hmac.compare_digest(sr, root2):
        raise _consistency_failed("the second root does not match")


def _consistency_failed(why: str) -> RegistryError:
    return RegistryError(f"consistency proof does not verify: {why}", message_ko="일관성 증명이 검증되지 않습니다")


def nodes_from_leaves(leaf_hashes: Sequence[bytes]) -> GetNode:
    """A `get_node` over an in-memory list of leaf hashes (tests, small trees)."""
    levels: list[list[bytes]] = [list(leaf_hashes)]
    while len(levels[-1]) > 1:
        prev = levels[-1]
        levels.append([node_hash(prev[i], prev[i + 1]) for i in range(0, len(prev) - 1, 2)])

    def get(level: int, index: int) -> bytes:
        try:
            return levels[level][index]
        except IndexError:
            raise RegistryError(f"no node ({level}, {index})", message_ko="트리 노드가 없습니다") from None

    return get


def hashes_equal(a: Iterable[bytes], b: Iterable[bytes]) -> bool:
    """Constant-time comparison of two hash sequences."""
    la, lb = list(a), list(b)
    return len(la) == len(lb) and all(hmac.compare_digest(x, y) for x, y in zip(la, lb, strict=True))
