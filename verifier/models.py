"""Storage of the verifier: OpenID4VP requests (personal data only until they expire) and the audit trail.

`presentation_request`: one row per request an employer made. The nonce is single use (`answered_at`
is set by the first response, in the same transaction that checks it was unset). What was presented
(`presentation`, `report`) is personal data: it is erased (set to NULL) once the request expires.
`verification_audit`: one row per answer or API verification: request id, verdict and the SHA-256 of
the presentation, never a name or any other field of the credentials.
`seen_checkpoint`: the newest registry checkpoint seen per log (split-view defence across restarts and workers).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import BigInteger, DateTime, Integer, LargeBinary, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def _now() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


class PresentationRequest(Base):
    __tablename__ = "presentation_request"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    nonce: Mapped[str] = mapped_column(String(64), unique=True)
    status_token_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    query: Mapped[str] = mapped_column(Text)  # the DCQL query (JSON)
    purpose: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    verdict: Mapped[str | None] = mapped_column(String(32), nullable=True)
    presentation_sha256: Mapped[bytes | None] = mapped_column(LargeBinary(32), nullable=True)
    presentation: Mapped[str | None] = mapped_column(Text, nullable=True)  # personal data: purged at expiry
    report: Mapped[str | None] = mapped_column(Text, nullable=True)  # purged at expiry
    purged: Mapped[bool] = mapped_column(default=False)


class VerificationAudit(Base):
    __tablename__ = "verification_audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    request_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    kind: Mapped[str] = mapped_column(String(32))  # oid4vp, credential, presentation
    verdict: Mapped[str] = mapped_column(String(32))
    presentation_sha256: Mapped[bytes] = mapped_column(LargeBinary(32))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


class SeenCheckpoint(Base):
    """The newest registry checkpoint this verifier has seen per log (the split-view memory), shared by
    every worker and kept across restarts: a later checkpoint is accepted only if consistent with it."""

    __tablename__ = "seen_checkpoint"

    origin: Mapped[str] = mapped_column(String(255), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    root: Mapped[bytes] = mapped_column(LargeBinary(32))
    seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
