"""What the worker takes away and what the city keeps: career certificates with only the items the
worker picked (LSA art. 39(2)), the credentials ready for delivery, the audit trail logged in the
registry, and the outbox's messages."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

import schemas
from agents import dataintegrity as di
from agents import multibase
from agents.errors import Error, InvalidInput, NotFound

from .. import models
from ._base import SYSTEM, Actor, dumps
from ._issuing import IssuingMixin
from ._outbox import Message, Sender, open_message
from ._wallet import WorkerAuth

#: what a certificate may show, as the worker picks (the employer, who certifies, is always named)
CERTIFICATE_ITEMS = ("employer", "project", "employmentPeriod", "duties", "position", "wage")


@dataclass(frozen=True)
class ReadyCredential:
    """An issued credential waiting in the issuer for its holder (what an OpenID4VCI offer delivers)."""

    urn: str
    kind: str  # labor-contract | career-record | certificate
    credential: dict[str, Any]
    receipt: dict[str, Any] | None
    issued_at: datetime | None


@dataclass(frozen=True)
class AuditView:
    id: int
    at: datetime
    actor: str
    action: str
    target: str
    ip: str
    detail: dict[str, Any]
    personal_data: bool
    log_index: int | None


class RecordsMixin(IssuingMixin):
    def certificate(self, auth: WorkerAuth, career_record_urns: Sequence[str], items: Sequence[str], *,
                    purpose: str = "", actor: Actor | None = None) -> ReadyCredential:  # fmt: skip
        """A CareerCertificateCredential of the worker's career records with exactly `items`, issued now."""
        chosen = [i for i in CERTIFICATE_ITEMS if i in set(items)]
        if not career_record_urns or len(career_record_urns) > 100 or set(items) - set(CERTIFICATE_ITEMS) or not chosen:
            raise InvalidInput("pick 1-100 career records and items among " + ", ".join(CERTIFICATE_ITEMS),
                               message_ko="경력 기록(1~100개)과 표시할 항목을 고르세요: " + ", ".join(CERTIFICATE_ITEMS))  # fmt: skip
        with self.tx() as s:
            rows = list(s.scalars(select(models.IssuedCredential).where(
                models.IssuedCredential.urn.in_(list(career_record_urns)), models.IssuedCredential.kind == "career-record",
                models.IssuedCredential.holder_did == auth.holder_did, models.IssuedCredential.state != models.REVOKED,
                models.IssuedCredential.log_index.is_not(None))))  # fmt: skip
            if len(rows) != len(set(career_record_urns)) or len({r.department_id for r in rows}) != 1:
                raise NotFound("career records of yours from one department only", message_ko="한 부서에서 받은 본인의 경력 기록만 고를 수 있습니다")
            dept = s.get_one(models.Department, rows[0].department_id)
            p = s.get_one(models.Participant, rows[0].participant_id)
            records = [self.unseal_json(self.dek(s.get_one(models.Participant, r.participant_id)),
                                        s.get_one(models.Participant, r.participant_id), f"credential|{r.urn}", r.vc_enc)
                       for r in rows]  # fmt: skip
        subject: dict[str, Any] = {"id": auth.holder_did, "type": "CareerCertificate",
                                   "employee": {"name": records[0]["credentialSubject"]["employee"]["name"]},
                                   "employer": {"id": dept.did, "name": dept.name_ko}}  # fmt: skip
        picked = [{k: r["credentialSubject"][k] for k in chosen if k != "employer" and k in r["credentialSubject"]} for r in records]
        if len(records) == 1:
            subject.update(picked[0])
        else:
            subject["records"] = [pick | {"careerRecord": r["id"]} for pick, r in zip(picked, records, strict=True)]
        if purpose.strip():
            subject["purpose"] = purpose.strip()[:200]
        vc = {"@context": records[0]["@context"], "id": f"urn:uuid:{uuid.uuid4()}",
              "type": ["VerifiableCredential", "CareerCertificateCredential"], "issuer": dept.did,
              "validFrom": di.now_iso(self.now()), "credentialSubject": subject}  # fmt: skip
        errors = schemas.schema_errors(vc)
        if errors:
            raise InvalidInput("the certificate cannot be made: " + "; ".join(errors[:3]), message_ko="증명서를 만들 수 없습니다")
        vc = di.sign(vc, self.keys.signer(dept.key_name), cryptosuite=di.JCS, at=self.now())
        [index] = self.log_many("credential", [vc])
        with self.tx() as s:
            s.add(models.IssuedCredential(
                urn=vc["id"], kind="certificate", participant_id=p.id, department_id=dept.id, holder_did=auth.holder_did,
                vc_enc=self.seal(self.dek(p), p, f"credential|{vc['id']}", dumps(vc)), log_index=index,
            ))  # fmt: skip
            self.audit(s, actor or Actor(f"worker:{auth.participant_id}"), "certificate.issue", "credential", vc["id"],
                       department_id=dept.id, items=chosen, records=[r["id"] for r in records], logIndex=index)  # fmt: skip
        self.after_issue([vc["id"]], "certificate")
        return ReadyCredential(vc["id"], "certificate", vc, None, self.now())

    def credentials_ready_for(self, holder_did: str, urns: Sequence[str] | None = None) -> list[ReadyCredential]:
        """Every issued credential of this holder (contracts active or later, career records, certificates)."""
        out: list[ReadyCredential] = []
        with self.tx() as s:
            q = select(models.Contract).join(models.Participant, models.Contract.participant_id == models.Participant.id).where(
                models.Participant.holder_did == holder_did, models.Contract.credential_enc.is_not(None),
                models.Contract.log_index.is_not(None))  # fmt: skip  (a credential stored but not yet logged is not issued)
            for c in s.scalars(q):
                p = s.get_one(models.Participant, c.participant_id)
                vc = self.unseal_json(self.dek(p), p, f"contract|{c.urn}|credential", c.credential_enc or b"")
                if vc["credentialSubject"].get("id") == holder_did:
                    out.append(ReadyCredential(c.urn, "labor-contract", vc, _json(c.receipt), c.issued_at))
            for r in s.scalars(select(models.IssuedCredential).where(models.IssuedCredential.holder_did == holder_did,
                                                                     models.IssuedCredential.log_index.is_not(None))):
                p = s.get_one(models.Participant, r.participant_id)
                vc = self.unseal_json(self.dek(p), p, f"credential|{r.urn}", r.vc_enc)
                out.append(ReadyCredential(r.urn, r.kind, vc, _json(r.receipt), r.created_at))
        return [r for r in out if urns is None or r.urn in set(urns)]

    def worker_career_records(self, auth: WorkerAuth) -> list[tuple[ReadyCredential, str, str | None]]:
        """The worker's logged career records with their state and the reason shown (the wallet's list)."""
        with self.tx() as s:
            rows = list(s.scalars(select(models.IssuedCredential).where(
                models.IssuedCredential.holder_did == auth.holder_did, models.IssuedCredential.kind == "career-record",
                models.IssuedCredential.log_index.is_not(None)).order_by(models.IssuedCredential.id)))  # fmt: skip
            out = []
            for r in rows:
                p = s.get_one(models.Participant, r.participant_id)
                vc = self.unseal_json(self.dek(p), p, f"credential|{r.urn}", r.vc_enc)
                out.append((ReadyCredential(r.urn, r.kind, vc, _json(r.receipt), r.created_at), r.state, r.status_reason))
            return out

    def issued_credentials(self, auth: WorkerAuth) -> list[ReadyCredential]:
        return self.credentials_ready_for(auth.holder_did)

    # -- audit trail ----------------------------------------------------------------------------------

    def flush_audit(self, limit: int = 5000) -> int:
        """Log pending audit events in the registry as `audit-event` leaves (hashes only), in one batch."""
        with self.tx() as s:
            rows = list(s.scalars(select(models.AuditEvent).where(models.AuditEvent.log_index.is_(None))
                                  .order_by(models.AuditEvent.id).limit(limit).with_for_update()))  # fmt: skip
            if not rows:
                return 0
            indexes = self.log_digests("audit-event", [multibase.b64url_decode(r.digest) for r in rows])
            for row, index in zip(rows, indexes, strict=True):
                row.log_index = index
        return len(rows)

    def audit_trail(self, *, target: str | None = None, project_id: int | None = None, department_id: int | None = None,
                    limit: int = 200, offset: int = 0) -> list[AuditView]:  # fmt: skip
        """Audit events, newest first; `target` is an urn or a `type:id` ("participant:12")."""
        q = select(models.AuditEvent)
        if target is not None:
            kind, _, ident = target.partition(":") if not target.startswith("urn:") else ("", "", target)
            q = q.where(models.AuditEvent.target_id == ident)
            if kind:
                q = q.where(models.AuditEvent.target_type == kind)
        if project_id is not None:
            q = q.where(models.AuditEvent.project_id == project_id)
        if department_id is not None:
            q = q.where(models.AuditEvent.department_id == department_id)
        with self.tx() as s:
            rows = s.scalars(q.order_by(models.AuditEvent.id.desc()).limit(min(limit, 10_000)).offset(offset))
            return [AuditView(r.id, r.at, r.actor, r.action, f"{r.target_type}:{r.target_id}", r.ip, json.loads(r.detail),
                              r.personal_data, r.log_index) for r in rows]  # fmt: skip

    # -- outbox ---------------------------------------------------------------------------------------

    def outbox_messages(self, *, limit: int = 100, actor: Actor = SYSTEM) -> list[Message]:
        """The newest messages in plain text (the development outbox page); reading them is recorded."""
        with self.tx() as s:
            rows = list(s.scalars(select(models.OutboxMessage).order_by(models.OutboxMessage.created_at.desc()).limit(limit)))
            out = []
            for row in rows:
                p = s.get_one(models.Participant, row.participant_id)
                if p.wrapped_dek is not None:
                    out.append(open_message(self.dek(p), p, row))
            self.audit(s, actor, "personal-data.read", "outbox", len(out), personal_data=True, purpose="outbox")
        return out

    def deliver_outbox(self, sender: Sender, *, limit: int = 100) -> int:
        """Send queued messages through `sender`; a refused one is retried up to 5 times. How many were sent."""
        sent = 0
        with self.tx() as s:
            rows = list(s.scalars(select(models.OutboxMessage).where(models.OutboxMessage.state == "queued")
                                  .order_by(models.OutboxMessage.created_at).limit(limit).with_for_update()))  # fmt: skip
            for row in rows:
                p = s.get_one(models.Participant, row.participant_id)
                if p.wrapped_dek is None:
                    row.state = "failed"
                    continue
                try:
                    sender.send(open_message(self.dek(p), p, row))
                except Error:
                    row.attempts += 1
                    row.state = "failed" if row.attempts >= 5 else "queued"
                    continue
                row.state, row.sent_at = "sent", self.now()
                sent += 1
        return sent


def _json(text: str | None) -> Any:
    return json.loads(text) if text else None
