"""The registry's append-only log: RFC 6962 Merkle tree in SQL, C2SP signed checkpoints, proofs, receipts.

Appends run inside the caller's transaction (`Log.append(session, ...)`), so a VDR row and its log
entry commit or roll back together. Each append first updates the single `log_state` row: on PostgreSQL
that row lock, on SQLite the database write lock, serialises index allocation until the transaction ends.
"""

from __future__ import annotations

import base64
import binascii
import logging
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, bindparam, func, insert, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from agents import merkle
from agents.checkpoint import (
    ALG_COSIGNATURE_V1,
    Checkpoint,
    NoteKey,
    RetiredKey,
    add_signature,
    key_hash,
    merge_verifiers,
    open_note,
    parse_and_verify,
    sign_checkpoint,
)
from agents.errors import Error, KeyError_, NotFound, RegistryError
from agents.keys import Ed25519KeyPair, Ed25519PublicMultikey
from agents.korean import josa
from agents.multibase import b64url
from agents.receipts import Receipt
from web.db import transaction

from .models import NODE_INDEX_BITS, LogAnchor, LogCheckpoint, LogEntry, LogNode, LogState, node_id

log = logging.getLogger(__name__)

DEFAULT_ORIGIN = "registry.workcred.seoul.go.kr/log"
STATE_ID = 1
_IN_BATCH = 500  # bound on bound parameters per IN (...) query
_MAX_PROBLEMS = 100
#: the checkpoint extension line naming the previous checkpoint's size (C2SP tlog-checkpoint extension)
PREVIOUS_EXTENSION = "workcred-previous "

# Core statements built once: proofs run a handful of these, and ORM statement building would dominate
_ENTRY = LogEntry.__table__.c
_NODE = LogNode.__table__.c
_SQL_SIZE = select(LogState.__table__.c.size).where(LogState.__table__.c.id == STATE_ID)
_SQL_INDEX_OF_LEAF = select(_ENTRY.idx).where(_ENTRY.leaf_hash == bindparam("leaf"))
_SQL_LEAVES = select(_ENTRY.idx, _ENTRY.leaf_hash).where(_ENTRY.idx.in_(bindparam("ids", expanding=True)))
_SQL_NODES = select(_NODE.id, _NODE.hash).where(_NODE.id.in_(bindparam("ids", expanding=True)))
_SQL_BY_DIGEST = select(_ENTRY.idx, _ENTRY.type, _ENTRY.salt, _ENTRY.digest, _ENTRY.leaf_hash).where(
    _ENTRY.digest.in_(bindparam("digests", expanding=True))
)
_SQL_SALTS = select(_ENTRY.idx, _ENTRY.type, _ENTRY.salt).where(_ENTRY.idx.in_(bindparam("ids", expanding=True)))


@dataclass(frozen=True)
class AppendResult:
    """Where a leaf landed: its index, the random salt (goes into the holder's receipt) and its leaf hash."""

    index: int
    salt: bytes
    leaf_hash: bytes


@dataclass(frozen=True)
class EntryInfo:
    """The public view of one entry (no salt, no digest)."""

    index: int
    type: str
    leaf_hash: bytes
    created_at: datetime


@dataclass(frozen=True)
class VerifyResult:
    """Outcome of re-verifying the whole log; `first_bad_index` is None when everything holds."""

    size: int
    entries_checked: int
    nodes_checked: int
    checkpoints_checked: int
    first_bad_index: int | None
    problems: tuple[str, ...]
    #: the size of the last stored checkpoint: entries past it are not yet covered by any signature
    covered: int = 0

    @property
    def uncovered(self) -> int:
        """Entries after the last checkpoint: no signature covers them yet, so a rewrite of them cannot show."""
        return self.size - self.covered

    @property
    def ok(self) -> bool:
        return self.first_bad_index is None and not self.problems


@dataclass(frozen=True)
class SignedCheckpoint:
    """A stored checkpoint as the registry's page shows it."""

    size: int
    root: bytes
    signed_at: datetime
    witnesses: tuple[str, ...]  # names of the configured witnesses that cosigned it


class Log:
    """The log over one database: append, checkpoint, prove, verify."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        *,
        origin: str,
        signer: Ed25519KeyPair,
        checkpoint_every: int = 256,
        checkpoint_seconds: float = 2.0,
        on_checkpoint: Callable[[Checkpoint], None] | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        monotonic: Callable[[], float] = time.monotonic,
        retired_keys: Sequence[RetiredKey] = (),
    ) -> None:
        Checkpoint(origin, 0, merkle.EMPTY_ROOT)  # validates the origin line
        self._sf = session_factory
        self.origin = origin
        self.key_name = origin  # C2SP: a log's key name is its origin
        self._signer = signer
        if any(k.public == signer.public for k in retired_keys):
            raise KeyError_(
                "the registry's signing key is listed as retired (WORKCRED_REGISTRY_RETIRED_KEYS)",
                message_ko="등록소 서명 키가 폐기된 키 목록(WORKCRED_REGISTRY_RETIRED_KEYS)에 있습니다",
            )
        #: rotated-out checkpoint keys, oldest first: their checkpoints still verify up to their last size
        self.retired_keys = tuple(retired_keys)
        self.checkpoint_every = max(1, checkpoint_every)
        self.checkpoint_seconds = checkpoint_seconds
        self._on_checkpoint = on_checkpoint
        self._clock = clock
        self._monotonic = monotonic
        self._last_checkpoint_at = monotonic()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def session_factory(self) -> sessionmaker[Session]:
        return self._sf

    @property
    def public_key(self) -> Ed25519PublicMultikey:
        return self._signer.public

    @property
    def verifiers(self) -> dict[str, tuple[NoteKey, ...]]:
        """The log's current key and its retired keys, as `parse_and_verify` takes them."""
        return merge_verifiers({self.key_name: self._signer.public}, {self.key_name: self.retired_keys})

    # --- appending --------------------------------------------------------------------------------

    def append(self, session: Session, type_tag: str, document_digest: bytes) -> AppendResult:
        """Append one entry in the caller's transaction; visible (and provable) once it commits."""
        return self.append_many(session, [(type_tag, document_digest)])[0]

    def append_many(self, session: Session, items: Sequence[tuple[str, bytes]]) -> list[AppendResult]:
        """Append entries `(type_tag, document_digest)` in order, in the caller's transaction (bulk path)."""
        if not items:
            return []
        salts = [secrets.token_bytes(merkle.SALT_SIZE) for _ in items]
        leaves = [merkle.entry_leaf_hash(t, s, d) for (t, d), s in zip(items, salts, strict=True)]
        # 1. take the log's write lock and reserve the indices in one statement
        size, frontier = self._lock_state(session, len(items))
        start = size - len(items)
        # 2. extend the compact range, collecting every perfect subtree the new leaves complete
        nodes: list[dict[str, object]] = []
        stack = frontier
        for offset, leaf in enumerate(leaves):
            stack, done = merkle.frontier_append(stack, start + offset, leaf)
            nodes.extend({"id": node_id(lv, ix), "hash": h} for lv, ix, h in done)
        now = self._clock()
        session.execute(
            insert(LogEntry),
            [
                {"index": start + i, "type": t, "salt": s, "digest": d, "leaf_hash": h, "created_at": now}
                for i, ((t, d), s, h) in enumerate(zip(items, salts, leaves, strict=True))
            ],
        )
        if nodes:
            session.execute(insert(LogNode), nodes)
        session.execute(
            update(LogState).where(LogState.id == STATE_ID).values(frontier=b"".join(stack))
        )
        return [AppendResult(start + i, s, h) for i, (s, h) in enumerate(zip(salts, leaves, strict=True))]

    def append_once(self, session: Session, items: Sequence[tuple[str, bytes]]) -> list[tuple[AppendResult, bool]]:
        """Like `append_many`, but an item whose (type, digest) is already logged returns that entry.

        The bulk issuer's crash safety: it stores a signed credential before logging it, and on a
        resume sends the same digests again; each gets exactly one leaf. Returns (result, created).
        """
        if not items:
            return []
        existing: dict[tuple[str, bytes], AppendResult] = {}
        digests = sorted({d for _, d in items})
        for start in range(0, len(digests), _IN_BATCH):
            for idx, t, salt, d, h in session.execute(
                _SQL_BY_DIGEST, {"digests": digests[start : start + _IN_BATCH]}
            ):
                existing.setdefault((str(t), bytes(d)), AppendResult(int(idx), bytes(salt), bytes(h)))
        fresh = list(dict.fromkeys(item for item in items if item not in existing))
        created = dict(zip(fresh, self.append_many(session, fresh), strict=True))
        return [(existing[i], False) if i in existing else (created[i], True) for i in items]

    def receipts(self, indexes: Sequence[int]) -> list[Receipt | None]:
        """`receipt(i)` for many entries against one checkpoint, their proof nodes read together."""
        with self._sf() as s:
            cp_row = s.execute(
                select(LogCheckpoint).order_by(LogCheckpoint.size.desc()).limit(1)
            ).scalar_one_or_none()
            size = cp_row.size if cp_row is not None else 0
            covered = sorted({i for i in indexes if 0 <= i < size})
            conn = s.connection()
            rows: dict[int, tuple[str, bytes]] = {}
            for chunk in _chunks(covered):
                for idx, t, salt in conn.execute(_SQL_SALTS, {"ids": list(chunk)}):
                    rows[int(idx)] = (str(t), bytes(salt))
            wanted = {n for i in covered for n in merkle.inclusion_nodes(i, size)}
            nodes = self._fetch_nodes(conn, wanted)
        out: list[Receipt | None] = []
        for i in indexes:
            if i not in rows or cp_row is None:
                out.append(None)
                continue
            proof = merkle.inclusion_proof(i, size, _getter(nodes))
            t, salt = rows[i]
            out.append(
                Receipt(
                    origin=self.origin,
                    index=i,
                    type=t,
                    salt=b64url(salt),
                    inclusionProof=tuple(b64url(p) for p in proof),
                    checkpoint=cp_row.note,
                )
            )
        return out

    def _lock_state(self, session: Session, grow: int) -> tuple[int, list[bytes]]:
        """`UPDATE log_state SET size = size + grow ... RETURNING`: the lock is held until commit."""
        row = session.execute(
            update(LogState)
            .where(LogState.id == STATE_ID)
            .values(size=LogState.size + grow)
            .returning(LogState.size, LogState.frontier)
        ).one_or_none()
        if row is None:
            raise RegistryError(
                "the log is not initialised (run the registry migrations)",
                message_ko="등록소 로그가 초기화되지 않았습니다",
            )
        size, blob = int(row[0]), bytes(row[1] or b"")
        return size, [blob[i : i + 32] for i in range(0, len(blob), 32)]

    # --- checkpoints ------------------------------------------------------------------------------

    def checkpoint(self) -> Checkpoint:
        """Sign a checkpoint of the current tree if it grew since the last one; return the latest."""
        with transaction(self._sf) as s:
            size, frontier = self._lock_state(s, 0)
            latest = s.execute(
                select(LogCheckpoint).order_by(LogCheckpoint.size.desc()).limit(1)
            ).scalar_one_or_none()
            if latest is not None and latest.size >= size:
                return Checkpoint(self.origin, latest.size, bytes(latest.root), _extensions(latest.note))
            # each checkpoint names the one before it, so `verify` notices a checkpoint row deleted since
            cp = Checkpoint(self.origin, size, merkle.frontier_root(frontier), (f"{PREVIOUS_EXTENSION}{latest.size if latest else 0}",))
            note = sign_checkpoint(cp, self.key_name, self._signer)
            s.add(LogCheckpoint(size=cp.size, root=cp.root, note=note, created_at=self._clock()))
        self._last_checkpoint_at = self._monotonic()
        if self._on_checkpoint is not None:
            self._on_checkpoint(cp)
        return cp

    def countersign_latest(self, signer: Ed25519KeyPair) -> str:
        """Add `signer`'s signature to the newest stored checkpoint (the hand-over of a key rotation).

        The body is unchanged, so clients that know only the old key and clients that know only the
        new one both accept this checkpoint. Idempotent.
        """
        with transaction(self._sf) as s:
            row = s.execute(
                select(LogCheckpoint).order_by(LogCheckpoint.size.desc()).limit(1).with_for_update()
            ).scalar_one_or_none()
            if row is None:
                raise NotFound("the log has no checkpoint yet", message_ko="아직 체크포인트가 없습니다")
            wanted = key_hash(self.key_name, signer.public)
            parse_and_verify(row.note, self.verifiers)  # never countersign a note that does not verify
            if not _signed_by(row.note, self.key_name, wanted):
                row.note = add_signature(row.note, self.key_name, signer)
            return row.note

    def add_cosignatures(self, cosigned: str, witnesses: Mapping[str, Ed25519PublicMultikey]) -> str:
        """Store the witness cosignatures (C2SP tlog-cosignature/v1) found on a copy of one of our checkpoints.

        `cosigned` is a checkpoint this log signed, with cosignature lines appended; each line by a
        configured witness must verify, and at least one must be present. A witness's newer cosignature
        replaces its older one. Returns the stored note, as GET /log/checkpoint serves it.
        """
        cp = parse_and_verify(cosigned, self.verifiers)
        body = open_note(cosigned, self.verifiers)
        lines: dict[str, str] = {}
        for name, public in witnesses.items():
            wanted = key_hash(name, public, ALG_COSIGNATURE_V1)
            found = [line for line in _signature_lines(cosigned) if _line_key(line) == (name, wanted)]
            if found:
                # raises unless this witness's cosignature verifies over this very body
                open_note(cosigned, self.verifiers, witnesses={name: public}, witness_quorum=1)
                lines[name] = found[-1]
        if not lines:
            raise RegistryError(
                "no cosignature by a configured witness", message_ko="설정된 증인의 서명이 없습니다"
            )
        with transaction(self._sf) as s:
            row = s.get(LogCheckpoint, cp.size, with_for_update=True)
            if row is None or not row.note.startswith(body + "\n"):  # the very text this log signed
                raise RegistryError(
                    "this log never signed that checkpoint", message_ko="이 로그가 서명한 체크포인트가 아닙니다"
                )
            kept = [
                line for line in _signature_lines(row.note)
                if not any(_line_key(line) == (n, key_hash(n, witnesses[n], ALG_COSIGNATURE_V1)) for n in lines)
            ]
            row.note = body + "\n" + "".join(line + "\n" for line in [*kept, *lines.values()])
            return row.note

    def maybe_checkpoint(self) -> Checkpoint | None:
        """Checkpoint when `checkpoint_every` entries or `checkpoint_seconds` have passed since the last."""
        with self._sf() as s:
            size = s.scalar(select(LogState.size).where(LogState.id == STATE_ID)) or 0
            done = s.scalar(select(func.max(LogCheckpoint.size)))
        if done is not None and size <= done:
            return None
        grown = size - (done or 0)
        if grown >= self.checkpoint_every or self._monotonic() - self._last_checkpoint_at >= self.checkpoint_seconds:
            try:
                return self.checkpoint()
            except IntegrityError:  # another process signed this size first
                return None
        return None

    def latest_checkpoint(self) -> Checkpoint | None:
        note = self.latest_note()
        return None if note is None else parse_and_verify(note, self.verifiers)

    def latest_signed(self, witnesses: Mapping[str, Ed25519PublicMultikey]) -> SignedCheckpoint | None:
        """The newest checkpoint with when it was signed and which of `witnesses` cosigned it (for people)."""
        with self._sf() as s:
            row = s.execute(
                select(LogCheckpoint).order_by(LogCheckpoint.size.desc()).limit(1)
            ).scalar_one_or_none()
            if row is None:
                return None
            # cosignature lines were verified when they were stored (add_cosignatures)
            keys = {_line_key(line) for line in _signature_lines(row.note)}
            cosigned = tuple(
                name for name, public in witnesses.items()
                if (name, key_hash(name, public, ALG_COSIGNATURE_V1)) in keys
            )
            return SignedCheckpoint(int(row.size), bytes(row.root), row.created_at, cosigned)

    def latest_note(self) -> str | None:
        """The newest signed checkpoint note, as served at GET /log/checkpoint."""
        with self._sf() as s:
            return s.scalar(select(LogCheckpoint.note).order_by(LogCheckpoint.size.desc()).limit(1))

    # --- reading and proving ----------------------------------------------------------------------

    def size(self) -> int:
        with self._sf() as s:
            return int(s.scalar(select(LogState.size).where(LogState.id == STATE_ID)) or 0)

    def entry(self, index: int) -> EntryInfo:
        with self._sf() as s:
            row = s.get(LogEntry, index)
            if row is None:
                raise NotFound(f"no log entry {index}", message_ko=f"로그 항목 {josa(str(index), '이')} 없습니다")
            return EntryInfo(row.index, row.type, bytes(row.leaf_hash), row.created_at)

    def inclusion_proof(self, leaf_hash: bytes, size: int) -> tuple[int, list[bytes]]:
        """(index, audit path) of the leaf with this hash in the tree of the first `size` leaves."""
        with self._sf() as s:
            conn = s.connection()
            self._check_tree_size(size, self._current_size(conn))
            index = conn.execute(_SQL_INDEX_OF_LEAF, {"leaf": leaf_hash}).scalar()
            if index is None:
                raise NotFound("no entry with this leaf hash", message_ko="해당 잎 해시의 항목이 없습니다")
            if index >= size:
                raise RegistryError(
                    f"entry {index} is not in the tree of size {size}",
                    message_ko="해당 항목은 요청한 크기의 트리에 포함되지 않습니다",
                )
            nodes = self._fetch_nodes(conn, merkle.inclusion_nodes(index, size))
            return index, merkle.inclusion_proof(index, size, _getter(nodes))

    def consistency_proof(self, size1: int, size2: int) -> list[bytes]:
        with self._sf() as s:
            conn = s.connection()
            self._check_tree_size(size2, self._current_size(conn))
            if not 0 <= size1 <= size2:
                raise RegistryError(
                    "first must be between 0 and second", message_ko="first는 0 이상 second 이하여야 합니다"
                )
            nodes = self._fetch_nodes(conn, merkle.consistency_nodes(size1, size2))
            return merkle.consistency_proof(size1, size2, _getter(nodes))

    def receipt(self, index: int) -> Receipt | None:
        """The holder's receipt for entry `index`, or None while no checkpoint covers it yet."""
        with self._sf() as s:
            row = s.get(LogEntry, index)
            if row is None:
                raise NotFound(f"no log entry {index}", message_ko=f"로그 항목 {josa(str(index), '이')} 없습니다")
            cp_row = s.execute(
                select(LogCheckpoint).order_by(LogCheckpoint.size.desc()).limit(1)
            ).scalar_one_or_none()
            if cp_row is None or cp_row.size <= index:
                return None
            nodes = self._fetch_nodes(s.connection(), merkle.inclusion_nodes(index, cp_row.size))
            proof = merkle.inclusion_proof(index, cp_row.size, _getter(nodes))
            return Receipt(
                origin=self.origin,
                index=index,
                type=row.type,
                salt=b64url(bytes(row.salt)),
                inclusionProof=tuple(b64url(p) for p in proof),
                checkpoint=cp_row.note,
            )

    @staticmethod
    def _current_size(conn: Connection) -> int:
        return int(conn.execute(_SQL_SIZE).scalar() or 0)

    @staticmethod
    def _check_tree_size(size: int, current: int) -> None:
        if not 0 <= size <= current:
            raise RegistryError(
                f"tree size {size} is beyond the log (size {current})",
                message_ko=f"트리 크기 {size}은(는) 현재 로그 크기({current})를 넘습니다",
            )

    @staticmethod
    def _fetch_nodes(conn: Connection, ids: Iterable[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
        """All requested perfect subtrees in at most a few queries (leaves from log_entry, the rest from log_node)."""
        wanted = set(ids)
        leaves = sorted(ix for lv, ix in wanted if lv == 0)
        inner = sorted(node_id(lv, ix) for lv, ix in wanted if lv > 0)
        out: dict[tuple[int, int], bytes] = {}
        for chunk in _chunks(leaves):
            for ix, h in conn.execute(_SQL_LEAVES, {"ids": list(chunk)}):
                out[(0, int(ix))] = bytes(h)
        mask = (1 << NODE_INDEX_BITS) - 1
        for chunk in _chunks(inner):
            for nid, h in conn.execute(_SQL_NODES, {"ids": list(chunk)}):
                out[(int(nid) >> NODE_INDEX_BITS, int(nid) & mask)] = bytes(h)
        return out

    # --- background checkpointing -----------------------------------------------------------------

    def start_background(self, interval: float | None = None) -> None:
        """Start the daemon thread that checkpoints every `checkpoint_seconds` (idempotent)."""
        if self._thread is not None:
            return
        self._stop.clear()
        period = interval if interval is not None else max(0.05, min(self.checkpoint_seconds, 1.0))
        self._thread = threading.Thread(target=self._run, args=(period,), name="registry-checkpoint", daemon=True)
        self._thread.start()

    def stop_background(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self, period: float) -> None:
        while not self._stop.wait(period):
            try:
                self.maybe_checkpoint()
            except (SQLAlchemyError, Error):  # keep the timer alive across a transient database error
                log.exception("background checkpoint failed")

    # --- full verification ------------------------------------------------------------------------

    def verify_all(self, observed_notes: Iterable[str] = (), chunk: int = 4096) -> VerifyResult:
        """Re-verify the whole log from entry 0; see `registry verify`.

        Checks every leaf hash against (type, salt, digest), every stored subtree hash, the stored size and
        right edge, every checkpoint's signature and root, consistency proofs between consecutive
        checkpoints, and any `observed_notes` (checkpoints seen elsewhere: receipts, witnesses, a chain).
        """
        v = _Verifier(self)
        with self._sf() as s:
            checkpoints = list(s.execute(select(LogCheckpoint).order_by(LogCheckpoint.size)).scalars())
            v.expect_checkpoints([(c.size, bytes(c.root), c.note, "stored") for c in checkpoints])
            for note in observed_notes:
                try:
                    cp = parse_and_verify(note, self.verifiers)
                except RegistryError as e:
                    v.problem(None, f"observed checkpoint rejected: {e.message}")
                    continue
                v.expect_checkpoints([(cp.size, cp.root, note, "observed")])
            v.check_chain(checkpoints)
            anchored = s.execute(select(LogAnchor.size).where(LogAnchor.size.not_in([c.size for c in checkpoints]))).scalars()
            for size in anchored:
                v.problem(size - 1 if size else 0, f"checkpoint {size} was anchored on the chain but its row is missing (deleted?)")
            v.check_root(0)
            stmt = select(LogEntry).order_by(LogEntry.index).execution_options(yield_per=chunk)
            for row in s.execute(stmt).scalars():
                v.entry(row.index, row.type, bytes(row.salt), bytes(row.digest), bytes(row.leaf_hash))
                if len(v.pending_nodes) >= chunk:
                    v.compare_nodes(s)
            v.compare_nodes(s)
            v.finish(s)
            pairs = [c for c in checkpoints if c.size <= v.size]
            for a, b in zip(pairs, pairs[1:], strict=False):
                try:
                    nodes = self._fetch_nodes(s.connection(), merkle.consistency_nodes(a.size, b.size))
                    proof = merkle.consistency_proof(a.size, b.size, _getter(nodes))
                    merkle.verify_consistency(a.size, b.size, bytes(a.root), bytes(b.root), proof)
                except RegistryError as e:
                    v.problem(a.size, f"checkpoints {a.size} and {b.size} are not consistent: {e.message}")
        return v.result()


class _Verifier:
    """State of one `verify_all` pass: the recomputed tree and what it must match."""

    def __init__(self, owner: Log) -> None:
        self.owner = owner
        self.size = 0
        self.frontier: list[bytes] = []
        self.pending_nodes: dict[int, tuple[int, bytes]] = {}  # node id -> (first leaf, hash)
        self.nodes_checked = 0
        self.checkpoints: dict[int, list[tuple[bytes, str, str]]] = {}
        self.checkpoints_checked = 0
        self.last_good_checkpoint = 0
        self.root_mismatches: list[tuple[int, int, str]] = []
        self.bad_nodes: set[int] = set()
        self.first_bad: int | None = None
        self.problems: list[str] = []

    def problem(self, index: int | None, text: str) -> None:
        if index is not None and (self.first_bad is None or index < self.first_bad):
            self.first_bad = index
        if len(self.problems) < _MAX_PROBLEMS:
            self.problems.append(text)

    def expect_checkpoints(self, items: Iterable[tuple[int, bytes, str, str]]) -> None:
        for size, root, note, source in items:
            if source == "stored":
                try:
                    cp = parse_and_verify(note, self.owner.verifiers)
                    if (cp.origin, cp.size, cp.root) != (self.owner.origin, size, root):
                        raise RegistryError("the signed note does not match the stored size and root")
                except RegistryError as e:
                    self.problem(size - 1 if size else 0, f"stored checkpoint {size}: {e.message}")
                    continue
            self.checkpoints.setdefault(size, []).append((root, note, source))

    def check_chain(self, checkpoints: Sequence[LogCheckpoint]) -> None:
        """Each signed checkpoint names the stored one before it (`workcred-previous <size>`): a name that
        is not the previous row means a checkpoint row was deleted (notes signed before the line: skipped)."""
        before = 0
        for row in checkpoints:
            named = _previous_size(row.note)
            if named is not None and named != before:
                if named > before:
                    self.problem(named - 1 if named else 0, f"stored checkpoint {row.size} follows checkpoint {named}, which is missing from the checkpoint table (deleted?)")
                else:
                    self.problem(before - 1, f"stored checkpoint {row.size} follows checkpoint {named}, but checkpoint {before} is stored between them")
            before = row.size

    def check_root(self, size: int) -> None:
        expected = self.checkpoints.get(size)
        if not expected:
            return
        root = merkle.frontier_root(self.frontier)
        for cp_root, _note, source in expected:
            self.checkpoints_checked += 1
            if cp_root != root:
                # blamed in `finish` unless an entry or subtree problem below `size` explains it
                self.root_mismatches.append((size, self.last_good_checkpoint, source))
                return
        self.last_good_checkpoint = size

    def entry(self, index: int, type_tag: str, salt: bytes, digest: bytes, stored_leaf: bytes) -> None:
        if index != self.size:
            # a gap (deleted row) or a row outside the sequence: report the first index out of place
            self.problem(min(index, self.size), f"entry index {index} where {self.size} was expected")
            if index < self.size:
                return
        try:
            leaf = merkle.entry_leaf_hash(type_tag, salt, digest)
        except RegistryError as e:
            self.problem(index, f"entry {index}: {e.message}")
            leaf = stored_leaf
        if leaf != stored_leaf:
            self.problem(index, f"entry {index}: leaf hash does not match its type, salt and digest")
        # the tree is rebuilt from the stored leaf hashes: they are what the nodes and checkpoints commit to
        self.frontier, done = merkle.frontier_append(self.frontier, self.size, stored_leaf)
        for lv, ix, h in done:
            self.pending_nodes[node_id(lv, ix)] = (ix << lv, h)
        self.size += 1
        self.check_root(self.size)

    def compare_nodes(self, s: Session) -> None:
        ids = sorted(self.pending_nodes, key=lambda n: (n >> NODE_INDEX_BITS, n))  # children before parents
        for chunk in _chunks(ids):
            rows = s.connection().execute(_SQL_NODES, {"ids": list(chunk)}).all()
            stored = {int(r[0]): bytes(r[1]) for r in rows}
            for nid in chunk:
                first_leaf, h = self.pending_nodes[nid]
                self.nodes_checked += 1
                got = stored.get(nid)
                if got is not None and got == h:
                    continue
                self.bad_nodes.add(nid)
                level = nid >> NODE_INDEX_BITS
                last_leaf = first_leaf + (1 << level) - 1
                children = {node_id(level - 1, (first_leaf >> (level - 1)) + k) for k in (0, 1)} if level > 1 else set()
                explained = bool(children & self.bad_nodes) or (
                    self.first_bad is not None and first_leaf <= self.first_bad <= last_leaf
                )
                if explained:  # a consequence of a problem already reported below it
                    continue
                self.problem(
                    first_leaf,
                    f"stored subtree hash for entries {first_leaf}..{last_leaf} "
                    + ("is missing" if got is None else "does not match the entries"),
                )
        self.pending_nodes.clear()

    def finish(self, s: Session) -> None:
        state = s.get(LogState, STATE_ID)
        if state is None:
            self.problem(0, "the log state row is missing")
            return
        if state.size != self.size:
            self.problem(min(state.size, self.size), f"the log says it has {state.size} entries; {self.size} found")
        if bytes(state.frontier or b"") != b"".join(self.frontier):
            blame = self.last_good_checkpoint if self.first_bad is None else None  # else a consequence
            self.problem(blame, "the stored right edge of the tree does not match the entries")
        expected_nodes = sum(self.size >> lv for lv in range(1, max(self.size.bit_length(), 1) + 1))
        stored_nodes = int(s.scalar(select(func.count()).select_from(LogNode)) or 0)
        if stored_nodes != expected_nodes:
            self.problem(self.size, f"{stored_nodes} subtree hashes stored where {expected_nodes} were expected")
        for size, last_good, source in self.root_mismatches:
            if self.first_bad is None or self.first_bad >= size:
                self.problem(last_good, f"{source} checkpoint of size {size} has a root the entries do not produce "
                             f"(fork or rewritten history after index {last_good})")
            else:
                self.problem(None, f"{source} checkpoint of size {size} does not match (explained above)")
        for size in sorted(self.checkpoints):
            if size > self.size:
                self.problem(
                    self.size, f"a checkpoint of size {size} exists but the log has only {self.size} entries"
                )

    def result(self) -> VerifyResult:
        covered = max((size for size in self.checkpoints if size <= self.size), default=0)
        return VerifyResult(
            self.size, self.size, self.nodes_checked, self.checkpoints_checked, self.first_bad, tuple(self.problems),
            covered,
        )


def _extensions(note: str) -> tuple[str, ...]:
    """The extension lines of a signed checkpoint note (after origin, size and root)."""
    return tuple(note.partition("\n\n")[0].split("\n")[3:])


def _previous_size(note: str) -> int | None:
    """The size a checkpoint note names in its `workcred-previous` extension line, if it has one."""
    for line in _extensions(note):
        if line.startswith(PREVIOUS_EXTENSION) and line[len(PREVIOUS_EXTENSION) :].isdigit():
            return int(line[len(PREVIOUS_EXTENSION) :])
    return None


def _getter(nodes: dict[tuple[int, int], bytes]) -> merkle.GetNode:
    def get(level: int, index: int) -> bytes:
        try:
            return nodes[(level, index)]
        except KeyError:
            raise RegistryError(
                f"the log is missing subtree ({level}, {index}); run `workcred registry verify`",
                message_ko="로그의 트리 노드가 없습니다",
            ) from None

    return get


def _signature_lines(note: str) -> list[str]:
    """The signature lines of a signed note (after its blank line)."""
    tail = note.rpartition("\n\n")[2]
    return [line for line in tail.split("\n") if line]


def _line_key(line: str) -> tuple[str, bytes] | None:
    """(key name, key hash) of one signature line, or None when it is malformed."""
    name, _, blob = line.removeprefix("\u2014 ").rpartition(" ")
    try:
        return name, base64.b64decode(blob, validate=True)[:4]
    except (binascii.Error, ValueError):
        return None


def _signed_by(note: str, name: str, khash: bytes) -> bool:
    """True when the note already has a signature line by this key name and key hash."""
    prefix = f"\u2014 {name} "
    for line in note.split("\n"):
        if line.startswith(prefix):
            try:
                if base64.b64decode(line[len(prefix) :])[:4] == khash:
                    return True
            except (binascii.Error, ValueError):
                continue
    return False


def _chunks(items: Sequence[int]) -> Iterable[Sequence[int]]:
    for i in range(0, len(items), _IN_BATCH):
        yield items[i : i + _IN_BATCH]


@dataclass
class RegistryContext:
    """What the registry app shares with its blueprints: `current_app.extensions["registry"]`."""

    engine: Engine
    session_factory: sessionmaker[Session]
    log: Log
    api_tokens: tuple[str, ...]
    #: witnesses whose cosignatures the log accepts and serves (name -> key)
    witnesses: Mapping[str, Ed25519PublicMultikey] = field(default_factory=dict)

    def close(self) -> None:
        """Stop the checkpoint thread and release the database connections."""
        self.log.stop_background()
        self.engine.dispose()
