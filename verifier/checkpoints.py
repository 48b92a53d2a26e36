"""The split-view memory in the verifier's database: the newest registry checkpoint seen per log.

`agents.receipts.CheckpointMemory.observe` decides (same size: same root; a different size: a
consistency proof); this class only says where the memory lives. It is fed by the verifier's
`agents.receipts.RegistryView` with the registry's latest checkpoint only (never a credential's), so
every proof it asks for is between two sizes the verifier chose. Every gunicorn worker shares the
one row per log and it survives restarts, so a registry showing one history to this verifier today
and another tomorrow (or one to each worker) is caught. Writes are compare-and-swap against what
`observe` read, so two workers racing cannot overwrite each other: the loser observes again.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from agents.checkpoint import Checkpoint
from agents.errors import RegistryError
from agents.receipts import CheckpointMemory, ConsistencyFetcher
from web.db import transaction

from .models import SeenCheckpoint

__all__ = ["DbCheckpointMemory"]

#: a race is lost only when another worker wrote in between: a few retries always settle it
RETRIES = 5


class _Raced(Exception):
    """Another worker changed the remembered checkpoint between our read and our write."""


class DbCheckpointMemory(CheckpointMemory):
    """The remembered checkpoint per origin, in the `seen_checkpoint` table."""

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        super().__init__()
        self._sf = session_factory
        self._read = threading.local()  # what this thread's `observe` last read, for the CAS in `put`

    def get(self, origin: str) -> Checkpoint | None:
        with self._sf() as s:
            row = s.get(SeenCheckpoint, origin)
            found = (row.size, bytes(row.root)) if row is not None else None
        self._read.value = (origin, found)
        return Checkpoint(origin, found[0], found[1]) if found else None

    def put(self, cp: Checkpoint) -> None:
        origin, expected = getattr(self._read, "value", (cp.origin, None))
        if origin != cp.origin:
            expected = None
        try:
            with transaction(self._sf) as s:
                if expected is None:
                    s.add(SeenCheckpoint(origin=cp.origin, size=cp.size, root=cp.root, seen_at=datetime.now(UTC)))
                    return
                n = s.execute(
                    update(SeenCheckpoint)
                    .where(SeenCheckpoint.origin == cp.origin, SeenCheckpoint.size == expected[0], SeenCheckpoint.root == expected[1])
                    .values(size=cp.size, root=cp.root, seen_at=datetime.now(UTC))
                ).rowcount  # type: ignore[attr-defined]
                if n != 1:
                    raise _Raced()
        except IntegrityError:
            raise _Raced() from None

    def observe(self, cp: Checkpoint, fetch_consistency: ConsistencyFetcher | None) -> None:
        """As `CheckpointMemory.observe`; when another worker wrote first, decide again against its row."""
        for _ in range(RETRIES):
            try:
                super().observe(cp, fetch_consistency)
                return
            except _Raced:
                continue
        raise RegistryError(
            "the checkpoint memory kept changing while it was being updated",
            message_ko="체크포인트 기록이 갱신 중에 계속 바뀌었습니다. 잠시 후 다시 확인해 주세요",
        )
