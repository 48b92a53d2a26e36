"""Staff accounts below the views: passwords (argon2id), lockout, passkeys, roles and what each may see.

Roles: a system admin sees and changes everything; a department manager everything of their own
department (its projects, its staff below manager); a project clerk only the projects assigned to
them. `Principal` answers every "may this person ..." question; views never decide on their own.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from agents.errors import Conflict, Error, InvalidInput, NotFound
from web import passkeys
from web.ratelimit import SlidingWindowLimiter

from .. import models
from ..service import Actor, IssuerService
from ._models import ADMIN, CLERK, MANAGER, ROLES, Staff, StaffPasskey, StaffProject

MAX_FAILED_LOGINS = 5
LOCK_MINUTES = 15
MIN_PASSWORD = 12
LOGIN_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")
_hasher = PasswordHasher()  # argon2id with the library's current defaults (RFC 9106 low-memory profile)
# a real hash to check against when the login is unknown, so both paths cost the same time
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


class LoginFailed(Error):
    """Wrong sign-in name or password (one message for both: no oracle)."""

    code = "login-failed"
    http_status = 401

    def __init__(self) -> None:
        super().__init__(
            "The sign-in name or password is not correct.",
            message_ko="아이디 또는 비밀번호가 맞지 않습니다.",
        )


class AccountLocked(Error):
    """Too many wrong passwords in a row: the account waits, or an admin unlocks it."""

    code = "account-locked"
    http_status = 423

    def __init__(self, minutes: int) -> None:
        super().__init__(
            f"Too many failed sign-ins. Try again in {minutes} minutes, or ask your administrator to unlock the account.",
            message_ko=f"로그인에 여러 번 실패해 계정이 잠겼습니다. {minutes}분 뒤에 다시 시도하거나 관리자에게 잠금 해제를 요청하세요.",
            minutes=minutes,
        )


class Forbidden(Error):
    """A signed-in staff member asking for something outside their role or scope."""

    code = "forbidden"
    http_status = 403

    def __init__(self) -> None:
        super().__init__(
            "You do not have access to this. Ask your department manager if you need it.",
            message_ko="이 항목에 접근할 권한이 없습니다. 필요하면 부서 관리자에게 요청하세요.",
        )


@dataclass(frozen=True)
class Principal:
    """The signed-in staff member and the scope of their role."""

    id: int
    login: str
    display_name: str
    role: str
    department_id: int | None
    project_ids: frozenset[int]
    has_passkey: bool

    @property
    def actor(self) -> str:
        return f"staff:{self.id}"

    def is_admin(self) -> bool:
        return self.role == ADMIN

    def may_see_department(self, department_id: int | None) -> bool:
        return self.role == ADMIN or (self.role == MANAGER and department_id == self.department_id)

    def may_see_project(self, project_id: int, department_id: int) -> bool:
        if self.role == ADMIN:
            return True
        if self.role == MANAGER:
            return department_id == self.department_id
        return project_id in self.project_ids

    def may_create_project(self, department_id: int) -> bool:
        return self.may_see_department(department_id)

    def may_manage_staff(self, role: str, department_id: int | None) -> bool:
        """Admins manage everyone; managers manage the clerks of their own department."""
        return self.role == ADMIN or (self.role == MANAGER and role == CLERK and department_id == self.department_id)

    def require(self, allowed: bool) -> None:
        if not allowed:
            raise Forbidden()


@dataclass(frozen=True)
class StaffView:
    id: int
    login: str
    display_name: str
    role: str
    department_id: int | None
    active: bool
    locked: bool
    has_password: bool
    passkeys: int
    project_ids: tuple[int, ...]
    last_login_at: datetime | None


def _aware(value: datetime | None) -> datetime | None:
    # SQLite hands back naive datetimes for timezone columns
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


class Accounts:
    """Staff accounts over the issuer's database; every change is audited through the service."""

    def __init__(self, service: IssuerService) -> None:
        self.service = service
        # names with no account lock like real ones, so the lock message does not reveal which exist
        self._unknown = SlidingWindowLimiter(MAX_FAILED_LOGINS, LOCK_MINUTES * 60)

    # -- creating and changing accounts -------------------------------------------------------------

    def create_staff(
        self,
        login: str,
        display_name: str,
        role: str,
        *,
        department_id: int | None = None,
        password: str | None = None,
        project_ids: Iterable[int] = (),
        actor: Actor,
    ) -> StaffView:
        login = normalise_login(login)
        if role not in ROLES:
            raise InvalidInput(f"unknown role {role!r}", message_ko="알 수 없는 역할입니다")
        if role != ADMIN and department_id is None:
            raise InvalidInput("a manager or clerk belongs to a department", message_ko="부서 관리자와 사업 담당자는 부서를 정해야 합니다")
        if not display_name.strip():
            raise InvalidInput("enter the person's name", message_ko="이름을 입력하세요")
        hashed = hash_password(password) if password else None
        with self.service.tx() as s:
            if s.scalar(select(Staff.id).where(Staff.login == login)) is not None:
                raise Conflict("that sign-in name is taken", message_ko="이미 쓰고 있는 아이디입니다")
            if department_id is not None and s.get(models.Department, department_id) is None:
                raise NotFound("no such department", message_ko="해당 부서가 없습니다")
            row = Staff(
                login=login, display_name=display_name.strip(), role=role, department_id=department_id,
                password_hash=hashed, user_handle=secrets.token_bytes(16), active=True, failed_logins=0,
            )  # fmt: skip
            s.add(row)
            s.flush()
            self._assign(s, row, project_ids)
            self.service.audit(s, actor, "staff.create", "staff", row.id, department_id=department_id, role=role)
            return self._view(s, row)

    def _assign(self, s: Session, row: Staff, project_ids: Iterable[int]) -> None:
        wanted = set(project_ids)
        if wanted and row.role != CLERK:
            raise InvalidInput("only clerks are assigned projects", message_ko="사업 배정은 사업 담당자에게만 합니다")
        for pid in wanted:
            project = s.get(models.Project, pid)
            if project is None or project.department_id != row.department_id:
                raise InvalidInput("a clerk's projects belong to their department", message_ko="담당 사업은 담당자의 부서 사업이어야 합니다")
        s.execute(delete(StaffProject).where(StaffProject.staff_id == row.id))
        for pid in sorted(wanted):
            s.add(StaffProject(staff_id=row.id, project_id=pid))

    def update_staff(
        self, staff_id: int, *, display_name: str, active: bool, project_ids: Iterable[int], actor: Actor
    ) -> StaffView:
        with self.service.tx() as s:
            row = self._get(s, staff_id)
            if not display_name.strip():
                raise InvalidInput("enter the person's name", message_ko="이름을 입력하세요")
            row.display_name = display_name.strip()
            if row.role == ADMIN and row.active and not active:
                others = s.scalar(select(func.count()).select_from(Staff).where(
                    Staff.role == ADMIN, Staff.active.is_(True), Staff.id != row.id))  # fmt: skip
                if not others:
                    raise Conflict("the last active administrator cannot be deactivated",
                                   message_ko="마지막 남은 시스템 관리자는 사용 중지할 수 없습니다")  # fmt: skip
            row.active = active
            self._assign(s, row, project_ids if row.role == CLERK else ())
            self.service.audit(
                s, actor, "staff.update", "staff", row.id, department_id=row.department_id, active=active,
                projects=sorted(set(project_ids)) if row.role == CLERK else [],
            )  # fmt: skip
            return self._view(s, row)

    def set_password(self, staff_id: int, password: str, *, actor: Actor) -> None:
        hashed = hash_password(password)
        with self.service.tx() as s:
            row = self._get(s, staff_id)
            row.password_hash = hashed
            self.service.audit(s, actor, "staff.password", "staff", row.id, department_id=row.department_id)

    def unlock(self, staff_id: int, *, actor: Actor) -> None:
        with self.service.tx() as s:
            row = self._get(s, staff_id)
            row.failed_logins = 0
            row.locked_until = None
            self.service.audit(s, actor, "staff.unlock", "staff", row.id, department_id=row.department_id)

    # -- signing in ----------------------------------------------------------------------------------

    def check_password(self, login: str, password: str, *, ip: str = "") -> int:
        """The staff id when the password is right; LoginFailed or AccountLocked otherwise.

        Five wrong passwords in a row lock the account for 15 minutes; every try is audited."""
        now = self.service.now()
        login = login.strip().lower()
        with self.service.tx() as s:
            row = s.scalar(select(Staff).where(Staff.login == login))
            if row is None or not row.active or row.password_hash is None:
                _verify(_DUMMY_HASH, password)
                wait = self._unknown.hit(login)
                if wait > 0:
                    raise AccountLocked(max(1, int(wait // 60) + 1))
                raise LoginFailed()
            locked_until = _aware(row.locked_until)
            if locked_until is not None and locked_until > now:
                raise AccountLocked(max(1, int((locked_until - now).total_seconds() // 60) + 1))
            if not _verify(row.password_hash, password):
                row.failed_logins += 1
                if row.failed_logins >= MAX_FAILED_LOGINS:
                    row.locked_until = now + timedelta(minutes=LOCK_MINUTES)
                    row.failed_logins = 0
                self.service.audit(
                    s, Actor(f"staff:{row.id}", ip), "staff.login-failed", "staff", row.id,
                    department_id=row.department_id, locked=row.locked_until is not None and _aware(row.locked_until) > now,
                )  # fmt: skip
            else:
                row.failed_logins = 0
                row.locked_until = None
                if _hasher.check_needs_rehash(row.password_hash):
                    row.password_hash = hash_password(password)
                return row.id
        # committed the counter; now say no
        raise LoginFailed()

    def signed_in(self, staff_id: int, *, ip: str, method: str) -> None:
        with self.service.tx() as s:
            row = self._get(s, staff_id)
            row.last_login_at = self.service.now()
            self.service.audit(s, Actor(f"staff:{row.id}", ip), "staff.login", "staff", row.id,
                               department_id=row.department_id, method=method)  # fmt: skip

    def principal(self, staff_id: int) -> Principal | None:
        """The active staff member with this id, or None (deactivated or deleted: the session ends)."""
        with self.service.tx() as s:
            row = s.get(Staff, staff_id)
            if row is None or not row.active:
                return None
            projects = frozenset(s.scalars(select(StaffProject.project_id).where(StaffProject.staff_id == row.id)))
            count = s.scalar(select(func.count()).select_from(StaffPasskey).where(StaffPasskey.staff_id == row.id))
            return Principal(row.id, row.login, row.display_name, row.role, row.department_id, projects, bool(count))

    # -- passkeys ------------------------------------------------------------------------------------

    def user_handle(self, staff_id: int) -> bytes:
        with self.service.tx() as s:
            return bytes(self._get(s, staff_id).user_handle)

    def passkeys_of(self, staff_id: int) -> list[passkeys.StoredPasskey]:
        with self.service.tx() as s:
            rows = s.scalars(select(StaffPasskey).where(StaffPasskey.staff_id == staff_id))
            return [_stored(r) for r in rows]

    def find_passkey(self, credential_id: bytes) -> passkeys.StoredPasskey | None:
        """The passkey with this credential id, if its owner may sign in."""
        with self.service.tx() as s:
            row = s.scalar(select(StaffPasskey).where(StaffPasskey.credential_id == credential_id))
            if row is None:
                return None
            owner = s.get(Staff, row.staff_id)
            if owner is None or not owner.active:
                return None
            locked_until = _aware(owner.locked_until)
            if locked_until is not None and locked_until > self.service.now():
                return None
            return _stored(row)

    def add_passkey(self, staff_id: int, new: passkeys.NewPasskey, label: str, *, actor: Actor) -> None:
        with self.service.tx() as s:
            row = self._get(s, staff_id)
            if s.scalar(select(StaffPasskey.id).where(StaffPasskey.credential_id == new.credential_id)):
                raise Conflict("that passkey is registered already", message_ko="이미 등록된 패스키입니다")
            s.add(StaffPasskey(
                staff_id=row.id, credential_id=new.credential_id, public_key=new.public_key, sign_count=new.sign_count,
                transports=",".join(new.transports), label=label.strip()[:100],
            ))  # fmt: skip
            self.service.audit(s, actor, "staff.passkey-add", "staff", row.id, department_id=row.department_id)

    def passkey_used(self, assertion: passkeys.Assertion) -> None:
        with self.service.tx() as s:
            row = s.scalar(select(StaffPasskey).where(StaffPasskey.credential_id == assertion.credential_id))
            if row is not None:
                row.sign_count = assertion.new_sign_count
                row.last_used_at = self.service.now()

    def remove_passkeys(self, staff_id: int, *, actor: Actor) -> None:
        """Forget every passkey of an account (lost phone): the person enrols again after a password sign-in."""
        with self.service.tx() as s:
            row = self._get(s, staff_id)
            s.execute(delete(StaffPasskey).where(StaffPasskey.staff_id == row.id))
            self.service.audit(s, actor, "staff.passkey-reset", "staff", row.id, department_id=row.department_id)

    # -- reading -------------------------------------------------------------------------------------

    def staff(self, staff_id: int) -> StaffView:
        with self.service.tx() as s:
            return self._view(s, self._get(s, staff_id))

    def list_staff(self, department_id: int | None = None) -> list[StaffView]:
        with self.service.tx() as s:
            q = select(Staff).order_by(Staff.role, Staff.login)
            if department_id is not None:
                q = q.where(Staff.department_id == department_id)
            return [self._view(s, r) for r in s.scalars(q)]

    def count_admins(self) -> int:
        with self.service.tx() as s:
            return int(s.scalar(select(func.count()).select_from(Staff).where(Staff.role == ADMIN)) or 0)

    def _get(self, s: Session, staff_id: int) -> Staff:
        row = s.get(Staff, staff_id)
        if row is None:
            raise NotFound("no such staff member", message_ko="해당 직원이 없습니다")
        return row

    def _view(self, s: Session, row: Staff) -> StaffView:
        projects = tuple(s.scalars(select(StaffProject.project_id).where(StaffProject.staff_id == row.id)))
        count = s.scalar(select(func.count()).select_from(StaffPasskey).where(StaffPasskey.staff_id == row.id))
        locked_until = _aware(row.locked_until)
        return StaffView(
            row.id, row.login, row.display_name, row.role, row.department_id, row.active,
            locked_until is not None and locked_until > self.service.now(), row.password_hash is not None,
            int(count or 0), projects, _aware(row.last_login_at),
        )  # fmt: skip


def normalise_login(login: str) -> str:
    login = login.strip().lower()
    if not LOGIN_RE.match(login):
        raise InvalidInput(
            "a sign-in name is 3 to 64 letters, digits, dots, dashes or underscores",
            message_ko="아이디는 영문 소문자, 숫자, 점(.), 하이픈(-), 밑줄(_)로 3~64자여야 합니다",
        )
    return login


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(
            f"a password has at least {MIN_PASSWORD} characters",
            message_ko=f"비밀번호는 {MIN_PASSWORD}자 이상이어야 합니다",
        )
    return _hasher.hash(password)


def _verify(hashed: str, password: str) -> bool:
    try:
        return _hasher.verify(hashed, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def _stored(row: StaffPasskey) -> passkeys.StoredPasskey:
    transports = tuple(t for t in row.transports.split(",") if t)
    return passkeys.StoredPasskey(bytes(row.credential_id), bytes(row.public_key), row.sign_count, transports, row.staff_id)


__all__ = [
    "ADMIN", "CLERK", "MANAGER", "AccountLocked", "Accounts", "Forbidden", "LoginFailed", "Principal", "StaffView",
    "hash_password", "normalise_login",
]  # fmt: skip
