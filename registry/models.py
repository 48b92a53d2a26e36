"""Storage of the registry's append-only log (SQLAlchemy 2, typed); `Base` is shared by every registry model.

Tables:
- `log_entry`: one row per leaf (index, type tag, salt, document digest, leaf hash). The salt stays
  here and in the holder's receipt; the public API never serves it.
- `log_node`: hashes of the complete (perfect) subtrees of level >= 1, keyed by `node_id(level, index)`,
  so an inclusion or consistency proof reads O(log n) rows at any size.
- `log_state`: one row holding the tree size and its right-edge "compact range" (the perfect-subtree
  hashes along the right edge); updating it first serialises appends on SQLite and PostgreSQL.
- `log_checkpoint`: every signed checkpoint (C2SP signed note) the log has published.
- `log_anchor`: the checkpoints anchored on the EVM chain, with their transaction.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import BigInteger, DateTime, Integer, LargeBinary, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

#: leaves per level index stride in `node_id`: 2**40 leaves (~10^12) is far beyond any registry's life
NODE_INDEX_BITS = 40


def node_id(level: int, index: int) -> int:
    """Single integer key of the perfect subtree `index` at `level` (so a proof is one `IN (...)` query)."""
    return (level << NODE_INDEX_BITS) | index


def _now() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    """Declarative base of every registry table (the log here; DID hosting, status lists, trust list in vdr_*)."""


class LogEntry(Base):
    __tablename__ = "log_entry"

    index: Mapped[int] = mapped_column("idx", BigInteger, primary_key=True, autoincrement=False)
    type: Mapped[str] = mapped_column(String(32))
    salt: Mapped[bytes] = mapped_column(LargeBinary(32))
    #: indexed for `Log.append_once` (the bulk issuer's idempotent append)
    digest: Mapped[bytes] = mapped_column(LargeBinary(32), index=True)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


class LogNode(Base):
    __tablename__ = "log_node"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class LogState(Base):
    __tablename__ = "log_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    #: concatenated 32-byte hashes of the perfect subtrees on the right edge, largest first
    frontier: Mapped[bytes] = mapped_column(LargeBinary, default=b"")


class LogCheckpoint(Base):
    __tablename__ = "log_checkpoint"

    size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    root: Mapped[bytes] = mapped_column(LargeBinary(32))
    note: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


class LogAnchor(Base):
    """A checkpoint anchored on the EVM chain (absent: not anchored yet, `anchor --catch-up` retries it)."""

    __tablename__ = "log_anchor"

    size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    root: Mapped[bytes] = mapped_column(LargeBinary(32))
    tx_hash: Mapped[str] = mapped_column(String(66))
    anchored_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
