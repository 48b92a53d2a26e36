"""The SQL-backed log on SQLite and PostgreSQL: appends, proofs, receipts, and `verify_all` catching tampering."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from agents import merkle
from agents.checkpoint import Checkpoint, parse_and_verify, sign_checkpoint
from agents.errors import NotFound, RegistryError
from agents.keys import Ed25519KeyPair
from agents.receipts import InMemoryCheckpointMemory, verify_receipt
from registry.log import Log
from web import db

ORIGIN = "registry.workcred.test/log"
KEY = Ed25519KeyPair.from_seed(b"\x42" * 32)


@dataclass
class Env:
    engine: Engine
    sf: sessionmaker[Session]
    log: Log

    def sql(self, statement: str, **params: object) -> None:
        with self.engine.begin() as conn:
            conn.execute(text(statement), params)


def _digest(i: int) -> bytes:
    return merkle.document_digest({"credential": i})


@pytest.fixture
def env(db_url: str) -> Iterator[Env]:
    db.migrate("registry", db_url)
    engine = db.make_engine(db_url)
    sf = db.session_factory(engine)
    yield Env(engine, sf, Log(sf, origin=ORIGIN, signer=KEY, checkpoint_every=4, checkpoint_seconds=3600))
    engine.dispose()


def _fill(env: Env, n: int, checkpoint_at: tuple[int, ...] = ()) -> None:
    for i in range(n):
        with db.transaction(env.sf) as s:
            env.log.append(s, "credential", _digest(i))
        if i + 1 in checkpoint_at:
            env.log.checkpoint()


def test_append_prove_and_checkpoint(env: Env) -> None:
    _fill(env, 3)
    with db.transaction(env.sf) as s:
        results = env.log.append_many(s, [("did-document", _digest(100 + i)) for i in range(10)])
    assert [r.index for r in results] == list(range(3, 13))
    assert env.log.size() == 13
    cp = env.log.checkpoint()
    assert (cp.size, cp.origin) == (13, ORIGIN)
    assert env.log.checkpoint() == cp  # nothing new: no second checkpoint of the same size
    note = env.log.latest_note()
    assert note is not None and parse_and_verify(note, {ORIGIN: KEY.public}) == cp
    for r in results:
        index, proof = env.log.inclusion_proof(r.leaf_hash, 13)
        assert index == r.index
        merkle.verify_inclusion(r.leaf_hash, index, 13, proof, cp.root)
        assert r.leaf_hash == merkle.entry_leaf_hash("did-document", r.salt, _digest(100 + r.index - 3))
    for size in (5, 8, 11):
        index, proof = env.log.inclusion_proof(results[0].leaf_hash, size)
        merkle.verify_inclusion(results[0].leaf_hash, 3, size, proof, _root_at(env, size))
    for a in range(14):
        merkle.verify_consistency(a, 13, _root_at(env, a), cp.root, env.log.consistency_proof(a, 13))
    assert env.log.verify_all().ok


def _root_at(env: Env, size: int) -> bytes:
    with env.sf() as s:
        rows = s.execute(text("SELECT leaf_hash FROM log_entry WHERE idx < :n ORDER BY idx"), {"n": size}).all()
    return merkle.root([bytes(r[0]) for r in rows])


def test_proof_errors(env: Env) -> None:
    _fill(env, 5)
    leaf = env.log.entry(2).leaf_hash
    with pytest.raises(RegistryError, match="beyond the log"):
        env.log.inclusion_proof(leaf, 6)
    with pytest.raises(RegistryError, match="not in the tree of size 2"):
        env.log.inclusion_proof(leaf, 2)
    with pytest.raises(NotFound):
        env.log.inclusion_proof(b"\x00" * 32, 5)
    with pytest.raises(RegistryError, match="beyond the log"):
        env.log.consistency_proof(1, 9)
    with pytest.raises(RegistryError, match="between 0 and second"):
        env.log.consistency_proof(4, 3)
    with pytest.raises(NotFound):
        env.log.entry(5)


def test_append_rolls_back_with_the_callers_transaction(env: Env) -> None:
    _fill(env, 2)
    with pytest.raises(RuntimeError), db.transaction(env.sf) as s:
        env.log.append(s, "status-list", _digest(7))
        raise RuntimeError("the VDR row failed")
    assert env.log.size() == 2
    with db.transaction(env.sf) as s:
        assert env.log.append(s, "status-list", _digest(7)).index == 2
    assert env.log.verify_all().ok


def test_concurrent_appends_get_distinct_indices(env: Env) -> None:
    errors: list[BaseException] = []

    def worker(w: int) -> None:
        try:
            for i in range(15):
                with db.transaction(env.sf) as s:
                    env.log.append(s, "audit-event", _digest(1000 * w + i))
        except BaseException as e:  # surfaced below; a thread must not swallow it
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert env.log.size() == 60
    env.log.checkpoint()
    result = env.log.verify_all()
    assert result.ok, result.problems
    assert result.entries_checked == 60


def test_receipts(env: Env) -> None:
    doc = {"type": ["VerifiableCredential", "LaborContractCredential"], "credentialSubject": {"name": "홍길동"}}
    with db.transaction(env.sf) as s:
        r = env.log.append(s, "credential", merkle.document_digest(doc))
    assert env.log.receipt(r.index) is None  # pending: no checkpoint covers it yet
    _fill(env, 6)
    env.log.checkpoint()
    receipt = env.log.receipt(r.index)
    assert receipt is not None
    memory = InMemoryCheckpointMemory()

    def fetch(origin: str, a: int, b: int) -> list[bytes]:
        return env.log.consistency_proof(a, b)

    cp = verify_receipt(receipt, doc, env.log.verifiers, memory=memory, fetch_consistency=fetch)
    assert cp.size == 7
    with pytest.raises(RegistryError, match="not the one logged"):
        verify_receipt(receipt, dict(doc, extra=1), env.log.verifiers, memory=None)
    _fill(env, 5)
    env.log.checkpoint()
    newer = env.log.receipt(r.index)
    assert newer is not None
    assert verify_receipt(newer, doc, env.log.verifiers, memory=memory, fetch_consistency=fetch).size == 12
    with pytest.raises(NotFound):
        env.log.receipt(99)



def test_maybe_checkpoint_policy(db_url: str) -> None:
    db.migrate("registry", db_url)
    engine = db.make_engine(db_url)
    now = [0.0]
    seen: list[Checkpoint] = []
    log = Log(
        db.session_factory(engine), origin=ORIGIN, signer=KEY, checkpoint_every=3, checkpoint_seconds=10,
        on_checkpoint=seen.append, monotonic=lambda: now[0],
    )
    try:
        env = Env(engine, db.session_factory(engine), log)
        _fill(env, 2)
        assert log.maybe_checkpoint() is None  # 2 < 3 entries and no time passed
        _fill(env, 1)
        cp = log.maybe_checkpoint()
        assert cp is not None and cp.size == 3 and seen == [cp]
        _fill(env, 1)
        assert log.maybe_checkpoint() is None
        now[0] += 11
        cp2 = log.maybe_checkpoint()
        assert cp2 is not None and cp2.size == 4
        now[0] += 11
        assert log.maybe_checkpoint() is None  # no growth, no new checkpoint
    finally:
        engine.dispose()


def test_background_thread_checkpoints_and_stops(env: Env) -> None:
    env.log.checkpoint_seconds = 0.05
    _fill(env, 1)
    env.log.start_background(interval=0.02)
    try:
        for _ in range(200):
            cp = env.log.latest_checkpoint()
            if cp is not None and cp.size == 1:
                break
            threading.Event().wait(0.02)
        assert cp is not None and cp.size == 1
    finally:
        env.log.stop_background()
    assert not any(t.name == "registry-checkpoint" for t in threading.enumerate())


# --- tampering: `verify_all` (what `workcred registry verify` runs) ------------------------------


def test_rewritten_digest_is_found_at_its_index(env: Env) -> None:
    _fill(env, 20, checkpoint_at=(8, 20))
    env.sql("UPDATE log_entry SET digest = :d WHERE idx = 13", d=_digest(999))
    result = env.log.verify_all()
    assert not result.ok and result.first_bad_index == 13
    assert any("entry 13: leaf hash does not match" in p for p in result.problems)


def test_consistently_rewritten_row_breaks_the_tree(env: Env) -> None:
    _fill(env, 20, checkpoint_at=(8, 20))
    with env.sf() as s:
        salt = bytes(s.execute(text("SELECT salt FROM log_entry WHERE idx = 13")).scalar_one())
    leaf = merkle.entry_leaf_hash("credential", salt, _digest(999))
    env.sql("UPDATE log_entry SET digest = :d, leaf_hash = :h WHERE idx = 13", d=_digest(999), h=leaf)
    result = env.log.verify_all()
    assert result.first_bad_index == 12  # the pair (12, 13) no longer hashes to its stored subtree
    assert any("entries 12..13" in p for p in result.problems)
    assert any("checkpoint of size 20" in p for p in result.problems)


def test_deleted_row(env: Env) -> None:
    _fill(env, 20, checkpoint_at=(20,))
    env.sql("DELETE FROM log_entry WHERE idx = 5")
    result = env.log.verify_all()
    assert result.first_bad_index == 5
    assert any("entry index 6 where 5 was expected" in p for p in result.problems)


def test_deleted_tail_is_caught_by_checkpoint(env: Env) -> None:
    _fill(env, 20, checkpoint_at=(20,))
    env.sql("DELETE FROM log_entry WHERE idx >= 18")
    result = env.log.verify_all()
    assert result.first_bad_index == 18
    assert any("checkpoint of size 20 exists but the log has only 18" in p for p in result.problems)


def test_reordered_rows(env: Env) -> None:
    _fill(env, 16, checkpoint_at=(16,))
    # swap the contents of rows 3 and 4 (each row stays internally consistent)
    env.sql("UPDATE log_entry SET idx = 1000 WHERE idx = 3")
    env.sql("UPDATE log_entry SET idx = 3 WHERE idx = 4")
    env.sql("UPDATE log_entry SET idx = 4 WHERE idx = 1000")
    result = env.log.verify_all()
    assert result.first_bad_index == 2  # subtree (2, 3) is the first to disagree
    assert any("entries 2..3" in p for p in result.problems)


def test_inserted_row(env: Env) -> None:
    _fill(env, 12, checkpoint_at=(12,))
    for i in range(11, 5, -1):  # shift 6.. up by one to make room
        env.sql("UPDATE log_entry SET idx = :n WHERE idx = :o", n=i + 1, o=i)
    salt = b"\x09" * 32
    env.sql(
        "INSERT INTO log_entry (idx, type, salt, digest, leaf_hash, created_at) "
        "VALUES (6, 'credential', :s, :d, :h, CURRENT_TIMESTAMP)",
        s=salt, d=_digest(555), h=merkle.entry_leaf_hash("credential", salt, _digest(555)),
    )
    result = env.log.verify_all()
    assert result.first_bad_index == 6
    assert any("the log says it has 12 entries; 13 found" in p for p in result.problems)


def test_fork_two_checkpoints_of_one_size(env: Env) -> None:
    _fill(env, 10, checkpoint_at=(4, 10))
    assert env.log.verify_all().ok
    # a second, validly signed checkpoint of size 10 with another root (the log's key was misused)
    fork = sign_checkpoint(Checkpoint(ORIGIN, 10, merkle.leaf_hash(b"fork")), ORIGIN, KEY)
    result = env.log.verify_all(observed_notes=[fork])
    assert not result.ok and result.first_bad_index == 4
    assert any("observed checkpoint of size 10" in p and "fork" in p for p in result.problems)
    # and the same fork written into the table in place of the real one
    env.sql("UPDATE log_checkpoint SET root = :r, note = :n WHERE size = 10", r=merkle.leaf_hash(b"fork"), n=fork)
    stored = env.log.verify_all()
    assert stored.first_bad_index == 4
    assert any("stored checkpoint of size 10" in p for p in stored.problems)
    assert any("checkpoints 4 and 10 are not consistent" in p for p in stored.problems)


def test_forged_checkpoint_signature(env: Env) -> None:
    _fill(env, 6, checkpoint_at=(6,))
    other = Ed25519KeyPair.generate()
    with env.sf() as s:
        root = bytes(s.execute(text("SELECT root FROM log_checkpoint WHERE size = 6")).scalar_one())
    env.sql("UPDATE log_checkpoint SET note = :n WHERE size = 6",
            n=sign_checkpoint(Checkpoint(ORIGIN, 6, root), ORIGIN, other))
    result = env.log.verify_all()
    assert not result.ok
    assert any("stored checkpoint 6" in p and "trusted registry key" in p for p in result.problems)


def test_tampered_subtree_hash(env: Env) -> None:
    _fill(env, 8, checkpoint_at=(8,))
    env.sql("UPDATE log_node SET hash = :h WHERE id = :i", h=b"\x00" * 32, i=(2 << 40) | 1)
    result = env.log.verify_all()
    assert result.first_bad_index == 4
    with pytest.raises(RegistryError):  # proofs built from the bad node do not verify
        index, proof = env.log.inclusion_proof(env.log.entry(0).leaf_hash, 8)
        merkle.verify_inclusion(env.log.entry(0).leaf_hash, index, 8, proof, env.log.checkpoint().root)


def test_registry_verify_misses_a_deleted_checkpoint_row(env: Env) -> None:
    """Regression: deleting a row of the checkpoint table went unnoticed; each checkpoint now names the one
    before it in a signed extension line."""
    _fill(env, 12, checkpoint_at=(4, 8, 12))
    assert env.log.verify_all().ok
    env.sql("DELETE FROM log_checkpoint WHERE size = 8")
    result = env.log.verify_all()
    assert not result.ok
    assert any("follows checkpoint 8, which is missing" in p for p in result.problems), result.problems
    assert result.first_bad_index == 7


def test_registry_verify_says_how_many_entries_no_checkpoint_covers(env: Env) -> None:
    """Regression: rows rewritten after the last checkpoint with the tree rebuilt cannot show (no signature
    covers them): `verify` says how many entries that is."""
    _fill(env, 10, checkpoint_at=(4, 8))
    result = env.log.verify_all()
    assert result.ok and (result.covered, result.uncovered) == (8, 2)
    env.log.checkpoint()
    assert env.log.verify_all().uncovered == 0
