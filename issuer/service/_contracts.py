"""Drafts, offers and the work lists. A draft is final in every field the worker does not fill in
(`id`, `issuer`, `validFrom`, `credentialSubject` but its `id`, status entries allocated now);
offering it sends the worker an invitation through the outbox."""

from __future__ import annotations

import hashlib
import json
import secrets
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

import schemas
from agents import dataintegrity, multibase, statuslist
from agents.errors import Conflict, InvalidInput
from schemas import Violation

from .. import models
from ._base import SYSTEM, Actor, aware, digest, dumps, not_found
from ._projects import ProjectsMixin, apply_fields, compose_subject
from ._roster import RosterMixin

V2 = "https://www.w3.org/ns/credentials/v2"
INVITATION_DAYS = 14
#: contracts that still count for their worker (an amendment supersedes; a revoked one is over)
LIVE = (models.DRAFT, models.OFFERED, models.SIGNED, models.ACTIVE, models.SUSPENDED)


@dataclass(frozen=True)
class ContractView:
    """A contract without personal data: what work lists show."""

    id: int
    urn: str
    participant_id: int
    project_id: int
    department_id: int
    version: int
    supersedes: str | None
    state: str
    status_reason: str | None
    draft_digest: str
    log_index: int | None
    has_receipt: bool
    created_at: datetime
    offered_at: datetime | None
    signed_at: datetime | None
    issued_at: datetime | None
    ended_at: datetime | None

    @classmethod
    def of(cls, c: models.Contract) -> ContractView:
        return cls(c.id, c.urn, c.participant_id, c.project_id, c.department_id, c.version, c.supersedes, c.state,
                   c.status_reason, c.draft_digest, c.log_index, c.receipt is not None, c.created_at, c.offered_at,
                   c.signed_at, c.issued_at, c.ended_at)  # fmt: skip


@dataclass(frozen=True)
class DraftResult:
    created: tuple[str, ...]  # contract urns
    failed: tuple[tuple[int, tuple[Violation, ...]], ...]  # (participant id, its legal violations)


@dataclass(frozen=True)
class OfferResult:
    urn: str
    participant_id: int
    invitation_url: str | None  # None when the worker's wallet is already bound (a notice is sent instead)


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode("ascii", "replace")).digest()


def row_fields(details: Any) -> dict[str, Any]:
    """The roster row as credentialSubject paths (employee.* and the template's participant fields)."""
    fields = {"employee.name": details.name, "employee.birthDate": details.birth_date, "employee.phone": details.phone}
    fields.update(details.fields)
    return fields


class ContractsMixin(RosterMixin, ProjectsMixin):
    def allocate_status(self, dept: models.Department, count: int) -> list[tuple[int, int]]:
        """`count` pairs of fresh (revocation, suspension) indexes from the registry."""
        rev = self.registry.allocate_statuses(dept.slug, dept.revocation_list, count)
        sus = self.registry.allocate_statuses(dept.slug, dept.suspension_list, count)
        return list(zip(rev, sus, strict=True))

    def status_entries(self, dept: models.Department, rev: int, sus: int) -> list[dict[str, Any]]:
        return [
            statuslist.status_entry(self.registry.status_list_url(dept.slug, dept.revocation_list), rev, "revocation"),
            statuslist.status_entry(self.registry.status_list_url(dept.slug, dept.suspension_list), sus, "suspension"),
        ]

    def build_draft(self, dept: models.Department, project: models.Project, subject: dict[str, Any], urn: str,
                    rev: int, sus: int, holder_did: str | None) -> dict[str, Any]:  # fmt: skip
        draft: dict[str, Any] = {
            "@context": [V2, schemas.CONTEXT_URL], "id": urn, "type": ["VerifiableCredential", "LaborContractCredential"],
            "issuer": dept.did, "validFrom": dataintegrity.now_iso(self.now()),
            "credentialStatus": self.status_entries(dept, rev, sus),
            "credentialSubject": ({"id": holder_did} if holder_did else {}) | subject,
        }  # fmt: skip
        return draft

    def draft_contracts(self, project_id: int, participant_ids: Iterable[int] | None = None, *,
                        actor: Actor = SYSTEM) -> DraftResult:  # fmt: skip
        """One draft per participant that has no live contract in the project yet (idempotent)."""
        with self.tx() as s:
            project = s.get(models.Project, project_id)
            if project is None:
                raise not_found("project", "사업")
            dept = s.get_one(models.Department, project.department_id)
            q = select(models.Participant).where(models.Participant.project_id == project_id,
                                                 models.Participant.wrapped_dek.is_not(None))  # fmt: skip
            if participant_ids is not None:
                q = q.where(models.Participant.id.in_(list(participant_ids)))
            taken = set(s.scalars(select(models.Contract.participant_id).where(
                models.Contract.project_id == project_id, models.Contract.state.in_(LIVE + (models.COMPLETED,)))))  # fmt: skip
            todo = [p for p in s.scalars(q.order_by(models.Participant.id)) if p.id not in taken]
            s.expunge_all()
        failed: list[tuple[int, tuple[Violation, ...]]] = []
        ready: list[tuple[models.Participant, bytes, dict[str, Any]]] = []
        base = compose_subject(dept, project)  # once: the template, the project and its overrides
        for p in todo:
            dek = self.dek(p)
            subject = apply_fields(json.loads(dumps(base)), row_fields(self.details_of(p, dek)))
            errors = tuple(v for v in schemas.check_contract(subject) if v.severity == "error")
            if errors:
                failed.append((p.id, errors))
            else:
                ready.append((p, dek, subject))
        indexes = self.allocate_status(dept, len(ready)) if ready else []
        created: list[str] = []
        with self.tx() as s:
            for (p, dek, subject), (rev, sus) in zip(ready, indexes, strict=True):
                urn = f"urn:uuid:{uuid.uuid4()}"
                draft = self.build_draft(dept, project, subject, urn, rev, sus, p.holder_did)
                s.add(models.Contract(
                    urn=urn, participant_id=p.id, project_id=project_id, department_id=dept.id,
                    draft_enc=self.seal(dek, p, f"contract|{urn}|draft", dumps(draft)), draft_digest=digest(draft),
                    revocation_index=rev, suspension_index=sus, updated_at=self.now(),
                    end_date=date.fromisoformat(subject["contractPeriod"]["endDate"]) if subject["contractPeriod"].get("endDate") else None,
                ))  # fmt: skip
                created.append(urn)
            self.audit(s, actor, "contract.draft", "project", project_id, department_id=dept.id, project_id=project_id,
                       created=len(created), failed=[pid for pid, _ in failed])  # fmt: skip
        return DraftResult(tuple(created), tuple(failed))

    def draft_of(self, s: Any, c: models.Contract) -> tuple[models.Participant, bytes, dict[str, Any]]:
        p = s.get_one(models.Participant, c.participant_id)
        dek = self.dek(p)
        return p, dek, self.unseal_json(dek, p, f"contract|{c.urn}|draft", c.draft_enc)

    def store_draft(self, c: models.Contract, p: models.Participant, dek: bytes, draft: dict[str, Any]) -> None:
        c.draft_enc = self.seal(dek, p, f"contract|{c.urn}|draft", dumps(draft))
        c.draft_digest = digest(draft)
        c.updated_at = self.now()

    def new_invitation(self, s: Any, p: models.Participant) -> str:
        """A fresh invitation for the row; returns the wallet link (the token is never stored)."""
        token = multibase.b64url(secrets.token_bytes(32))
        s.add(models.Invitation(participant_id=p.id, token_hash=token_hash(token),
                                expires_at=self.now() + timedelta(days=INVITATION_DAYS)))  # fmt: skip
        return f"{self.wallet_url}/invite/{token}"

    def offer_contracts(self, urns: Sequence[str], *, actor: Actor = SYSTEM) -> list[OfferResult]:
        """draft → offered: an invitation (or, for a bound wallet, a notice) per worker, through the outbox."""
        out: list[OfferResult] = []
        with self.tx() as s, s.no_autoflush:
            rows = list(s.scalars(select(models.Contract).where(models.Contract.urn.in_(list(urns)))))
            if len(rows) != len(set(urns)):
                raise not_found("contract", "계약")
            for project_id in {c.project_id for c in rows}:
                self.require_template_ready(project_id)
            _participants = self.preload(s, models.Participant, [c.participant_id for c in rows])
            _projects = self.preload(s, models.Project, [c.project_id for c in rows])
            links: dict[int, str | None] = {}
            for c in rows:
                if c.state != models.DRAFT:
                    raise Conflict(f"contract {c.urn} is {c.state}, not a draft", message_ko="초안 상태의 계약만 제안할 수 있습니다")
                p = s.get_one(models.Participant, c.participant_id)
                if p.id not in links:
                    project = s.get_one(models.Project, c.project_id)
                    dek = self.dek(p)
                    phone = self.unseal(dek, p, "phone", p.phone_enc).decode()
                    link = None if p.holder_did else self.new_invitation(s, p)
                    body = (f"[서울시] '{project.name}' 근로계약서가 도착했습니다. 전자지갑에서 읽고 서명해 주세요. "
                            f"Your labor contract has arrived: {link or self.wallet_url + '/'}")  # fmt: skip
                    self.outbox.queue(s, dek, p, "sms", "invitation" if link else "offer", phone, body)
                    links[p.id] = link
                c.state, c.offered_at, c.updated_at = models.OFFERED, self.now(), self.now()
                out.append(OfferResult(c.urn, p.id, links[p.id]))
                self.audit(s, actor, "contract.offer", "contract", c.urn, department_id=c.department_id, project_id=c.project_id)
        return out

    def reissue_invitation(self, participant_id: int, *, actor: Actor = SYSTEM) -> str:
        """A new invitation link for a worker (lost phone, expired or locked link); sent through the outbox."""
        with self.tx() as s:
            p = s.get(models.Participant, participant_id)
            if p is None:
                raise not_found("participant", "참여자")
            for inv in s.scalars(select(models.Invitation).where(models.Invitation.participant_id == p.id,
                                                                 models.Invitation.used_at.is_(None))):  # fmt: skip
                inv.expires_at = min(aware(inv.expires_at), self.now())  # older links stop working
            link = self.new_invitation(s, p)
            dek = self.dek(p)
            body = f"[서울시] 전자지갑 연결 링크입니다. Your wallet link: {link}"
            self.outbox.queue(s, dek, p, "sms", "invitation", self.unseal(dek, p, "phone", p.phone_enc).decode(), body)
            self.audit(s, actor, "invitation.reissue", "participant", p.id, project_id=p.project_id)
        return link

    # -- work lists ----------------------------------------------------------------------------------

    def contract(self, urn: str) -> ContractView:
        with self.tx() as s:
            c = s.scalar(select(models.Contract).where(models.Contract.urn == urn))
            if c is None:
                raise not_found("contract", "계약")
            return ContractView.of(c)

    def contracts(self, *, project_id: int | None = None, department_id: int | None = None,
                  states: Sequence[str] | None = None, participant_ids: Iterable[int] | None = None,
                  limit: int = 100, offset: int = 0) -> list[ContractView]:  # fmt: skip
        """Contracts by project, department, states and/or participants, newest first."""
        if limit < 1 or limit > 10_000 or offset < 0:
            raise InvalidInput("limit is 1-10000 and offset not negative", message_ko="limit은 1~10000, offset은 0 이상입니다")
        q = select(models.Contract)
        if project_id is not None:
            q = q.where(models.Contract.project_id == project_id)
        if department_id is not None:
            q = q.where(models.Contract.department_id == department_id)
        if states:
            q = q.where(models.Contract.state.in_(list(states)))
        if participant_ids is not None:
            q = q.where(models.Contract.participant_id.in_(list(participant_ids)))
        with self.tx() as s:
            rows = s.scalars(q.order_by(models.Contract.id.desc()).limit(limit).offset(offset))
            return [ContractView.of(c) for c in rows]

    def unsigned(self, project_id: int, limit: int = 100, offset: int = 0) -> list[ContractView]:
        """Offered contracts the worker has not signed yet (for the reminder action)."""
        return self.contracts(project_id=project_id, states=(models.OFFERED,), limit=limit, offset=offset)

    def counts(self, *, project_id: int | None = None) -> dict[int, dict[str, int]]:
        """{department id: {state: count}} (of one project when given)."""
        q = select(models.Contract.department_id, models.Contract.state, func.count()).group_by(
            models.Contract.department_id, models.Contract.state)  # fmt: skip
        if project_id is not None:
            q = q.where(models.Contract.project_id == project_id)
        out: dict[int, dict[str, int]] = {}
        with self.tx() as s:
            for dept_id, state, n in s.execute(q):
                out.setdefault(dept_id, {})[state] = n
        return out

    def remind_unsigned(self, project_id: int, *, actor: Actor = SYSTEM) -> int:
        """A reminder through the outbox to every worker with an offered, unsigned contract; how many."""
        sent: set[int] = set()
        with self.tx() as s:
            project = s.get_one(models.Project, project_id)
            for c in s.scalars(select(models.Contract).where(models.Contract.project_id == project_id,
                                                            models.Contract.state == models.OFFERED)):  # fmt: skip
                if c.participant_id in sent:
                    continue
                p = s.get_one(models.Participant, c.participant_id)
                if p.wrapped_dek is None:
                    continue
                dek = self.dek(p)
                body = (f"[서울시] '{project.name}' 근로계약서에 아직 서명하지 않으셨습니다. 전자지갑에서 확인해 주세요. "
                        f"Reminder: please sign your contract in your wallet: {self.wallet_url}/")  # fmt: skip
                self.outbox.queue(s, dek, p, "sms", "reminder", self.unseal(dek, p, "phone", p.phone_enc).decode(), body)
                sent.add(p.id)
            self.audit(s, actor, "contract.remind", "project", project_id, project_id=project_id, reminded=len(sent))
        return len(sent)
