"""did:web hosting: each department's DID document versions, checked, stored and logged.

The registry holds no department key: it checks that each new version is signed as the rules in
`agents.didhistory` require (first version self-signed, later ones by a key of the current
version and by every new key), stores it, and appends a "did-document" leaf in the same
transaction, so a version exists in the registry exactly when it is in the log.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from agents import didhistory
from agents.did import DidDocument
from agents.errors import Conflict, InvalidInput, NotFound
from web.db import transaction

from .log import RegistryContext
from .vdr_models import DidDocumentVersion

_DEPARTMENT = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


def check_department(name: str) -> str:
    """A department name is a DNS-label-like slug (it becomes a did:web path segment)."""
    if not isinstance(name, str) or not _DEPARTMENT.match(name):
        raise InvalidInput(
            "a department name is 1-63 lowercase letters, digits or hyphens",
            message_ko="부서 이름은 영문 소문자, 숫자, 하이픈 1~63자여야 합니다",
        )
    return name


def dumps(document: dict[str, Any]) -> str:
    """Stored form of a published document (the digest is over JCS, not over this text)."""
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"))


@dataclass(frozen=True)
class StoredVersion:
    """A published version as the API reports it."""

    version: int
    log_index: int
    digest: bytes
    document: dict[str, Any]
    created_at: datetime


def _stored(row: DidDocumentVersion) -> StoredVersion:
    return StoredVersion(
        row.version, row.log_index, bytes(row.digest), json.loads(row.document), row.created_at
    )


def _latest_row(session: Session, department: str) -> DidDocumentVersion | None:
    return session.execute(
        select(DidDocumentVersion)
        .where(DidDocumentVersion.department == department)
        .order_by(DidDocumentVersion.version.desc())
        .limit(1)
    ).scalar_one_or_none()


class DidRegistry:
    """The department DIDs hosted by one registry (base URL fixes the did:web host)."""

    def __init__(self, ctx: RegistryContext, base_url: str) -> None:
        self._ctx = ctx
        self.base_url = base_url.rstrip("/")

    def did(self, department: str) -> str:
        return didhistory.department_did(self.base_url, check_department(department))

    def latest(self, department: str) -> StoredVersion:
        with self._ctx.session_factory() as s:
            row = _latest_row(s, check_department(department))
            if row is None:
                raise NotFound(
                    f"no DID document for {department}", message_ko=f"{department}의 DID 문서가 없습니다"
                )
            return _stored(row)

    def latest_parsed(self, department: str) -> DidDocument:
        """The current document, parsed (a local resolver for proofs by this department)."""
        return DidDocument.from_json(self.latest(department).document, expected_id=self.did(department))

    def history(self, department: str) -> list[StoredVersion]:
        with self._ctx.session_factory() as s:
            rows = s.execute(
                select(DidDocumentVersion)
                .where(DidDocumentVersion.department == check_department(department))
                .order_by(DidDocumentVersion.version)
            ).scalars()
            out = [_stored(r) for r in rows]
        if not out:
            raise NotFound(
                f"no DID document for {department}", message_ko=f"{department}의 DID 문서가 없습니다"
            )
        return out

    def departments(self) -> list[str]:
        with self._ctx.session_factory() as s:
            return list(s.execute(select(DidDocumentVersion.department).distinct()).scalars())

    def publish(self, department: str, document: Any) -> StoredVersion:
        """Check `document` against the current version, store it and log it in one transaction."""
        did = self.did(department)
        with self._ctx.session_factory() as s:
            row = _latest_row(s, department)
            previous = json.loads(row.document) if row is not None else None
            seen = bytes(row.digest) if row is not None else None
        # proofs are checked before taking the log's write lock (it serialises every writer)
        _, info = didhistory.check_version(document, did=did, previous=previous)
        digest = didhistory.digest_of(document)
        try:
            with transaction(self._ctx.session_factory) as s:
                appended = self._ctx.log.append(s, "did-document", digest)
                current = _latest_row(s, department)
                if (bytes(current.digest) if current is not None else None) != seen:
                    raise _conflict()
                new = DidDocumentVersion(
                    department=department,
                    version=info.version_id,
                    document=dumps(document),
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


def _conflict() -> Conflict:
    return Conflict(
        "another version of this DID document was published first; fetch it and try again",
        message_ko="다른 DID 문서 버전이 먼저 등록되었습니다. 최신 문서를 받아 다시 시도하세요",
    )
