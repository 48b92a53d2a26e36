"""Storage of the issuer: departments, projects, roster rows, contracts and their lifecycle.

Personal data (names, birth dates, phones, e-mail, addresses, bank accounts, the drafts and issued
credentials that carry them, outbox messages) is stored only sealed with the participant's data key
(`web.envelope`, columns ending in `_enc`); the wrapped data key sits on the participant row, so
erasing it shreds everything of that person. Search goes through blind indexes (`*_index`).
Hashes only for secrets: invitation tokens, one-time codes and worker tokens are SHA-256 digests.

Other engineers add their own tables in migrations whose down_revision is `0001_issuer`
(the migrations upgrade every head); models for those tables live in their own modules on this Base.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def _now() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


#: contract states (docs/issuer-wallet.md); suspended/revoked are status-list states of an issued one
DRAFT, OFFERED, SIGNED, ACTIVE, COMPLETED, TERMINATED, SUSPENDED, REVOKED = (
    "draft", "offered", "signed", "active", "completed", "terminated", "suspended", "revoked",
)  # fmt: skip
CONTRACT_STATES = (DRAFT, OFFERED, SIGNED, ACTIVE, COMPLETED, TERMINATED, SUSPENDED, REVOKED)


class Department(Base):
    """A city department: an issuer with its own did:web DID, key and status lists."""

    __tablename__ = "department"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(63), unique=True)
    name_ko: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    did: Mapped[str] = mapped_column(String(300), unique=True)
    key_name: Mapped[str] = mapped_column(String(63))  # name in the key store
    revocation_list: Mapped[str] = mapped_column(String(63))
    suspension_list: Mapped[str] = mapped_column(String(63))
    representative: Mapped[str] = mapped_column(String(200), default="")
    business_number: Mapped[str] = mapped_column(String(20), default="")
    address: Mapped[str] = mapped_column(String(300), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


class Project(Base):
    """A job programme of a department, with its contract template variant and overrides."""

    __tablename__ = "project"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    urn: Mapped[str] = mapped_column(String(64), unique=True)  # credentialSubject.project.id
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    budget_line: Mapped[str] = mapped_column(String(200), default="")
    workplaces: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of strings
    template_variant: Mapped[str] = mapped_column(String(20))
    template_overrides: Mapped[str] = mapped_column(Text, default="{}")  # JSON: subject paths -> values
    position: Mapped[str] = mapped_column(String(200), default="")  # for career records
    template_checked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


class Participant(Base):
    """A roster row: one worker in one project. Personal data sealed with the row's data key."""

    __tablename__ = "participant"
    __table_args__ = (UniqueConstraint("project_id", "row_hash", name="uq_participant_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)  # the data key's subject
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id"), index=True)
    wrapped_dek: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)  # NULL: shredded
    name_enc: Mapped[bytes] = mapped_column(LargeBinary)
    birth_date_enc: Mapped[bytes] = mapped_column(LargeBinary)
    phone_enc: Mapped[bytes] = mapped_column(LargeBinary)
    email_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    fields_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)  # JSON: other subject paths
    name_index: Mapped[str] = mapped_column(String(43), index=True)
    phone_index: Mapped[str] = mapped_column(String(43), index=True)
    birth_date_index: Mapped[str] = mapped_column(String(43))
    holder_did: Mapped[str | None] = mapped_column(String(200), nullable=True, index=True)
    import_batch: Mapped[str] = mapped_column(String(64), default="")
    row_hash: Mapped[str] = mapped_column(String(64))  # keyed hash of the normalised row: re-import is a no-op
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


class Contract(Base):
    """One version of a labor contract and its lifecycle (docs/issuer-wallet.md)."""

    __tablename__ = "contract"
    __table_args__ = (Index("ix_contract_project_state", "project_id", "state"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    urn: Mapped[str] = mapped_column(String(64), unique=True)  # the credential id
    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id"), index=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id"))
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"), index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    supersedes: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    superseded_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    state: Mapped[str] = mapped_column(String(16), default=DRAFT, index=True)
    resume_state: Mapped[str | None] = mapped_column(String(16), nullable=True)  # state before suspension
    draft_enc: Mapped[bytes] = mapped_column(LargeBinary)  # the final draft (JSON), sealed
    draft_digest: Mapped[str] = mapped_column(String(43))  # b64url SHA-256 of JCS(draft)
    acceptance_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    credential_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    receipt: Mapped[str | None] = mapped_column(Text, nullable=True)  # JSON; no personal data
    log_index: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    revocation_index: Mapped[int] = mapped_column(Integer)
    suspension_index: Mapped[int] = mapped_column(Integer)
    status_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    end_date: Mapped[date | None] = mapped_column(Date, nullable=True)  # contract end, for "complete all ended"
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    offered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    signed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    issued_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


class Invitation(Base):
    """An invitation to the wallet: only hashes of the token and the one-time code are kept."""

    __tablename__ = "invitation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id"), index=True)
    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    code_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32), nullable=True)
    code_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked: Mapped[bool] = mapped_column(Boolean, default=False)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


class WorkerToken(Base):
    """The wallet's bearer for one worker (hash only), bound to the DID proven at the identity check."""

    __tablename__ = "worker_token"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id"), index=True)
    holder_did: Mapped[str] = mapped_column(String(200), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class OutboxMessage(Base):
    """An SMS or e-mail to send; recipient and text sealed with the participant's data key."""

    __tablename__ = "outbox_message"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # uuid, part of the AAD
    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id"), index=True)
    channel: Mapped[str] = mapped_column(String(10))  # sms | email
    purpose: Mapped[str] = mapped_column(String(20))  # invitation | code | reminder | offer
    recipient_enc: Mapped[bytes] = mapped_column(LargeBinary)
    body_enc: Mapped[bytes] = mapped_column(LargeBinary)
    state: Mapped[str] = mapped_column(String(10), default="queued", index=True)  # queued | sent | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class IssuedCredential(Base):
    """A credential issued from a contract: career records and career certificates."""

    __tablename__ = "issued_credential"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    urn: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(20), index=True)  # career-record | certificate
    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id"), index=True)
    contract_id: Mapped[int | None] = mapped_column(ForeignKey("contract.id"), nullable=True, index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"))
    holder_did: Mapped[str] = mapped_column(String(200), index=True)
    vc_enc: Mapped[bytes] = mapped_column(LargeBinary)
    receipt: Mapped[str | None] = mapped_column(Text, nullable=True)
    log_index: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    revocation_index: Mapped[int | None] = mapped_column(Integer, nullable=True)
    suspension_index: Mapped[int | None] = mapped_column(Integer, nullable=True)
    state: Mapped[str] = mapped_column(String(16), default=ACTIVE)
    status_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


class AuditEvent(Base):
    """Who did what, when, from where. No personal data: ids only; hashed into the registry log."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now, index=True)
    actor: Mapped[str] = mapped_column(String(100))  # "staff:<id>", "worker:<participant id>", "system"
    action: Mapped[str] = mapped_column(String(40), index=True)
    target_type: Mapped[str] = mapped_column(String(20))
    target_id: Mapped[str] = mapped_column(String(64), index=True)
    department_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    project_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    ip: Mapped[str] = mapped_column(String(64), default="")
    detail: Mapped[str] = mapped_column(Text, default="{}")  # JSON, no personal data
    personal_data: Mapped[bool] = mapped_column(Boolean, default=False)  # a staff access to PII (PIPA)
    digest: Mapped[str] = mapped_column(String(43))  # b64url SHA-256 of JCS(event)
    log_index: Mapped[int | None] = mapped_column(BigInteger, nullable=True, index=True)  # NULL until logged


class BulkJob(Base):
    """A background run over many contracts (offer all, countersign all, complete all ended)."""

    __tablename__ = "bulk_job"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    project_id: Mapped[int | None] = mapped_column(ForeignKey("project.id"), nullable=True, index=True)
    created_by: Mapped[str] = mapped_column(String(100), default="")
    total: Mapped[int] = mapped_column(Integer, default=0)
    done: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    errors: Mapped[str] = mapped_column(Text, default="[]")  # JSON: [{contract, reason_ko, reason_en}]
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    # issuer/jobs.py (migration 0102_bulk_lease): who runs the job until when, and its current speed
    lease_owner: Mapped[str | None] = mapped_column(String(64), nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    rate: Mapped[float] = mapped_column(Float, default=0.0)  # rows per second of the current run
    options: Mapped[str] = mapped_column(Text, default="{}")  # JSON: e.g. {"cryptosuite": ...}
