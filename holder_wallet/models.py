"""Storage of the worker's wallet: accounts, keys, passkeys, held credentials, shares, published links.

Every column that says something about a person is sealed (`web.envelope.seal`) under the worker's
own data key (DEK), kept only wrapped by the wallet's master key in `worker.wrapped_dek`. Erasing an
account destroys that wrapped key (crypto-shredding): every `sealed_*` value of the worker becomes
unreadable at once, in every table, without touching the credentials the registry logged.

Plain columns hold only what lookups need and what reveals nothing about a person by itself:
random ids, the credential's urn, its kind and dates (the career view filters and sorts on
`worker_id, kind, end_date` through an index), expiry times, counters. The AAD of each sealed value
names the worker, the table and column and the row (`holder_wallet.store.aad`), so a sealed value
copied to another row or worker does not open.

- `worker`: one wallet account. `did` is the worker's did:key (the secret key sealed in
  `sealed_secret_key`), `issuer_worker_id` the issuer's id of the roster row (a lost phone binds the
  same id again and finds this account), `identity_index` a keyed blind index of name and birth
  date (how the wallet finds that account before the issuer answers), `user_handle` the WebAuthn user id (random, not the DID).
- `worker_passkey`: the worker's passkeys (WebAuthn credential id, COSE public key, sign count).
- `held_credential`: contracts, career records and certificates with their registry receipts.
- `share_event`: the history of what was shared with whom (or refused).
- `published_presentation`: a short link to a signed presentation (for a QR or a certificate PDF),
  valid until `expires_at` unless `withdrawn_at` is set.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import (
    BigInteger,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from web import passkeys

#: the kinds of held credential (the career view reads `contract` and `career`)
KINDS = ("contract", "career", "certificate")
#: status of a held credential as the wallet last saw it (live status comes from the status lists)
STATUSES = ("active", "completed", "suspended", "revoked", "unknown")
#: how something was shared
CHANNELS = ("qr", "oid4vp", "pdf")


def _now() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


#: pending WebAuthn challenges (web.passkeys.SqlChallengeStore): shared by every gunicorn worker
passkey_challenge = passkeys.challenge_table(Base.metadata)


class Worker(Base):
    __tablename__ = "worker"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    # NULL after erasure (the DID names the worker in the credentials they hold)
    did: Mapped[str | None] = mapped_column(String(128), unique=True, nullable=True)
    issuer_worker_id: Mapped[str | None] = mapped_column(String(128), unique=True, nullable=True)
    user_handle: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    # keyed blind index (web.envelope) of name + birth date: finds the account again after a lost phone
    identity_index: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    # the DEK wrapped by the master key; NULL = erased (every sealed value of the worker is unreadable)
    wrapped_dek: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    sealed_profile: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)  # {name, birthDate}
    sealed_secret_key: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)  # Ed25519 seed
    sealed_worker_token: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)  # bearer at the issuer
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    erased_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class WorkerPasskey(Base):
    __tablename__ = "worker_passkey"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    worker_id: Mapped[str] = mapped_column(ForeignKey("worker.id", ondelete="CASCADE"), index=True)
    credential_id: Mapped[bytes] = mapped_column(LargeBinary(1024), unique=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary)  # COSE key
    sign_count: Mapped[int] = mapped_column(BigInteger, default=0)
    transports: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class HeldCredential(Base):
    __tablename__ = "held_credential"
    __table_args__ = (
        UniqueConstraint("worker_id", "credential_id", name="uq_held_credential_worker_credential"),
        # the career view: one worker's contracts / career records, newest end first
        Index("ix_held_credential_worker_kind_end", "worker_id", "kind", "end_date"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    worker_id: Mapped[str] = mapped_column(ForeignKey("worker.id", ondelete="CASCADE"))
    credential_id: Mapped[str] = mapped_column(String(200))  # the credential's `id` (urn:uuid:...)
    kind: Mapped[str] = mapped_column(String(16))  # KINDS
    contract_id: Mapped[str | None] = mapped_column(String(200), nullable=True)  # the contract it is about
    start_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    end_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="active")  # STATUSES, as last seen
    status_checked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    sealed_credential: Mapped[bytes] = mapped_column(LargeBinary)  # the VC (JSON)
    sealed_receipt: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)  # registry receipt (JSON)
    # what lists show without opening the VC: {title, project, department, position, duties}
    sealed_summary: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    sealed_status_reason: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


class ShareEvent(Base):
    __tablename__ = "share_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    worker_id: Mapped[str] = mapped_column(ForeignKey("worker.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(16))  # CHANNELS
    outcome: Mapped[str] = mapped_column(String(16))  # shared, refused, withdrawn, failed
    # {audience, credentialIds, items, presentationId?}: to whom, what exactly
    sealed_detail: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


class PublishedPresentation(Base):
    __tablename__ = "published_presentation"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # the short link's random part
    worker_id: Mapped[str] = mapped_column(ForeignKey("worker.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(16), default="qr")  # qr, certificate
    sealed_presentation: Mapped[bytes] = mapped_column(LargeBinary)  # the signed VP with receipts (JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
