"""Storage of the verifiable data registry: DID document versions, status lists, the trust list.

Every published version is kept (nothing is updated in place) together with the index of the log
leaf that was appended for it in the same transaction. Unique constraints carry the concurrency
rules: two publishers of "version n+1" of one DID or list cannot both succeed, and two
allocations of one status index cannot both succeed, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import BigInteger, DateTime, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .models import Base


def _now() -> datetime:
    return datetime.now(UTC)


class DidDocumentVersion(Base):
    """One signed version of a department's did:web document."""

    __tablename__ = "vdr_did_version"
    __table_args__ = (UniqueConstraint("department", "version", name="uq_vdr_did_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    department: Mapped[str] = mapped_column(String(63), index=True)
    version: Mapped[int] = mapped_column(Integer)
    document: Mapped[str] = mapped_column(Text)  # the signed JSON as published
    digest: Mapped[bytes] = mapped_column(LargeBinary(32))
    log_index: Mapped[int] = mapped_column(BigInteger, unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


class StatusListVersion(Base):
    """One signed version of a BitstringStatusListCredential."""

    __tablename__ = "vdr_status_version"
    __table_args__ = (UniqueConstraint("department", "list_id", "version", name="uq_vdr_status_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    department: Mapped[str] = mapped_column(String(63))
    list_id: Mapped[str] = mapped_column(String(63))
    version: Mapped[int] = mapped_column(Integer)
    purpose: Mapped[str] = mapped_column(String(16))
    length: Mapped[int] = mapped_column(Integer)  # number of entries
    ttl_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    document: Mapped[str] = mapped_column(Text)
    digest: Mapped[bytes] = mapped_column(LargeBinary(32))
    log_index: Mapped[int] = mapped_column(BigInteger, unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


class StatusAllocation(Base):
    """An index handed out for one list; the primary key makes a second claim fail."""

    __tablename__ = "vdr_status_allocation"

    department: Mapped[str] = mapped_column(String(63), primary_key=True)
    list_id: Mapped[str] = mapped_column(String(63), primary_key=True)
    index: Mapped[int] = mapped_column("idx", BigInteger, primary_key=True, autoincrement=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


class TrustListVersion(Base):
    """One version of the signed list of accredited issuers."""

    __tablename__ = "vdr_trust_list_version"

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    document: Mapped[str] = mapped_column(Text)
    digest: Mapped[bytes] = mapped_column(LargeBinary(32))
    log_index: Mapped[int] = mapped_column(BigInteger, unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
