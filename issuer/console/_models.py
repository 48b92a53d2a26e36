"""Staff accounts of the console: who may sign in, with which role, over which department and projects."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from web import passkeys

from ..models import Base

ADMIN, MANAGER, CLERK = "admin", "manager", "clerk"
ROLES = (ADMIN, MANAGER, CLERK)


def _now() -> datetime:
    return datetime.now(UTC)


class Staff(Base):
    """A city staff member: system admin, department manager or project clerk."""

    __tablename__ = "staff"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    login: Mapped[str] = mapped_column(String(64), unique=True)  # lower-case sign-in name (not personal data)
    display_name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(10))
    # every manager and clerk belongs to one department; a system admin may stand outside them
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"), nullable=True, index=True)
    password_hash: Mapped[str | None] = mapped_column(String(200), nullable=True)  # argon2id; NULL: passkey only
    user_handle: Mapped[bytes] = mapped_column(LargeBinary(16), unique=True)  # WebAuthn user.id, opaque
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class StaffPasskey(Base):
    """A passkey of a staff member (public key and counter only)."""

    __tablename__ = "staff_passkey"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), index=True)
    credential_id: Mapped[bytes] = mapped_column(LargeBinary(1024), unique=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    sign_count: Mapped[int] = mapped_column(Integer, default=0)
    transports: Mapped[str] = mapped_column(String(100), default="")  # comma-separated
    label: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class StaffProject(Base):
    """A project assigned to a clerk: the only projects that clerk sees and changes."""

    __tablename__ = "staff_project"

    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"), primary_key=True)


#: pending WebAuthn challenges of the console (web.passkeys.SqlChallengeStore)
passkey_challenge = passkeys.challenge_table(Base.metadata)
