"""Status lists in the registry: signed versions published by the issuing side, and index allocation.

The registry never flips a bit (it holds no department key). It checks each new version's proof
against the department's current DID document, refuses a change of purpose or length and, for
revocation lists, the clearing of a set bit (a revocation is final), then stores the version
and appends a "status-list" leaf in the same transaction.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from agents import dataintegrity, merkle, statuslist
from agents.errors import Conflict, InvalidCredential, InvalidInput, NotFound, VerificationError
from web.db import transaction

from .log import RegistryContext
from .vdr_dids import DidRegistry, check_department, dumps
from .vdr_models import StatusAllocation, StatusListVersion

#: indexes per `allocate_many` call
MAX_ALLOCATE = 1000
_LIST_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$")


def check_list_id(list_id: str) -> str:
    if not isinstance(list_id, str) or not _LIST_ID.match(list_id):
        raise InvalidInput(
            "a status list id is 1-63 letters, digits, '-' or '_'",
            message_ko="상태 목록 ID는 영문, 숫자, '-', '_' 1~63자여야 합니다",
        )
    return list_id


@dataclass(frozen=True)
class StoredList:
    version: int
    log_index: int
    purpose: str
    length: int
    ttl_ms: int | None
    document: dict[str, Any]
    digest: bytes = b""
    created_at: datetime | None = None


def _stored(row: StatusListVersion) -> StoredList:
    return StoredList(
        row.version, row.log_index, row.purpose, row.length, row.ttl_ms, json.loads(row.document),
        bytes(row.digest), row.created_at,
    )


#: versions per page of a history
HISTORY_PAGE = 50


def _latest_row(session: Session, department: str, list_id: str) -> StatusListVersion | None:
    return session.execute(
        select(StatusListVersion)
        .where(StatusListVersion.department == department, StatusListVersion.list_id == list_id)
        .order_by(StatusListVersion.version.desc())
        .limit(1)
    ).scalar_one_or_none()


def _issuer_id(credential: Mapping[str, Any]) -> object:
    issuer = credential.get("issuer")
    return issuer.get("id") if isinstance(issuer, Mapping) else issuer


class StatusRegistry:
    """The status lists of every department hosted by one registry."""

    def __init__(self, ctx: RegistryContext, dids: DidRegistry) -> None:
        self._ctx = ctx
        self._dids = dids

    def url(self, department: str, list_id: str) -> str:
        return f"{self._dids.base_url}/status/{check_department(department)}/{check_list_id(list_id)}"

    def latest(self, department: str, list_id: str) -> StoredList:
        with self._ctx.session_factory() as s:
            row = _latest_row(s, check_department(department), check_list_id(list_id))
            if row is None:
                raise NotFound("no such status list", message_ko="해당 상태 목록이 없습니다")
            return _stored(row)

    def lists(self, department: str) -> list[tuple[str, StoredList]]:
        """The latest version of each of the department's lists (for re-signing after a key rotation)."""
        check_department(department)
        with self._ctx.session_factory() as s:
            newest = (
                select(StatusListVersion.list_id, func.max(StatusListVersion.version).label("v"))
                .where(StatusListVersion.department == department)
                .group_by(StatusListVersion.list_id)
                .subquery()
            )
            rows = s.execute(
                select(StatusListVersion)
                .join(
                    newest,
                    (StatusListVersion.list_id == newest.c.list_id) & (StatusListVersion.version == newest.c.v),
                )
                .where(StatusListVersion.department == department)
                .order_by(StatusListVersion.list_id)
            ).scalars()
            return [(r.list_id, _stored(r)) for r in rows]

    def history(self, department: str, list_id: str, *, since: int = 0, limit: int = HISTORY_PAGE) -> list[StoredList]:
        """Versions after `since`, oldest first, at most `limit` (NotFound for an unknown list)."""
        self.latest(department, list_id)
        with self._ctx.session_factory() as s:
            rows = s.execute(
                select(StatusListVersion)
                .where(
                    StatusListVersion.department == department,
                    StatusListVersion.list_id == list_id,
                    StatusListVersion.version > since,
                )
                .order_by(StatusListVersion.version)
                .limit(limit)
            ).scalars()
            return [_stored(r) for r in rows]

    def publish(self, department: str, list_id: str, credential: Any) -> StoredList:
        """Check and store a new signed version of the list; log it."""
        url = self.url(department, list_id)
        if not isinstance(credential, dict):
            raise InvalidCredential(
                "a status list credential is a JSON object", message_ko="JSON 객체가 아닙니다"
            )
        # 1. it is this list, issued by this department
        if credential.get("id") != url:
            raise InvalidCredential(
                f"the credential id must be {url}", message_ko=f"자격증명 id는 {url} 이어야 합니다"
            )
        did = self._dids.did(department)
        if _issuer_id(credential) != did:
            raise VerificationError(
                "the status list is not issued by this department's DID",
                message_ko="상태 목록의 발급자가 이 부서의 DID가 아닙니다",
            )
        types = credential.get("type")
        if not isinstance(types, list) or "BitstringStatusListCredential" not in types:
            raise InvalidCredential(
                "not a BitstringStatusListCredential", message_ko="BitstringStatusListCredential이 아닙니다"
            )
        purpose, bits = statuslist.decode_list_credential(credential)
        ttl = credential["credentialSubject"].get("ttl")
        if ttl is not None and (not isinstance(ttl, int) or isinstance(ttl, bool) or not 0 <= ttl <= 2**40):
            raise InvalidCredential(
                "ttl must be a non-negative integer (ms)", message_ko="ttl 값이 잘못되었습니다"
            )
        # 2. every proof verifies against the department's current DID document (assertionMethod)
        doc = self._dids.latest_parsed(department)

        def resolve(vm_id: str) -> dataintegrity.ResolvedKey:
            return dataintegrity.resolved_key_from(doc.method(vm_id))

        outcomes = dataintegrity.verify_proofs(credential, resolve)
        failed = [o for o in outcomes if not o.ok]
        if failed:
            raise VerificationError(
                f"the status list proof does not verify: {failed[0].reason}",
                message_ko=f"상태 목록 서명을 검증할 수 없습니다: {failed[0].reason_ko}",
            )
        # 3. compare with the current version
        with self._ctx.session_factory() as s:
            row = _latest_row(s, department, list_id)
            seen = bytes(row.digest) if row is not None else None
            previous = _stored(row) if row is not None else None
        if previous is not None:
            if previous.purpose != purpose or previous.length != len(bits):
                raise Conflict(
                    "a status list keeps its purpose and length",
                    message_ko="상태 목록의 용도와 길이는 바꿀 수 없습니다",
                )
            if purpose == "revocation":
                _, old = statuslist.decode_list_credential(previous.document)
                if any(a & ~b for a, b in zip(bytes(old), bytes(bits), strict=True)):
                    raise Conflict(
                        "a revocation cannot be undone (a set bit was cleared)",
                        message_ko="폐기는 되돌릴 수 없습니다 (설정된 비트가 해제되었습니다)",
                    )
        digest = merkle.document_digest(credential)
        try:
            with transaction(self._ctx.session_factory) as s:
                appended = self._ctx.log.append(s, "status-list", digest)
                current = _latest_row(s, department, list_id)
                if (bytes(current.digest) if current is not None else None) != seen:
                    raise _conflict()
                new = StatusListVersion(
                    department=department,
                    list_id=list_id,
                    version=(previous.version + 1) if previous else 1,
                    purpose=purpose,
                    length=len(bits),
                    ttl_ms=ttl,
                    document=dumps(credential),
                    digest=digest,
                    log_index=appended.index,
                )
                s.add(new)
                s.flush()
                stored = _stored(new)
        except IntegrityError:
            raise _conflict() from None
        self._ctx.log.maybe_checkpoint()
        return stored

    def allocate(self, department: str, list_id: str) -> int:
        """A fresh random index of a published list, never handed out before (unique key)."""
        length = self.latest(department, list_id).length

        def claim(index: int) -> bool:
            try:
                # a transaction of its own that only inserts: on SQLite it waits for the write lock
                with transaction(self._ctx.session_factory) as s:
                    s.add(StatusAllocation(department=department, list_id=list_id, index=index))
                    s.flush()
            except IntegrityError:
                return False
            return True

        return statuslist.allocate(length, claim)


    def allocate_many(self, department: str, list_id: str, count: int) -> list[int]:
        """`count` fresh random indexes of a list in one transaction (the bulk issuer's drafts)."""
        length = self.latest(department, list_id).length
        if not 1 <= count <= MAX_ALLOCATE:
            raise InvalidInput(
                f"count is 1-{MAX_ALLOCATE}", message_ko=f"count는 1~{MAX_ALLOCATE} 사이여야 합니다"
            )
        if count > length // 2:
            raise Conflict(
                "the status list has too few free indexes for this batch",
                message_ko="상태 목록에 이만큼 비어 있는 색인이 없습니다",
            )
        for _ in range(8):
            try:
                with transaction(self._ctx.session_factory) as s:
                    free = self._free_indexes(s, department, list_id, length, count)
                    s.execute(
                        insert(StatusAllocation),
                        [{"department": department, "list_id": list_id, "index": i} for i in free],
                    )
            except IntegrityError:
                continue  # a concurrent writer took one of them: draw again
            return free
        raise Conflict(
            "could not find free status indexes; the list is nearly full",
            message_ko="빈 상태 색인을 찾지 못했습니다. 상태 목록이 거의 찼습니다",
        )

    @staticmethod
    def _free_indexes(s: Session, department: str, list_id: str, length: int, count: int) -> list[int]:
        """`count` random distinct indexes none of which is allocated yet: draw, drop the taken ones
        (one query per round), draw again for those (group privacy, as `allocate`)."""
        free: set[int] = set()
        for _ in range(64):
            need = count - len(free)
            if need == 0:
                return list(free)
            drawn: set[int] = set()
            while len(drawn) < need:
                i = secrets.randbelow(length)
                if i not in free:
                    drawn.add(i)
            taken = set(
                s.scalars(
                    select(StatusAllocation.index).where(
                        StatusAllocation.department == department,
                        StatusAllocation.list_id == list_id,
                        StatusAllocation.index.in_(sorted(drawn)),
                    )
                )
            )
            free |= drawn - taken
        raise Conflict(
            "could not find free status indexes; the list is nearly full",
            message_ko="빈 상태 색인을 찾지 못했습니다. 상태 목록이 거의 찼습니다",
        )


def _conflict() -> Conflict:
    return Conflict(
        "another version of this status list was published first; fetch it and try again",
        message_ko="다른 상태 목록 버전이 먼저 등록되었습니다. 최신 목록을 받아 다시 시도하세요",
    )
