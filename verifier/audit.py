"""Write-behind audit trail for the VC-API: rows are grouped and inserted together.

One insert and commit per verification cost more than the verification itself (about 0.08 ms on
SQLite, a network round trip on PostgreSQL). `AuditWriter` keeps the rows of a short window and writes
them in one statement: every `FLUSH_SECONDS`, as soon as `FLUSH_ROWS` are waiting, when anyone reads
the trail, and when the service closes (a worker's graceful shutdown). A worker killed without a
shutdown loses at most the rows of the current window; a verification answer never waits for a write.
If the database refuses a write, the rows stay queued and are tried again; once `MAX_QUEUED` rows
wait, verification answers 503 (`Unavailable`) until the database takes them: nothing goes unrecorded.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import weakref
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine

from agents.errors import Unavailable

from .models import VerificationAudit

log = logging.getLogger(__name__)

FLUSH_SECONDS = 0.25
FLUSH_ROWS = 256
MAX_QUEUED = 100_000
COLUMNS = ("request_id", "kind", "verdict", "presentation_sha256", "created_at")


class AuditWriter:
    """Queue audit rows and insert them in groups (see the module docstring)."""

    def __init__(self, engine: Engine, *, flush_seconds: float = FLUSH_SECONDS, flush_rows: int = FLUSH_ROWS) -> None:
        self._engine = engine
        self._flush_seconds = flush_seconds
        self._flush_rows = flush_rows
        self._rows: list[dict[str, Any]] = []
        self._lock = threading.Lock()  # guards _rows
        self._write_lock = threading.Lock()  # one writer at a time, so rows land in order
        self._wake = threading.Event()
        self._closed = False
        self._pid = 0  # the process that started the flusher (a forked worker starts its own)
        # one driver-level executemany, each value put through the column type's own bind processor
        # (so it is stored exactly as an ORM insert would store it): SQLAlchemy's per-row machinery
        # cost about 7 us a row, held the GIL, and so delayed the answers being computed meanwhile
        columns = VerificationAudit.__table__.c
        dialect = engine.dialect
        marker = "?" if dialect.paramstyle == "qmark" else "%s"
        self._statement = (
            f"INSERT INTO {VerificationAudit.__tablename__} ({', '.join(COLUMNS)}) VALUES ({', '.join([marker] * len(COLUMNS))})"
        )
        self._processors = [columns[c].type.dialect_impl(dialect).bind_processor(dialect) for c in COLUMNS]
        _open_writers.add(self)

    def _values(self, row: dict[str, Any]) -> tuple[Any, ...]:
        return tuple(p(row[c]) if p is not None else row[c] for c, p in zip(COLUMNS, self._processors, strict=True))

    def add(self, row: dict[str, Any]) -> None:
        """Queue one row; it is written within `flush_seconds`."""
        with self._lock:
            if len(self._rows) >= MAX_QUEUED:
                # the database has refused writes for a long time: answer nothing rather than answer unrecorded
                raise Unavailable(
                    "the verifier cannot record verifications right now; try again shortly",
                    message_ko="검증 기록을 저장할 수 없어 잠시 검증을 멈췄습니다. 잠시 후 다시 시도하세요",
                    retry_after=30,
                )
            self._rows.append(row)
            n = len(self._rows)
        if self._closed:
            self.flush()
            return
        if self._pid != os.getpid():
            self._start()
        if n == 1 or n >= self._flush_rows:
            self._wake.set()  # the flusher writes, off the request's path (a full window at once)

    def queued(self) -> int:
        """How many rows wait to be written."""
        with self._lock:
            return len(self._rows)

    def flush(self) -> int:
        """Write every queued row now; returns how many were written (0 if the database refused)."""
        with self._write_lock:
            with self._lock:
                rows, self._rows = self._rows, []
            if not rows:
                return 0
            try:
                with self._engine.begin() as conn:
                    conn.exec_driver_sql(self._statement, [self._values(r) for r in rows])
            except Exception:
                log.exception("audit rows could not be written; they stay queued")
                with self._lock:
                    self._rows[:0] = rows
                self._wake.set()  # try again after the next window
                return 0
            return len(rows)

    def close(self) -> None:
        """Write what is queued; later rows are written as they come."""
        self._closed = True
        self._wake.set()
        self.flush()

    def _start(self) -> None:
        with self._lock:
            if self._pid == os.getpid():
                return
            self._pid = os.getpid()
        ref = weakref.ref(self)
        threading.Thread(target=_run, args=(ref, self._wake, self._flush_seconds), name="verifier-audit", daemon=True).start()


def _run(ref: Callable[[], AuditWriter | None], wake: threading.Event, seconds: float) -> None:
    while True:
        wake.wait()
        wake.clear()
        writer = ref()
        if writer is None or writer._closed:
            return
        full = writer.queued() >= writer._flush_rows
        del writer
        if not full:
            threading.Event().wait(seconds)  # let the window fill
        writer = ref()
        if writer is None:
            return
        writer.flush()
        del writer


_open_writers: weakref.WeakSet[AuditWriter] = weakref.WeakSet()


@atexit.register
def _flush_all() -> None:
    for writer in list(_open_writers):
        try:
            writer.flush()
        except Exception:  # at exit, a failed write is all that can be reported
            log.exception("audit rows could not be written at exit")
