"""W3C VC-API issuing for machine clients: `POST /credentials/issue` and `POST /credentials/status`.

A department signs what a client sends when VCDM 2.0 allows it (`agents.datamodel.check_credential`,
the same rules the verifier applies), after filling in the status entries it was asked to allocate
(Bitstring Status List, the department's revocation and suspension lists on the registry). Each
signed credential is recorded (id, status indexes, digest; not the document) and its salted digest
is appended to the registry log by a background thread, so a request waits for neither the log nor
the allocation of status indexes (both are prepared ahead: `StatusPool`, `LeafLogger`).
"""

from __future__ import annotations

import copy
import logging
import queue
import threading
import time
import uuid
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from agents import dataintegrity as di
from agents import datamodel, merkle, statuslist
from agents.errors import Conflict, Error, InvalidInput, NotFound
from agents.keys import Signer

from . import models
from .protocol_models import VcApiCredential
from .protocols import ProtocolContext

log = logging.getLogger(__name__)

ENTRY_TYPE = "BitstringStatusListEntry"
OPTION_KEYS = {"cryptosuite", "credentialStatus", "created"}
STATES = ("active", "suspended", "revoked")


# --- who signs ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Identity:
    """The DID a department issues VC-API credentials under, and its signer."""

    did: str
    signer: Signer


class Signers:
    """Department signers, read from the key store once a minute (a rotation is picked up within it)."""

    def __init__(self, ctx: ProtocolContext, ttl: float = 60.0) -> None:
        self._ctx = ctx
        self._ttl = ttl
        self._cache: dict[str, tuple[float, Identity]] = {}
        self._lock = threading.Lock()

    def identity(self, department: models.Department) -> Identity:
        hit = self._cache.get(department.slug)
        if hit is not None and hit[0] > time.monotonic():
            return hit[1]
        with self._lock:
            if department.slug in self._ctx.didkey_departments:
                # the W3C test suites' issuers are did:key; the department's did:web stays its default
                name = f"{department.key_name[:56]}-didkey"
                if name not in self._ctx.keys.names():
                    self._ctx.keys.create(name)
                signer = self._ctx.keys.signer(name)
                ident = Identity(signer.verification_method.split("#", 1)[0], signer)
            else:
                ident = Identity(department.did, self._ctx.keys.signer(department.key_name))
            self._cache[department.slug] = (time.monotonic() + self._ttl, ident)
            return ident


# --- status indexes, allocated ahead ------------------------------------------------------------


class StatusPool:
    """Fresh random indexes of each status list, claimed from the registry ahead of need.

    An index claimed but never used (a restart) is only a gap in the list, never a reuse: the
    registry hands each index out once.
    """

    def __init__(self, ctx: ProtocolContext, size: int = 512) -> None:
        self._ctx = ctx
        self._size = size
        self._pools: dict[tuple[str, str], deque[int]] = {}
        self._wanted: queue.SimpleQueue[tuple[str, str]] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def take(self, department: str, list_id: str) -> int:
        pool = self._pools.setdefault((department, list_id), deque())
        try:
            index = pool.popleft()
        except IndexError:
            index = self._ctx.registry.allocate_status(department, list_id)
        if len(pool) < self._size // 2:
            self._wanted.put((department, list_id))
            self._start()
        return index

    def _start(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._refill, name="status-pool", daemon=True)
                self._thread.start()

    def _refill(self) -> None:
        while True:
            try:
                key = self._wanted.get(timeout=5)
            except queue.Empty:
                return
            pool = self._pools.setdefault(key, deque())
            try:
                if len(pool) < self._size:  # one round trip for the whole refill
                    pool.extend(self._ctx.registry.allocate_statuses(key[0], key[1], self._size - len(pool)))
            except Error as e:  # the registry is down: requests allocate themselves, and say so
                log.warning("status pool refill failed for %s/%s: %s", key[0], key[1], e.message)


# --- the log, written behind ----------------------------------------------------------------------


class LeafLogger:
    """Appends each issued credential's digest to the registry log, behind the request.

    Rows are committed with `log_index` NULL in the issuing transaction; this thread appends and
    fills the index in. A row left NULL by a crash is picked up by `sweep()` (run at start and every
    minute), so every signed credential is logged exactly as it was recorded.
    """

    def __init__(self, ctx: ProtocolContext) -> None:
        self._ctx = ctx
        self._queue: queue.SimpleQueue[int] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._last_sweep = time.monotonic()
        self._pending = 0
        self._idle = threading.Condition(self._lock)
        self.closed = False

    def enqueue(self, row_id: int) -> None:
        with self._lock:
            self._pending += 1
        self._queue.put(row_id)
        self._start()

    def _start(self) -> None:
        with self._lock:
            if not self.closed and (self._thread is None or not self._thread.is_alive()):
                self._thread = threading.Thread(target=self._run, name="leaf-logger", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while not self.closed:
            try:
                row_id = self._queue.get(timeout=1)
            except queue.Empty:
                if time.monotonic() - self._last_sweep > 60:
                    self.sweep()
                    continue
                return
            batch = [row_id]
            while len(batch) < 500:  # everything queued meanwhile goes in the same round trip
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            try:
                self._append(batch)
            finally:
                with self._lock:
                    self._pending -= len(batch)
                    self._idle.notify_all()

    def wait(self, timeout: float = 10.0) -> bool:
        """Block until every queued leaf is logged (tests, shutdown)."""
        with self._lock:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    def close(self, timeout: float = 10.0) -> None:
        self.wait(timeout)
        self.closed = True
        if self._thread is not None:
            self._thread.join(timeout)

    def _append(self, row_ids: list[int]) -> None:
        with self._ctx.tx() as s:
            rows = s.execute(select(VcApiCredential.id, VcApiCredential.digest).where(VcApiCredential.id.in_(row_ids), VcApiCredential.log_index.is_(None))).all()
        if not rows:
            return
        try:
            # a digest logged before (a retry after a crash) comes back with its index, not logged twice
            entries = self._ctx.registry.append_batch([("credential", bytes(r.digest)) for r in rows])
        except Error as e:
            log.warning("registry append failed (will retry): %s", e.message)
            time.sleep(1)
            if not self.closed:
                with self._lock:
                    self._pending += len(rows)
                for r in rows:
                    self._queue.put(r.id)
            return
        with self._ctx.tx() as s:
            for r, entry in zip(rows, entries, strict=True):
                s.execute(update(VcApiCredential).where(VcApiCredential.id == r.id).values(log_index=int(entry["index"])))

    def sweep(self, older_than: float = 30.0) -> int:
        """Queue the rows still unlogged after `older_than` seconds (their worker stopped)."""
        from datetime import timedelta

        self._last_sweep = time.monotonic()
        cutoff = self._ctx.now() - timedelta(seconds=older_than)
        with self._ctx.tx() as s:
            ids = s.scalars(select(VcApiCredential.id).where(VcApiCredential.log_index.is_(None), VcApiCredential.created_at < cutoff).limit(1000)).all()
        for row_id in ids:
            self.enqueue(row_id)
        return len(ids)


# --- issue ----------------------------------------------------------------------------------------


def _bad(en: str, ko: str) -> InvalidInput:
    return InvalidInput(en, message_ko=ko)


def parse_issue_request(body: Any, path_suite: str | None) -> tuple[dict[str, Any], dict[str, Any], str]:
    """`{credential, options}` -> (credential copy, options, cryptosuite); refuse unknown options."""
    if not isinstance(body, Mapping) or not isinstance(body.get("credential"), Mapping):
        raise _bad('the body is {"credential": {...}, "options": {...}}', '요청 본문은 {"credential": {...}, "options": {...}} 형식이어야 합니다')
    extra = set(body) - {"credential", "options"}
    if extra:
        raise _bad(f"unknown members: {', '.join(sorted(extra))[:200]}", f"알 수 없는 항목이 있습니다: {', '.join(sorted(extra))[:200]}")
    options = body.get("options") or {}
    if not isinstance(options, Mapping):
        raise _bad("options must be an object", "options는 객체여야 합니다")
    unknown = set(options) - OPTION_KEYS
    if unknown:
        raise _bad(f"unsupported options: {', '.join(sorted(unknown))[:200]}", f"지원하지 않는 옵션입니다: {', '.join(sorted(unknown))[:200]}")
    suite = options.get("cryptosuite", path_suite or di.JCS)
    if suite not in (di.RDFC, di.JCS) or (path_suite and suite != path_suite):
        raise _bad(
            f"cryptosuite must be eddsa-rdfc-2022 or eddsa-jcs-2022{' (this endpoint signs with ' + path_suite + ')' if path_suite else ''}",
            "cryptosuite는 eddsa-rdfc-2022 또는 eddsa-jcs-2022여야 합니다",
        )
    created = options.get("created")
    if created is not None and (not isinstance(created, str) or not di._DATETIME.match(created)):
        raise _bad("options.created must be an XML Schema date-time", "options.created는 날짜·시간 형식이어야 합니다")
    return copy.deepcopy(dict(body["credential"])), dict(options), suite


def _status_purposes(credential: dict[str, Any], options: Mapping[str, Any]) -> list[str]:
    """The status purposes to allocate: from options.credentialStatus or the credential's own template entries."""
    purposes: list[str] = []
    opt = options.get("credentialStatus")
    if opt is not None:
        if not isinstance(opt, Mapping) or opt.get("type") != ENTRY_TYPE:
            raise _bad(f'options.credentialStatus must be {{"type": "{ENTRY_TYPE}"}}', f'options.credentialStatus는 {{"type": "{ENTRY_TYPE}"}}이어야 합니다')
        wanted = opt.get("statusPurpose", ["revocation", "suspension"])
        purposes.extend(wanted if isinstance(wanted, list) else [wanted])
    template = credential.get("credentialStatus")
    entries = template if isinstance(template, list) else [template] if template is not None else []
    kept = []
    for entry in entries:
        if isinstance(entry, Mapping) and entry.get("type") == ENTRY_TYPE and "statusListIndex" not in entry and "statusListCredential" not in entry:
            purposes.extend(entry.get("statusPurpose", ["revocation", "suspension"]) if isinstance(entry.get("statusPurpose", []), list) else [entry["statusPurpose"]])
        elif isinstance(entry, Mapping) and entry.get("type") == ENTRY_TYPE:
            raise _bad(
                "a status entry with its own list and index cannot be signed here: send a template (type and statusPurpose) and the department allocates",
                "목록과 색인이 정해진 상태 항목은 받을 수 없습니다. type과 statusPurpose만 보내면 부서가 배정합니다",
            )
        else:
            kept.append(entry)  # another status mechanism: left to the data-model check
    if not all(isinstance(p, str) for p in purposes) or len(purposes) != len(set(purposes)) or not set(purposes) <= {"revocation", "suspension"}:
        raise _bad("statusPurpose must be revocation and/or suspension, each once", "statusPurpose는 revocation, suspension 중에서 한 번씩만 쓸 수 있습니다")
    if purposes:
        if kept:
            credential["credentialStatus"] = kept
        else:
            credential.pop("credentialStatus", None)
    return purposes


def _check_issuer(credential: dict[str, Any], did: str) -> None:
    issuer = credential.get("issuer")
    issuer_id = issuer.get("id") if isinstance(issuer, Mapping) else issuer
    if issuer is None:
        credential["issuer"] = did
    elif issuer_id != did:
        raise _bad(f"issuer must be this department's DID {did}", f"issuer는 이 부서의 DID({did})여야 합니다")


def issue(ctx: ProtocolContext, department: models.Department, body: Any, *, path_suite: str | None, client_id: str,
          signers: Signers, pool: StatusPool, logger: LeafLogger) -> dict[str, Any]:  # fmt: skip
    """Check, allocate status, sign, record, queue the leaf; the signed credential."""
    credential, options, suite = parse_issue_request(body, path_suite)
    ident = signers.identity(department)
    _check_issuer(credential, ident.did)
    purposes = _status_purposes(credential, options)
    if "proof" in credential:
        raise _bad("the credential already has a proof: send it unsigned", "이미 증명(proof)이 있는 자격증명입니다. 서명 전 문서를 보내세요")
    if purposes and "id" not in credential:
        credential["id"] = f"urn:uuid:{uuid.uuid4()}"  # status changes name the credential by its id
    indexes: dict[str, tuple[str, int]] = {}
    if purposes:
        lists = {"revocation": department.revocation_list, "suspension": department.suspension_list}
        entries = list(credential.get("credentialStatus") or [])
        for purpose in purposes:
            index = pool.take(department.slug, lists[purpose])
            indexes[purpose] = (lists[purpose], index)
            entries.append(statuslist.status_entry(ctx.registry.status_list_url(department.slug, lists[purpose]), index, purpose))
        credential["credentialStatus"] = entries[0] if len(entries) == 1 else entries
    # VCDM 2.0 §4: the same rules the verifier holds credentials to
    datamodel.require_credential(credential)
    proof_options = {"created": options["created"]} if "created" in options else None
    signed = di.sign(credential, ident.signer, cryptosuite=suite, options=proof_options)
    cred_id = signed.get("id")
    row = VcApiCredential(
        department_id=department.id, credential_id=cred_id if isinstance(cred_id, str) else f"urn:workcred:anonymous:{uuid.uuid4()}",
        issuer_did=ident.did, digest=merkle.document_digest(signed), client_id=client_id,
        revocation_list=indexes.get("revocation", (None, None))[0], revocation_index=indexes.get("revocation", (None, None))[1],
        suspension_list=indexes.get("suspension", (None, None))[0], suspension_index=indexes.get("suspension", (None, None))[1],
    )  # fmt: skip
    try:
        with ctx.tx() as s:
            s.add(row)
            s.flush()
            row_id = row.id
    except IntegrityError:
        raise Conflict("this department already issued a credential with this id", message_ko="이 부서가 같은 id의 자격증명을 이미 발급했습니다") from None
    logger.enqueue(row_id)
    return signed


# --- status ---------------------------------------------------------------------------------------

_TARGET = {"revoked": "revoked", "suspended": "suspended", "active": "active", "reinstated": "active"}


def parse_status_request(body: Any) -> tuple[str, str]:
    """`{credentialId, credentialStatus: [{type, status}]}` (VC-API UpdateCredentialStatus) -> (id, target state)."""
    if not isinstance(body, Mapping) or not isinstance(body.get("credentialId"), str) or len(body["credentialId"]) > 300:
        raise _bad("credentialId (a string) is required", "credentialId(문자열)가 필요합니다")
    changes = body.get("credentialStatus")
    if not isinstance(changes, list) or len(changes) != 1 or not isinstance(changes[0], Mapping):
        raise _bad('credentialStatus must be [{"type": "BitstringStatusListEntry", "status": "revoked|suspended|active"}]',
                   'credentialStatus는 [{"type": "BitstringStatusListEntry", "status": "revoked|suspended|active"}] 형식이어야 합니다')  # fmt: skip
    change = changes[0]
    status = change.get("status")
    if change.get("type") not in (ENTRY_TYPE, "BitstringStatusList") or not isinstance(status, str) or status not in _TARGET:
        raise _bad("status must be revoked, suspended or active (reinstate)", "status는 revoked, suspended, active(복원) 중 하나여야 합니다")
    return body["credentialId"], _TARGET[status]


def change_status(ctx: ProtocolContext, department: models.Department, body: Any, signers: Signers) -> dict[str, Any]:
    """Revoke, suspend or reinstate: flip the bit on the list, re-sign and publish it (the registry logs it)."""
    cred_id, target = parse_status_request(body)
    with ctx.tx() as s:
        row = s.scalars(select(VcApiCredential).where(VcApiCredential.department_id == department.id, VcApiCredential.credential_id == cred_id)).one_or_none()
        if row is None:
            raise NotFound("this department issued no credential with this id", message_ko="이 부서가 발급한 해당 id의 자격증명이 없습니다")
        state, rev, sus = row.state, (row.revocation_list, row.revocation_index), (row.suspension_list, row.suspension_index)
    if state == "revoked":
        raise Conflict("the credential is revoked: a revocation is final", message_ko="폐지된 자격증명입니다. 폐지는 되돌릴 수 없습니다")
    if target == state:
        return {"credentialId": cred_id, "status": state}
    if target == "revoked":
        list_id, index, value = rev[0], rev[1], True
    else:
        list_id, index, value = sus[0], sus[1], target == "suspended"
    if list_id is None or index is None:
        raise Conflict(
            f"the credential was issued without a {'revocation' if target == 'revoked' else 'suspension'} status entry",
            message_ko=f"이 자격증명은 {'폐지' if target == 'revoked' else '정지'} 상태 항목 없이 발급되었습니다",
        )
    # the list is the department's (did:web), signed with its own key, whatever identity signed the credential
    signer = ctx.keys.signer(department.key_name)
    for attempt in range(3):  # another writer (the console) may publish a version first: fetch again
        try:
            ctx.registry.set_status(department.slug, list_id, index, value, signer, cryptosuite=di.RDFC)
            break
        except Conflict:
            if attempt == 2:
                raise
    with ctx.tx() as s:
        s.execute(update(VcApiCredential).where(VcApiCredential.id == row.id).values(state=target))
    return {"credentialId": cred_id, "status": target}
