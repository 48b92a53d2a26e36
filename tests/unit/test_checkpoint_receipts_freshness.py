"""Receipt freshness: the holder refreshes a receipt to the latest checkpoint; the verifier checks it
offline and relates it to its own view (`RegistryView`) without naming the receipt's checkpoint."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from agents import merkle
from agents.checkpoint import Checkpoint, sign_checkpoint
from agents.errors import RegistryError
from agents.keys import Ed25519KeyPair
from agents.multibase import b64url
from agents.receipts import (
    Freshness,
    InMemoryCheckpointMemory,
    Receipt,
    RegistryView,
    refresh,
    verify_freshness,
    verify_receipt,
)
from tests.unit.test_checkpoint_receipts import DOC, KEYS, ORIGIN, ToyLog


class Registry:
    """The toy log behind the two read endpoints, with a log of what was asked."""

    def __init__(self, log: ToyLog) -> None:
        self.log = log
        self.asked: list[tuple[str, int, int] | str] = []

    def checkpoint(self, origin: str) -> str:
        self.asked.append("checkpoint")
        return self.log.note()

    def consistency(self, origin: str, a: int, b: int) -> list[bytes]:
        self.asked.append(("consistency", a, b))
        return self.log.consistency(origin, a, b)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _grow(log: ToyLog, n: int) -> None:
    for i in range(n):
        log.add({"later": len(log.leaves), "i": i})


@pytest.fixture
def toy() -> ToyLog:
    log = ToyLog()
    _grow(log, 5)
    return log


def test_refresh_round_trips_and_old_receipts_stay_valid(toy: ToyLog) -> None:
    index = toy.add(DOC)
    old = toy.receipt(index)
    assert "freshness" not in old.to_json() and Receipt.from_json(old.to_json()) == old
    _grow(toy, 7)
    registry = Registry(toy)
    fresh = refresh(old, registry.checkpoint, registry.consistency, registry_keys=KEYS)
    assert registry.asked == ["checkpoint", ("consistency", 6, 13)]  # the holder may name its own checkpoint
    again = Receipt.from_json(json.dumps(fresh.to_json()))
    assert again == fresh and again.freshness is not None
    cp = verify_receipt(again, DOC, KEYS, memory=None)
    assert cp.size == 6 and verify_freshness(again, cp, KEYS).size == 13
    # already the latest: freshness with an empty proof
    same = refresh(fresh, registry.checkpoint, registry.consistency)
    assert verify_freshness(same, verify_receipt(same, DOC, KEYS, memory=None), KEYS).size == 13


def test_strict_parsing_of_freshness(toy: ToyLog) -> None:
    good = refresh(toy.receipt(toy.add(DOC)), lambda _o: toy.note(), toy.consistency).to_json()
    bad_members = [
        {"checkpoint": good["checkpoint"]},
        {**good["freshness"], "extra": 1},
        None,
        [],
        {"checkpoint": 7, "consistencyProof": []},
        {"checkpoint": good["checkpoint"], "consistencyProof": "AAAA"},
        {"checkpoint": good["checkpoint"], "consistencyProof": ["not base64!"]},
        {"checkpoint": good["checkpoint"], "consistencyProof": [b64url(b"\x00" * 31)]},
        {"checkpoint": good["checkpoint"], "consistencyProof": [b64url(b"\x00" * 32)] * (merkle.MAX_PROOF_LEN + 1)},
        {"checkpoint": "x" * 20_000, "consistencyProof": []},
    ]
    for fresh in bad_members:
        with pytest.raises(RegistryError, match="malformed receipt|exactly"):
            Receipt.from_json(dict(good, freshness=fresh))
    with pytest.raises(RegistryError, match="exactly"):
        Receipt.from_json(dict(good, fresh=good["freshness"]))


def test_tampered_freshness_fails(toy: ToyLog) -> None:
    index = toy.add(DOC)
    _grow(toy, 9)
    # the receipt as issued: its checkpoint is the one right after the credential
    proof = merkle.inclusion_proof(index, index + 1, merkle.nodes_from_leaves(toy.leaves))
    base = Receipt(ORIGIN, index, "credential", b64url(toy.salts[index]), tuple(b64url(p) for p in proof), toy.note(index + 1))
    cp = verify_receipt(base, DOC, KEYS, memory=None)
    fresh = refresh(base, lambda _o: toy.note(), toy.consistency, registry_keys=KEYS)
    assert fresh.freshness is not None and verify_freshness(fresh, cp, KEYS).size == len(toy.leaves)
    # a wrong proof
    wrong = Freshness(fresh.freshness.checkpoint, tuple(b64url(b"\x01" * 32) for _ in fresh.freshness.consistencyProof))
    with pytest.raises(RegistryError, match="not consistent"):
        verify_freshness(replace(fresh, freshness=wrong), cp, KEYS)
    # a later checkpoint signed by another key (a consistent proof does not make it the registry's)
    other = ToyLog(Ed25519KeyPair.generate())
    other.leaves, other.salts = toy.leaves, toy.salts
    forged = Freshness(other.note(), fresh.freshness.consistencyProof)
    with pytest.raises(RegistryError, match="not signed by a trusted registry key"):
        verify_freshness(replace(fresh, freshness=forged), cp, KEYS)
    # a later checkpoint of another history, with the proof that history gives
    fork = ToyLog()
    fork.leaves, fork.salts = toy.leaves[: index + 1] + [merkle.leaf_hash(b"x")] * 9, toy.salts
    forked = Freshness(fork.note(), tuple(b64url(p) for p in toy.consistency(ORIGIN, index + 1, len(toy.leaves))))
    with pytest.raises(RegistryError, match="not consistent"):
        verify_freshness(replace(fresh, freshness=forked), cp, KEYS)
    # older than the receipt's checkpoint
    older = Freshness(toy.note(index), ())
    with pytest.raises(RegistryError, match="older"):
        verify_freshness(replace(fresh, freshness=older), cp, KEYS)


def test_view_relates_without_naming_the_checkpoint(toy: ToyLog) -> None:
    registry, clock = Registry(toy), Clock()
    view = RegistryView(KEYS, InMemoryCheckpointMemory(), registry.checkpoint, registry.consistency, clock=clock)
    assert view.relate(Checkpoint(ORIGIN, 5, merkle.root(toy.leaves))) is True  # the view itself
    index = toy.add(DOC)
    _grow(toy, 4)
    carried = Checkpoint(ORIGIN, 10, merkle.root(toy.leaves))
    assert view.relate(carried) is True  # newer than the view: the latest is fetched first
    assert registry.asked == ["checkpoint", "checkpoint", ("consistency", 5, 10)]  # sizes the verifier chose
    assert view.relate(carried) is True and len(registry.asked) == 3  # cached
    # a checkpoint older than the view and never seen: not checkable without naming it
    stale = Checkpoint(ORIGIN, index + 1, merkle.root(toy.leaves[: index + 1]))
    assert view.relate(stale) is False and len(registry.asked) == 3
    view.reveal_older = True  # the explicit setting: asks, and the request names the size
    assert view.relate(stale) is True and registry.asked[-1] == ("consistency", index + 1, 10)
    # the cache expires after 30 s
    clock.now += 31
    _grow(toy, 2)
    view.latest(ORIGIN)
    assert registry.asked[-2:] == ["checkpoint", ("consistency", 10, 12)]


def test_view_detects_forks(toy: ToyLog) -> None:
    registry = Registry(toy)
    view = RegistryView(KEYS, InMemoryCheckpointMemory(), registry.checkpoint, registry.consistency, clock=Clock())
    view.latest(ORIGIN)
    with pytest.raises(RegistryError, match="fork detected"):  # the same size, another root
        view.relate(Checkpoint(ORIGIN, 5, b"\x07" * 32))
    with pytest.raises(RegistryError, match="fork detected"):  # the holder was given more than the verifier sees
        view.relate(Checkpoint(ORIGIN, 9, b"\x07" * 32))
    asked = len(registry.asked)
    with pytest.raises(RegistryError, match="fork detected"):  # asked again at once: no second fetch
        view.relate(Checkpoint(ORIGIN, 9, b"\x07" * 32))
    assert len(registry.asked) == asked
    # the registry's own latest must be consistent with what the verifier remembered
    memory = InMemoryCheckpointMemory()
    memory.put(Checkpoint(ORIGIN, 3, b"\x05" * 32))
    with pytest.raises(RegistryError, match="fork detected"):
        RegistryView(KEYS, memory, registry.checkpoint, registry.consistency).latest(ORIGIN)


def test_view_refuses_a_checkpoint_of_another_log(toy: ToyLog) -> None:
    def elsewhere(origin: str) -> str:
        return sign_checkpoint(Checkpoint("other/log", 5, merkle.root(toy.leaves)), ORIGIN, toy.key)

    view = RegistryView(KEYS, InMemoryCheckpointMemory(), elsewhere, toy.consistency)
    with pytest.raises(RegistryError, match="not signed by a trusted|another|other"):
        view.latest(ORIGIN)
