"""Storage of the open-standard doors (OpenID4VCI and the VC-API): OAuth clients, offers, nonces,
credentials issued over the VC-API. Migration `0101_protocols` (down_revision `0001_issuer`).

Only hashes of secrets are kept (pre-authorized codes, transaction codes, nonces, client secrets as
argon2). Nothing here holds personal data: an offer names a credential by its id, and a VC-API
credential is kept only as its id, status indexes and digest (the caller keeps the document).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from .models import Base, _now


class OAuthClient(Base):
    """A machine client of the VC-API: client credentials grant, one department's scope."""

    __tablename__ = "oauth_client"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(200))  # argon2id
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"), index=True)
    label: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class CredentialOfferRow(Base):
    """An OpenID4VCI offer (pre-authorized code grant) of one issued credential to its worker."""

    __tablename__ = "oid4vci_offer"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    handle: Mapped[str] = mapped_column(String(43), unique=True)  # in credential_offer_uri; not a secret
    code_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    configuration_id: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(20))  # the engine's kind: labor-contract | career-record | certificate
    credential_urn: Mapped[str] = mapped_column(String(64), index=True)
    participant_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    tx_code_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32), nullable=True)
    tx_attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked: Mapped[bool] = mapped_column(Boolean, default=False)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    redeemed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    holder_did: Mapped[str | None] = mapped_column(String(200), nullable=True)  # who proved possession
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


class NonceRow(Base):
    """A c_nonce from the Nonce Endpoint: single use, short-lived; only its hash is kept."""

    __tablename__ = "oid4vci_nonce"

    nonce_hash: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class VcApiCredential(Base):
    """A credential signed through `POST /credentials/issue`: its id, status indexes and logged digest."""

    __tablename__ = "vcapi_credential"
    __table_args__ = (UniqueConstraint("department_id", "credential_id", name="uq_vcapi_credential"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"), index=True)
    credential_id: Mapped[str] = mapped_column(String(300))
    issuer_did: Mapped[str] = mapped_column(String(300))
    revocation_list: Mapped[str | None] = mapped_column(String(63), nullable=True)
    revocation_index: Mapped[int | None] = mapped_column(Integer, nullable=True)
    suspension_list: Mapped[str | None] = mapped_column(String(63), nullable=True)
    suspension_index: Mapped[int | None] = mapped_column(Integer, nullable=True)
    state: Mapped[str] = mapped_column(String(16), default="active")  # active | suspended | revoked
    digest: Mapped[bytes] = mapped_column(LargeBinary(32))  # merkle.document_digest, the logged leaf
    log_index: Mapped[int | None] = mapped_column(BigInteger, nullable=True, index=True)  # NULL until logged
    client_id: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
