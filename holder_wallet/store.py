"""The wallet's data layer: accounts, keys, passkeys, held credentials, shares, published links.

Every personal value is sealed under the worker's data key (`web.envelope`); this module is the only
place that opens them, and only typed objects leave it. `erase` destroys the data key.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from agents.errors import Conflict, Error, InvalidCredential, NotFound
from agents.keys import Ed25519KeyPair
from web import envelope
from web.db import transaction

from .models import HeldCredential, PublishedPresentation, ShareEvent, Worker, WorkerPasskey

Clock = Callable[[], datetime]

_KIND_OF_TYPE = {
    "LaborContractCredential": "contract",
    "CareerRecordCredential": "career",
    "CareerCertificateCredential": "certificate",
}


class AccountErased(Error):
    """The account was erased by its owner: its data key is gone."""

    code = "account-erased"
    http_status = 410


def aad(worker_id: str, column: str, row: str | int = "") -> str:
    """What a sealed value is bound to: the worker, the table.column and the row."""
    return f"wallet|{worker_id}|{column}|{row}"


def _now() -> datetime:
    return datetime.now(UTC)


def _json_bytes(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _date(value: Any) -> date | None:
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def kind_of(credential: Mapping[str, Any]) -> str:
    """contract, career or certificate, from the credential's `type`; anything else is refused."""
    types = credential.get("type")
    for t in types if isinstance(types, list) else [types]:
        if isinstance(t, str) and t in _KIND_OF_TYPE:
            return _KIND_OF_TYPE[t]
    raise InvalidCredential("The wallet keeps labor contracts, career records and certificates only",
                            message_ko="전자지갑은 근로계약서, 경력기록, 경력증명서만 보관합니다")  # fmt: skip


def summary_of(credential: Mapping[str, Any]) -> dict[str, Any]:
    """What lists and the career view show without opening the whole credential."""
    subject = credential.get("credentialSubject")
    s: Mapping[str, Any] = subject if isinstance(subject, Mapping) else {}
    period = s.get("contractPeriod") or s.get("employmentPeriod") or {}
    project = s.get("project") if isinstance(s.get("project"), Mapping) else {}
    employer = s.get("employer") if isinstance(s.get("employer"), Mapping) else {}
    return {
        "project": project.get("name", ""),
        "projectId": project.get("id", ""),
        "department": employer.get("name", ""),
        "position": s.get("position", ""),
        "duties": s.get("duties", ""),
        "contractType": s.get("contractType", ""),
        "startDate": period.get("startDate", "") if isinstance(period, Mapping) else "",
        "endDate": period.get("endDate", "") if isinstance(period, Mapping) else "",
        "contract": s.get("contract", "") if isinstance(s.get("contract"), str) else "",
    }


@dataclass(frozen=True)
class Account:
    id: str
    did: str
    user_handle: bytes
    issuer_worker_id: str | None
    name: str
    birth_date: str


@dataclass(frozen=True)
class Held:
    """A credential in the wallet, opened."""

    row_id: int
    credential_id: str
    kind: str
    contract_id: str | None
    start_date: date | None
    end_date: date | None
    status: str
    status_reason: str
    credential: dict[str, Any]
    receipt: dict[str, Any] | None
    summary: dict[str, Any]
    received_at: datetime


@dataclass(frozen=True)
class Summary:
    """A held credential's summary without the credential (what lists and the career view show)."""

    credential_id: str
    kind: str
    contract_id: str | None
    status: str
    summary: dict[str, Any]


@dataclass(frozen=True)
class Share:
    id: int
    channel: str
    outcome: str
    detail: dict[str, Any]
    created_at: datetime


@dataclass(frozen=True)
class Passkey:
    id: int
    worker_id: str
    credential_id: bytes
    public_key: bytes
    sign_count: int
    transports: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Published:
    id: str
    worker_id: str
    purpose: str
    expires_at: datetime
    withdrawn_at: datetime | None


class WalletStore:
    """Typed access to the wallet database; `master` wraps each worker's data key."""

    def __init__(self, factory: sessionmaker[Session], master: envelope.MasterKey, *, clock: Clock = _now) -> None:
        self.factory = factory
        self.master = master
        self.clock = clock

    @contextmanager
    def _tx(self) -> Iterator[Session]:
        with transaction(self.factory) as s:
            yield s

    # --- accounts and keys ---------------------------------------------------------------------

    def _dek(self, w: Worker) -> bytes:
        if w.wrapped_dek is None:
            raise AccountErased("This wallet account was erased", message_ko="이 전자지갑 계정은 삭제되었습니다")
        return self.master.unwrap(w.wrapped_dek, w.id)

    def _worker(self, s: Session, worker_id: str) -> Worker:
        w = s.get(Worker, worker_id)
        if w is None:
            raise NotFound("No such wallet account", message_ko="전자지갑 계정을 찾을 수 없습니다")
        return w

    def identity_index(self, name: str, birth_date: str) -> str:
        """The keyed blind index of a person's name and birth date (as the issuer matches them)."""
        return self.master.blind_index("text", envelope.normalise("name", name) + "|" + envelope.normalise("birth-date", birth_date))

    def accounts_for_identity(self, name: str, birth_date: str) -> list[str]:
        """Ids of the live accounts whose holder gave this name and birth date."""
        with self.factory() as s:
            q = select(Worker.id).where(Worker.identity_index == self.identity_index(name, birth_date), Worker.wrapped_dek.is_not(None))
            return list(s.scalars(q))

    def create_account(self, *, name: str, birth_date: str, key: Ed25519KeyPair | None = None) -> Account:
        """A new account with its own data key and did:key (a fresh key unless one is restored)."""
        key = key or Ed25519KeyPair.generate()
        wid = secrets.token_urlsafe(16)
        dek, wrapped = self.master.new_wrapped_key(wid)
        w = Worker(id=wid, did=key.public.did_key, user_handle=secrets.token_bytes(32), wrapped_dek=wrapped,
                   identity_index=self.identity_index(name, birth_date),
                   sealed_profile=envelope.seal(dek, _json_bytes({"name": name, "birthDate": birth_date}), aad(wid, "worker.profile")),
                   sealed_secret_key=envelope.seal(dek, key.seed, aad(wid, "worker.secret_key")),
                   created_at=self.clock())  # fmt: skip
        with self._tx() as s:
            if s.scalar(select(Worker.id).where(Worker.did == w.did)) is not None:
                raise Conflict("This key already belongs to a wallet account", message_ko="이 키는 이미 다른 전자지갑 계정에 있습니다")
            s.add(w)
        return self.account(wid)

    def account(self, worker_id: str) -> Account:
        with self.factory() as s:
            w = self._worker(s, worker_id)
            dek = self._dek(w)
            profile = json.loads(envelope.open(dek, w.sealed_profile or b"", aad(w.id, "worker.profile")))
            return Account(w.id, w.did or "", w.user_handle, w.issuer_worker_id, profile["name"], profile["birthDate"])

    def account_by_issuer_id(self, issuer_worker_id: str) -> Account | None:
        with self.factory() as s:
            wid = s.scalar(select(Worker.id).where(Worker.issuer_worker_id == issuer_worker_id, Worker.wrapped_dek.is_not(None)))
        return self.account(wid) if wid else None

    def account_by_did(self, did: str) -> Account | None:
        with self.factory() as s:
            wid = s.scalar(select(Worker.id).where(Worker.did == did, Worker.wrapped_dek.is_not(None)))
        return self.account(wid) if wid else None

    def account_by_user_handle(self, handle: bytes) -> Account | None:
        with self.factory() as s:
            wid = s.scalar(select(Worker.id).where(Worker.user_handle == handle, Worker.wrapped_dek.is_not(None)))
        return self.account(wid) if wid else None

    def key(self, worker_id: str) -> Ed25519KeyPair:
        """The worker's did:key pair, opened for one signature."""
        with self.factory() as s:
            w = self._worker(s, worker_id)
            seed = envelope.open(self._dek(w), w.sealed_secret_key or b"", aad(w.id, "worker.secret_key"))
        return Ed25519KeyPair.from_seed(seed)

    def bind_issuer(self, worker_id: str, issuer_worker_id: str, worker_token: str) -> None:
        """Remember the issuer's id of this worker and the bearer token for the wallet API."""
        with self._tx() as s:
            w = self._worker(s, worker_id)
            other = s.scalar(select(Worker.id).where(Worker.issuer_worker_id == issuer_worker_id, Worker.id != w.id))
            if other is not None:
                raise Conflict("The issuer's worker record is bound to another wallet account",
                               message_ko="서울시의 근로자 기록이 다른 전자지갑 계정에 연결되어 있습니다")  # fmt: skip
            w.issuer_worker_id = issuer_worker_id
            w.sealed_worker_token = envelope.seal(self._dek(w), worker_token, aad(w.id, "worker.worker_token"))

    def worker_token(self, worker_id: str) -> str | None:
        with self.factory() as s:
            w = self._worker(s, worker_id)
            if w.sealed_worker_token is None:
                return None
            return envelope.open(self._dek(w), w.sealed_worker_token, aad(w.id, "worker.worker_token")).decode()

    def touch_login(self, worker_id: str) -> None:
        with self._tx() as s:
            self._worker(s, worker_id).last_login_at = self.clock()

    # --- passkeys ------------------------------------------------------------------------------

    def add_passkey(self, worker_id: str, credential_id: bytes, public_key: bytes, sign_count: int, transports: list[str],
                    *, replace: bool = False) -> None:  # fmt: skip
        """Add a passkey; `replace` first removes the others (a fresh identity check after a lost phone)."""
        with self._tx() as s:
            self._dek(self._worker(s, worker_id))
            if replace:
                s.execute(delete(WorkerPasskey).where(WorkerPasskey.worker_id == worker_id))
            s.add(WorkerPasskey(worker_id=worker_id, credential_id=credential_id, public_key=public_key,
                                sign_count=sign_count, transports=",".join(transports), created_at=self.clock()))  # fmt: skip

    def passkeys(self, worker_id: str) -> list[Passkey]:
        with self.factory() as s:
            rows = s.scalars(select(WorkerPasskey).where(WorkerPasskey.worker_id == worker_id).order_by(WorkerPasskey.id))
            return [_passkey(p) for p in rows]

    def passkey(self, credential_id: bytes) -> Passkey | None:
        with self.factory() as s:
            p = s.scalar(select(WorkerPasskey).where(WorkerPasskey.credential_id == credential_id))
            return _passkey(p) if p else None

    def used_passkey(self, passkey_id: int, sign_count: int) -> None:
        with self._tx() as s:
            s.execute(update(WorkerPasskey).where(WorkerPasskey.id == passkey_id)
                      .values(sign_count=sign_count, last_used_at=self.clock()))  # fmt: skip

    # --- credentials ---------------------------------------------------------------------------

    def put_credential(self, worker_id: str, credential: Mapping[str, Any], *, receipt: Mapping[str, Any] | None = None,
                       status: str = "active", status_reason: str = "") -> Held:  # fmt: skip
        """Keep a credential (or update the one with the same id: a newer receipt, a status)."""
        cid = credential.get("id")
        if not isinstance(cid, str) or not cid or len(cid) > 200:
            raise InvalidCredential("The credential has no usable id", message_ko="자격증명에 id가 없습니다")
        kind = kind_of(credential)
        summary = summary_of(credential)
        with self._tx() as s:
            w = self._worker(s, worker_id)
            dek = self._dek(w)
            row = s.scalar(select(HeldCredential).where(HeldCredential.worker_id == w.id, HeldCredential.credential_id == cid))
            if row is None:
                row = HeldCredential(worker_id=w.id, credential_id=cid, kind=kind, received_at=self.clock())
                s.add(row)
            row.contract_id = summary["contract"] or (cid if kind == "contract" else None)
            row.start_date, row.end_date = _date(summary["startDate"]), _date(summary["endDate"])
            row.status = status
            row.sealed_credential = envelope.seal(dek, _json_bytes(dict(credential)), aad(w.id, "held.credential", cid))
            row.sealed_summary = envelope.seal(dek, _json_bytes(summary), aad(w.id, "held.summary", cid))
            if receipt is not None:
                row.sealed_receipt = envelope.seal(dek, _json_bytes(dict(receipt)), aad(w.id, "held.receipt", cid))
            row.sealed_status_reason = envelope.seal(dek, status_reason, aad(w.id, "held.status_reason", cid)) if status_reason else None
        return self.credential(worker_id, cid)

    def set_status(self, worker_id: str, credential_id: str, status: str, reason: str = "") -> None:
        with self._tx() as s:
            w = self._worker(s, worker_id)
            dek = self._dek(w)
            sealed = envelope.seal(dek, reason, aad(w.id, "held.status_reason", credential_id)) if reason else None
            s.execute(update(HeldCredential)
                      .where(HeldCredential.worker_id == w.id, HeldCredential.credential_id == credential_id)
                      .values(status=status, sealed_status_reason=sealed, status_checked_at=self.clock()))  # fmt: skip

    def credentials(self, worker_id: str, kind: str | None = None) -> list[Held]:
        """The worker's credentials, opened; newest end date first."""
        with self.factory() as s:
            w = self._worker(s, worker_id)
            dek = self._dek(w)
            q = select(HeldCredential).where(HeldCredential.worker_id == w.id)
            if kind is not None:
                q = q.where(HeldCredential.kind == kind)
            rows = s.scalars(q.order_by(HeldCredential.end_date.desc(), HeldCredential.id.desc())).all()
            return [_held(dek, w.id, r) for r in rows]

    def summaries(self, worker_id: str, kinds: tuple[str, ...] = ("contract", "career")) -> list[Summary]:
        """The worker's credentials of `kinds` as their summaries only (the career view): the
        credentials themselves stay sealed; one indexed query, newest end date first."""
        with self.factory() as s:
            w = self._worker(s, worker_id)
            dek = self._dek(w)
            rows = s.execute(select(HeldCredential.credential_id, HeldCredential.kind, HeldCredential.contract_id,
                                    HeldCredential.status, HeldCredential.sealed_summary)
                             .where(HeldCredential.worker_id == w.id, HeldCredential.kind.in_(kinds))
                             .order_by(HeldCredential.end_date.desc())).all()  # fmt: skip
            return [Summary(cid, kind, contract, status,
                            json.loads(envelope.open(dek, sealed, aad(w.id, "held.summary", cid))) if sealed else {})
                    for cid, kind, contract, status, sealed in rows]  # fmt: skip

    def credential(self, worker_id: str, credential_id: str) -> Held:
        with self.factory() as s:
            w = self._worker(s, worker_id)
            r = s.scalar(select(HeldCredential).where(HeldCredential.worker_id == w.id, HeldCredential.credential_id == credential_id))
            if r is None:
                raise NotFound("No such credential in this wallet", message_ko="전자지갑에 그 자격증명이 없습니다")
            return _held(self._dek(w), w.id, r)

    # --- shares and published presentations ----------------------------------------------------

    def record_share(self, worker_id: str, channel: str, outcome: str, detail: Mapping[str, Any]) -> None:
        with self._tx() as s:
            w = self._worker(s, worker_id)
            sealed = envelope.seal(self._dek(w), _json_bytes(dict(detail)), aad(w.id, "share.detail"))
            s.add(ShareEvent(worker_id=w.id, channel=channel, outcome=outcome, sealed_detail=sealed, created_at=self.clock()))

    def shares(self, worker_id: str) -> list[Share]:
        with self.factory() as s:
            w = self._worker(s, worker_id)
            dek = self._dek(w)
            rows = s.scalars(select(ShareEvent).where(ShareEvent.worker_id == w.id).order_by(ShareEvent.id.desc())).all()
            return [Share(r.id, r.channel, r.outcome, json.loads(envelope.open(dek, r.sealed_detail, aad(w.id, "share.detail"))),
                          r.created_at) for r in rows]  # fmt: skip

    def publish(self, worker_id: str, presentation: Mapping[str, Any], *, ttl: timedelta, purpose: str = "qr") -> Published:
        """Keep a signed presentation behind a short random id until `ttl` passes or it is withdrawn."""
        pid = secrets.token_urlsafe(12)
        now = self.clock()
        with self._tx() as s:
            w = self._worker(s, worker_id)
            sealed = envelope.seal(self._dek(w), _json_bytes(dict(presentation)), aad(w.id, "published.presentation", pid))
            s.add(PublishedPresentation(id=pid, worker_id=w.id, purpose=purpose, sealed_presentation=sealed,
                                        created_at=now, expires_at=now + ttl))  # fmt: skip
        return Published(pid, worker_id, purpose, now + ttl, None)

    def published(self, worker_id: str) -> list[Published]:
        with self.factory() as s:
            rows = s.scalars(select(PublishedPresentation).where(PublishedPresentation.worker_id == worker_id)
                             .order_by(PublishedPresentation.created_at.desc())).all()  # fmt: skip
            return [Published(r.id, r.worker_id, r.purpose, _utc(r.expires_at), r.withdrawn_at) for r in rows]

    def open_published(self, pid: str) -> dict[str, Any]:
        """The presentation behind a short link (public); NotFound once expired, withdrawn or erased."""
        gone = NotFound("This link has expired or was withdrawn", message_ko="이 링크는 만료되었거나 근로자가 회수했습니다")
        with self.factory() as s:
            r = s.get(PublishedPresentation, pid) if 8 <= len(pid) <= 32 else None
            if r is None or r.withdrawn_at is not None or _utc(r.expires_at) <= self.clock():
                raise gone
            w = self._worker(s, r.worker_id)
            if w.wrapped_dek is None:
                raise gone
            return dict(json.loads(envelope.open(self._dek(w), r.sealed_presentation, aad(w.id, "published.presentation", pid))))

    def withdraw(self, worker_id: str, pid: str) -> None:
        with self._tx() as s:
            r = s.get(PublishedPresentation, pid)
            if r is None or r.worker_id != worker_id:
                raise NotFound("No such link", message_ko="그런 링크가 없습니다")
            if r.withdrawn_at is None:
                r.withdrawn_at = self.clock()

    # --- erasure -------------------------------------------------------------------------------

    def erase(self, worker_id: str) -> None:
        """Destroy the worker's data key: every sealed value of the worker becomes unreadable.

        The identifiers that would link the rows to a person (DID, the issuer's worker id) are
        cleared, passkeys and published links are deleted; the sealed rows stay as unreadable bytes.
        """
        with self._tx() as s:
            w = self._worker(s, worker_id)
            s.execute(delete(WorkerPasskey).where(WorkerPasskey.worker_id == w.id))
            s.execute(delete(PublishedPresentation).where(PublishedPresentation.worker_id == w.id))
            w.wrapped_dek = None
            w.did = None
            w.issuer_worker_id = None
            w.identity_index = None
            w.sealed_worker_token = None
            w.erased_at = self.clock()


def _utc(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)  # SQLite gives naive datetimes back


def _passkey(p: WorkerPasskey) -> Passkey:
    return Passkey(p.id, p.worker_id, p.credential_id, p.public_key, p.sign_count, [t for t in p.transports.split(",") if t])


def _held(dek: bytes, wid: str, r: HeldCredential) -> Held:
    cid = r.credential_id
    receipt = json.loads(envelope.open(dek, r.sealed_receipt, aad(wid, "held.receipt", cid))) if r.sealed_receipt else None
    reason = envelope.open(dek, r.sealed_status_reason, aad(wid, "held.status_reason", cid)).decode() if r.sealed_status_reason else ""
    summary = json.loads(envelope.open(dek, r.sealed_summary, aad(wid, "held.summary", cid))) if r.sealed_summary else {}
    return Held(r.id, cid, r.kind, r.contract_id, r.start_date, r.end_date, r.status, reason,
                json.loads(envelope.open(dek, r.sealed_credential, aad(wid, "held.credential", cid))), receipt, summary,
                _utc(r.received_at))  # fmt: skip
