"""The trust list: the accredited issuers (departments) and their DIDs, signed by the registry.

Each version is a JSON document with an eddsa-jcs-2022 Data Integrity proof by the registry's own
key (the one that signs checkpoints, so one pinned key covers both), names the digest of the
version before it, and is appended to the log as a "trust-list" leaf. Only the registry's
administrator changes it (CLI, directly on the database); `GET /trust-list` serves the latest.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from agents import dataintegrity, merkle, multibase
from agents.errors import Conflict, NotFound
from agents.keys import Signer
from agents.korean import josa
from web.db import transaction

from .log import Log
from .vdr_dids import check_department, dumps
from .vdr_models import TrustListVersion

TRUST_LIST_TYPE = "WorkcredTrustList"


def _latest_row(session: Session) -> TrustListVersion | None:
    return session.execute(
        select(TrustListVersion).order_by(TrustListVersion.version.desc()).limit(1)
    ).scalar_one_or_none()


def latest_trust_list(factory: sessionmaker[Session]) -> dict[str, Any]:
    with factory() as s:
        row = _latest_row(s)
        if row is None:
            raise NotFound("no trust list has been published", message_ko="신뢰 목록이 아직 없습니다")
        doc: dict[str, Any] = json.loads(row.document)
        return doc


def trust_list_history(
    factory: sessionmaker[Session], *, since: int = 0, limit: int = 50
) -> list[TrustListVersion]:
    """Versions after `since`, oldest first, at most `limit` (NotFound when there is none at all)."""
    with factory() as s:
        rows = list(
            s.execute(
                select(TrustListVersion)
                .where(TrustListVersion.version > since)
                .order_by(TrustListVersion.version)
                .limit(limit)
            ).scalars()
        )
        if not rows and _latest_row(s) is None:
            raise NotFound("no trust list has been published", message_ko="신뢰 목록이 아직 없습니다")
        s.expunge_all()
        return rows


Change = Callable[[list[dict[str, Any]]], list[dict[str, Any]]]


def update_trust_list(
    factory: sessionmaker[Session], log: Log, signer: Signer, base_url: str, change: Change, *, at: datetime
) -> dict[str, Any]:
    """Apply `change` to the issuers of the latest version; sign, store and log the next version."""
    with transaction(factory) as s:
        # two editors racing for one version: the primary key lets only one commit
        row = _latest_row(s)
        previous: dict[str, Any] | None = json.loads(row.document) if row is not None else None
        issuers = change([dict(i) for i in (previous or {}).get("issuers", [])])
        issuers.sort(key=lambda i: str(i["department"]))
        version = (row.version + 1) if row is not None else 1
        doc: dict[str, Any] = {
            "id": f"{base_url.rstrip('/')}/trust-list",
            "type": TRUST_LIST_TYPE,
            "issuer": signer.verification_method.split("#", 1)[0],
            "version": version,
            "updated": dataintegrity.now_iso(at),
            "issuers": issuers,
        }
        if row is not None:
            doc["previousDigest"] = multibase.encode(bytes(row.digest), "u")
        signed = dataintegrity.sign(doc, signer, cryptosuite=dataintegrity.JCS, at=at)
        digest = merkle.document_digest(signed)
        appended = log.append(s, "trust-list", digest)
        s.add(
            TrustListVersion(version=version, document=dumps(signed), digest=digest, log_index=appended.index)
        )
        try:
            s.flush()
        except IntegrityError:
            raise Conflict(
                "the trust list changed meanwhile", message_ko="신뢰 목록이 그 사이 바뀌었습니다"
            ) from None
    log.maybe_checkpoint()
    return signed


def accredit(department: str, did: str, *, label_ko: str = "", label_en: str = "", at: datetime) -> Change:
    """A change adding (or updating) one issuer."""
    check_department(department)

    def change(issuers: list[dict[str, Any]]) -> list[dict[str, Any]]:
        kept = [i for i in issuers if i.get("department") != department]
        old = next((i for i in issuers if i.get("department") == department), None)
        entry: dict[str, Any] = {
            "department": department,
            "did": did,
            "name": {
                "ko": label_ko or (old or {}).get("name", {}).get("ko", department),
                "en": label_en or (old or {}).get("name", {}).get("en", department),
            },
            "accredited": (old or {}).get("accredited") or dataintegrity.now_iso(at),
        }
        return kept + [entry]

    return change


def withdraw(department: str) -> Change:
    """A change removing one issuer (its credentials stop being trusted by policy)."""

    def change(issuers: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if not any(i.get("department") == department for i in issuers):
            raise NotFound(
                f"{department} is not on the trust list",
                message_ko=f"{josa(department, '은')} 신뢰 목록에 없습니다",
            )
        return [i for i in issuers if i.get("department") != department]

    return change
