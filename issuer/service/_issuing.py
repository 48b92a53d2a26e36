"""Issuing: countersign what the worker signed, log it, keep the receipt; career records when the work
ends; suspension, reinstatement and revocation through the status lists; amendments as new versions."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select

import schemas
from agents import contract as contract_
from agents import dataintegrity as di
from agents import merkle, multibase
from agents.errors import Conflict, Error, InvalidInput, LegalRuleViolation
from agents.keys import Signer
from web import metrics

from .. import models
from ._base import SYSTEM, Actor, dumps, not_found
from ._projects import get_path, set_path
from ._wallet import WalletMixin

SUSPEND, REINSTATE, REVOKE = "suspend", "reinstate", "revoke"
SUPERSEDED = "superseded"
#: the contract fields a career record takes over (LSA art. 39: period, duties, position, wage)
CAREER_ITEMS = ("employer", "project", "employmentPeriod", "duties", "position", "wage")


@dataclass(frozen=True)
class IssueResult:
    issued: tuple[str, ...]  # urns of the credentials now issued
    failed: tuple[tuple[str, str, str], ...]  # (contract urn, reason ko, reason en)


def _reason(err: Error) -> tuple[str, str]:
    return err.diagnostics("ko"), err.diagnostics("en")


#: the states a career record must be in for each status action (the record follows its contract)
_FROM = {SUSPEND: (models.ACTIVE,), REINSTATE: (models.SUSPENDED,), REVOKE: (models.ACTIVE, models.SUSPENDED)}

class IssuingMixin(WalletMixin):
    def _signer(self, dept: models.Department) -> Signer:
        """The department's current key (read from the key store once per department and minute)."""
        key = (dept.key_name, self.now().replace(second=0))
        cached = self._signers.get(key[0])
        if cached is None or cached[0] != key[1]:
            cached = self._signers[key[0]] = (key[1], self.keys.signer(dept.key_name))
        return cached[1]

    def log_many(self, type_tag: str, documents: Sequence[Mapping[str, Any]]) -> list[int]:
        """Append the documents' digests to the registry log; their indexes (one call when the client batches)."""
        return self.log_digests(type_tag, [merkle.document_digest(dict(d)) for d in documents])

    def log_digests(self, type_tag: str, digests: Sequence[bytes]) -> list[int]:
        """One registry round trip per 1000 leaves; a leaf already logged (a retry after a crash) is not logged twice."""
        if len(digests) == 1:
            return [int(self.registry.append(type_tag, digests[0])["index"])]
        return [int(r["index"]) for r in self.registry.append_batch([(type_tag, d) for d in digests])]

    # -- countersign: signed → active --------------------------------------------------------------

    def countersign(self, urns: Sequence[str] | None = None, *, project_id: int | None = None, limit: int = 1000,
                    actor: Actor = SYSTEM, cryptosuite: str = di.JCS) -> IssueResult:  # fmt: skip
        """Issue every signed contract named (or of the project, up to `limit`): the department's
        proof over draft + acceptance (agents.contract.countersign), logged; an amendment that becomes
        active revokes the version it supersedes (reason "superseded")."""
        q = select(models.Contract).where(models.Contract.state == models.SIGNED)
        if urns is not None:
            q = q.where(models.Contract.urn.in_(list(urns)))
        if project_id is not None:
            q = q.where(models.Contract.project_id == project_id)
        signed: list[tuple[int, dict[str, Any]]] = []
        failed: list[tuple[str, str, str]] = []
        at = self.now()
        # 1. sign and keep the credential before logging it: a run killed after this step logs the
        #    same document on the next run, and the registry answers a (type, digest) it has with its index
        with self.tx() as s, s.no_autoflush:
            rows = list(s.scalars(q.order_by(models.Contract.id).limit(limit)))
            _participants = self.preload(s, models.Participant, [c.participant_id for c in rows])
            _departments = self.preload(s, models.Department, [c.department_id for c in rows])
            for c in rows:
                try:
                    p, dek, draft = self.draft_of(s, c)
                    if c.credential_enc is not None:
                        vc = self.unseal_json(dek, p, f"contract|{c.urn}|credential", c.credential_enc)
                    else:
                        acceptance = self.unseal_json(dek, p, f"contract|{c.urn}|acceptance", c.acceptance_enc or b"")
                        dept = s.get_one(models.Department, c.department_id)
                        vc = contract_.countersign(draft, acceptance, self._signer(dept), cryptosuite=cryptosuite, at=at)
                        c.credential_enc = self.seal(dek, p, f"contract|{c.urn}|credential", dumps(vc))
                    signed.append((c.id, vc))
                except Error as e:
                    failed.append((c.urn, *_reason(e)))
        if not signed:
            return IssueResult((), tuple(failed))
        # 2. log them, one round trip per batch
        indexes = self.log_many("credential", [vc for _, vc in signed])
        # 3. active
        superseded: list[str] = []
        with self.tx() as s, s.no_autoflush:
            _contracts = self.preload(s, models.Contract, [contract_id for contract_id, _ in signed])
            for (contract_id, _), index in zip(signed, indexes, strict=True):
                c = s.get_one(models.Contract, contract_id)
                c.log_index, c.state, c.issued_at, c.updated_at = index, models.ACTIVE, at, at
                if c.supersedes:
                    superseded.append(c.supersedes)
                self.audit(s, actor, "contract.countersign", "contract", c.urn, department_id=c.department_id,
                           project_id=c.project_id, logIndex=index)  # fmt: skip
        if superseded:
            self.change_status(superseded, REVOKE, SUPERSEDED, actor=actor)
        self.after_issue([vc["id"] for _, vc in signed])
        return IssueResult(tuple(vc["id"] for _, vc in signed), tuple(failed))

    def after_issue(self, urns: Sequence[str], kind: str = "labor-contract") -> None:
        """Called with the urns of newly issued credentials (the protocols make their offers here)."""
        metrics.issued(kind, len(urns))
        hook = getattr(self, "on_issued", None)
        if hook is not None:
            hook(list(urns))

    # -- receipts -----------------------------------------------------------------------------------

    def collect_receipts(self, limit: int = 500) -> int:
        """Fetch the receipts of logged credentials whose checkpoint is signed; how many were stored."""
        if self.checkpoint is not None:
            self.checkpoint()
        stored = 0
        for model in (models.Contract, models.IssuedCredential):
            with self.tx() as s:
                q = select(model).where(model.log_index.is_not(None), model.receipt.is_(None)).limit(limit)
                rows: list[models.Contract | models.IssuedCredential] = list(s.scalars(q))
                fetched = self.registry.receipts([int(row.log_index or 0) for row in rows]) if rows else []
                for row, receipt in zip(rows, fetched, strict=True):
                    if receipt is not None:
                        row.receipt = dumps(receipt.to_json())
                        stored += 1
        return stored

    def receipt(self, urn: str) -> dict[str, Any] | None:
        """The stored receipt of a contract or credential (fetched now if the checkpoint came since); None while pending."""
        with self.tx() as s:
            row = s.scalar(select(models.Contract).where(models.Contract.urn == urn)) or s.scalar(
                select(models.IssuedCredential).where(models.IssuedCredential.urn == urn))  # fmt: skip
            if row is None or row.log_index is None:
                raise not_found("credential", "증명")
            if row.receipt is None:
                fresh = self.registry.receipt(row.log_index)
                if fresh is not None:
                    row.receipt = dumps(fresh.to_json())
            return json.loads(row.receipt) if row.receipt else None

    # -- end of work: completed or terminated → CareerRecordCredential --------------------------------

    def complete(self, urns: Sequence[str], *, end_date: date | None = None, reason: str = "",
                 actor: Actor = SYSTEM) -> IssueResult:  # fmt: skip
        """active → completed (or, with `end_date` before the contract's end, terminated early), each
        with a CareerRecordCredential for the period worked."""
        built: list[tuple[int, str, dict[str, Any]]] = []
        failed: list[tuple[str, str, str]] = []
        # 1. sign and keep each career record (unlogged) first: a killed run finds it and logs the same document
        with self.tx() as s, s.no_autoflush:
            rows = list(s.scalars(select(models.Contract).where(models.Contract.urn.in_(list(urns)))))
            if len(rows) != len(set(urns)):
                raise not_found("contract", "계약")
            _participants = self.preload(s, models.Participant, [c.participant_id for c in rows])
            _projects = self.preload(s, models.Project, [c.project_id for c in rows])
            _departments = self.preload(s, models.Department, [c.department_id for c in rows])
            todo: list[tuple[models.Contract, dict[str, str], bool]] = []
            for c in rows:
                p, dek, draft = self.draft_of(s, c)
                planned = draft["credentialSubject"]["contractPeriod"]
                period = dict(planned)
                if c.state != models.ACTIVE:
                    failed.append((c.urn, f"{c.state} 상태의 계약은 종료할 수 없습니다", f"a {c.state} contract cannot be ended"))
                elif end_date is None and not planned.get("endDate"):
                    failed.append((c.urn, "기간의 정함이 없는 계약은 마지막 근무일을 정해야 합니다",
                                   "an open-ended contract needs the last working day"))  # fmt: skip
                elif end_date is not None and end_date.isoformat() < period["startDate"]:
                    failed.append((c.urn, "종료일이 계약 시작일보다 빠릅니다", "the end date is before the contract start"))
                else:
                    if end_date is not None:
                        period["endDate"] = min(end_date.isoformat(), planned.get("endDate") or end_date.isoformat())
                    todo.append((c, period, period["endDate"] < planned.get("endDate", period["endDate"])))
            existing = {r.contract_id: r for r in s.scalars(select(models.IssuedCredential).where(
                models.IssuedCredential.kind == "career-record",
                models.IssuedCredential.contract_id.in_([c.id for c, _, _ in todo])))}  # fmt: skip
            fresh = [t for t in todo if t[0].id not in existing]
            by_dept: dict[int, list[tuple[int, int]]] = {}
            for dept_id in {c.department_id for c, _, _ in fresh}:
                by_dept[dept_id] = self.allocate_status(s.get_one(models.Department, dept_id),
                                                        sum(1 for c, _, _ in fresh if c.department_id == dept_id))  # fmt: skip
            for c, period, early in todo:
                p, dek, draft = self.draft_of(s, c)
                state = models.TERMINATED if early else models.COMPLETED
                if c.id in existing:
                    row = existing[c.id]
                    built.append((c.id, state, self.unseal_json(dek, p, f"credential|{row.urn}", row.vc_enc)))
                    continue
                dept, project = s.get_one(models.Department, c.department_id), s.get_one(models.Project, c.project_id)
                rev, sus = by_dept[dept.id].pop()
                vc = di.sign(self._career_record(dept, project, c, draft, period, rev, sus), self._signer(dept),
                             cryptosuite=di.JCS, at=self.now())  # fmt: skip
                s.add(models.IssuedCredential(
                    urn=vc["id"], kind="career-record", participant_id=p.id, contract_id=c.id, department_id=c.department_id,
                    holder_did=vc["credentialSubject"]["id"], vc_enc=self.seal(dek, p, f"credential|{vc['id']}", dumps(vc)),
                    revocation_index=rev, suspension_index=sus,
                ))  # fmt: skip
                built.append((c.id, state, vc))
        if not built:
            return IssueResult((), tuple(failed))
        # 2. log them; 3. completed or terminated
        indexes = self.log_many("credential", [vc for _, _, vc in built])
        with self.tx() as s, s.no_autoflush:
            _contracts = self.preload(s, models.Contract, [contract_id for contract_id, _, _ in built])
            records = {r.urn: r for r in s.scalars(select(models.IssuedCredential).where(
                models.IssuedCredential.contract_id.in_([contract_id for contract_id, _, _ in built])))}  # fmt: skip
            for (contract_id, state, vc), index in zip(built, indexes, strict=True):
                c = s.get_one(models.Contract, contract_id)
                record = records[vc["id"]]
                record.log_index = index
                c.state, c.ended_at, c.updated_at = state, self.now(), self.now()
                if state == models.TERMINATED:
                    c.status_reason = reason or None
                self.audit(s, actor, f"contract.{'terminate' if state == models.TERMINATED else 'complete'}", "contract",
                           c.urn, department_id=c.department_id, project_id=c.project_id, careerRecord=vc["id"], logIndex=index)  # fmt: skip
        self.after_issue([vc["id"] for _, _, vc in built], "career-record")
        return IssueResult(tuple(vc["id"] for _, _, vc in built), tuple(failed))

    def terminate(self, urn: str, end_date: date, reason: str, *, actor: Actor = SYSTEM) -> str:
        """Ended early: the career record covers the period worked; the reason is shown to the worker."""
        if not reason.strip():
            raise InvalidInput("say why the contract ends early", message_ko="조기 종료 사유를 입력하세요")
        result = self.complete([urn], end_date=end_date, reason=reason.strip(), actor=actor)
        if result.failed:
            _, ko, en = result.failed[0]
            raise Conflict(en, message_ko=ko)
        return result.issued[0]

    def _career_record(self, dept: models.Department, project: models.Project, c: models.Contract,
                       draft: dict[str, Any], period: dict[str, str], rev: int, sus: int) -> dict[str, Any]:  # fmt: skip
        subject = draft["credentialSubject"]
        wage = {k: subject["wage"][k] for k in ("type", "amount", "currency") if k in subject["wage"]}
        record: dict[str, Any] = {
            "id": subject["id"], "type": "CareerRecord",
            "employee": {k: subject["employee"][k] for k in ("name", "birthDate") if k in subject["employee"]},
            "employer": {"id": dept.did, "name": dept.name_ko}, "project": dict(subject["project"]),
            "employmentPeriod": {"startDate": period["startDate"], "endDate": period["endDate"]},
            "duties": subject["duties"], "wage": wage, "contract": c.urn,
        }  # fmt: skip
        if project.position:
            record["position"] = project.position
        return {
            "@context": draft["@context"], "id": f"urn:uuid:{uuid.uuid4()}",
            "type": ["VerifiableCredential", "CareerRecordCredential"], "issuer": dept.did,
            "validFrom": di.now_iso(self.now()), "credentialStatus": self.status_entries(dept, rev, sus),
            "credentialSubject": record,
        }  # fmt: skip

    # -- status: suspend, reinstate, revoke ------------------------------------------------------------

    def change_status(self, urns: Sequence[str], action: str, reason: str, *, actor: Actor = SYSTEM) -> list[str]:
        """Suspend, reinstate or revoke contracts and/or issued credentials: one new version per status
        list touched; the reason is kept and shown to the worker. Returns the urns changed."""
        if action not in (SUSPEND, REINSTATE, REVOKE):
            raise InvalidInput("action is suspend, reinstate or revoke", message_ko="작업은 정지, 복원, 폐기 중 하나입니다")
        if action != REINSTATE and not reason.strip():
            raise InvalidInput("give the reason the worker will see", message_ko="근로자에게 보일 사유를 입력하세요")
        changes: dict[tuple[int, str], dict[int, bool]] = {}
        with self.tx() as s:
            rows: list[Any] = list(s.scalars(select(models.Contract).where(models.Contract.urn.in_(list(urns)))))
            rows += list(s.scalars(select(models.IssuedCredential).where(models.IssuedCredential.urn.in_(list(urns)))))
            if len({r.urn for r in rows}) != len(set(urns)):
                raise not_found("credential", "증명")
            # a finished contract's status reaches the career record it left (what a worker shows an employer)
            ended = [r.id for r in rows if isinstance(r, models.Contract) and r.state in (models.COMPLETED, models.TERMINATED)
                     or isinstance(r, models.Contract) and r.resume_state in (models.COMPLETED, models.TERMINATED)]  # fmt: skip
            if ended:
                records = s.scalars(select(models.IssuedCredential).where(
                    models.IssuedCredential.contract_id.in_(ended), models.IssuedCredential.kind == "career-record",
                    models.IssuedCredential.state.in_(_FROM[action])))  # fmt: skip
                rows += [r for r in records if r.urn not in set(urns)]
            for row in rows:
                new_state = self._transition(row, action)
                dept = s.get_one(models.Department, row.department_id)
                if action == REVOKE:
                    changes.setdefault((dept.id, dept.revocation_list), {})[row.revocation_index] = True
                else:
                    changes.setdefault((dept.id, dept.suspension_list), {})[row.suspension_index] = action == SUSPEND
                if action == SUSPEND and isinstance(row, models.Contract):
                    row.resume_state = row.state
                row.state = new_state
                row.status_reason = reason.strip() or None
                if isinstance(row, models.Contract) and action == REVOKE and reason == SUPERSEDED:
                    row.superseded_by = s.scalar(select(models.Contract.urn).where(models.Contract.supersedes == row.urn))
                self.audit(s, actor, f"status.{action}", "contract" if isinstance(row, models.Contract) else "credential",
                           row.urn, department_id=row.department_id, reason=reason.strip())  # fmt: skip
            # the lists change before the transaction commits: a failure at the registry changes nothing here
            for (dept_id, list_id), bits in changes.items():
                dept = s.get_one(models.Department, dept_id)
                self.registry.set_statuses(dept.slug, list_id, bits, self._signer(dept), at=self.now())
        return [r.urn for r in rows]

    @staticmethod
    def _transition(row: Any, action: str) -> str:
        issued = (models.ACTIVE, models.COMPLETED, models.TERMINATED)
        state = row.state
        if action == SUSPEND and state in issued:
            return models.SUSPENDED
        if action == REINSTATE and state == models.SUSPENDED:
            return (getattr(row, "resume_state", None) or models.ACTIVE) if isinstance(row, models.Contract) else models.ACTIVE
        if action == REVOKE and state in (*issued, models.SUSPENDED):
            return models.REVOKED
        raise Conflict(f"cannot {action} a credential that is {state}", message_ko=f"{state} 상태에서는 이 작업을 할 수 없습니다")

    # -- amendment: a new version superseding the old ----------------------------------------------------

    def amend(self, urn: str, changes: Mapping[str, Any], *, actor: Actor = SYSTEM) -> str:
        """A new draft version of a signed or issued contract with `changes` (project field paths),
        referencing the old one (relatedResource with its digest); the old stays in force until the
        new one is signed by both and issued. Returns the new urn (a draft: offer it next)."""
        with self.tx() as s:
            old = s.scalar(select(models.Contract).where(models.Contract.urn == urn))
            if old is None:
                raise not_found("contract", "계약")
            if old.state not in (models.ACTIVE, models.SUSPENDED) or old.credential_enc is None:
                raise Conflict("only an issued contract is amended (edit a draft before it is signed)",
                               message_ko="발급된 계약만 변경 계약을 만들 수 있습니다 (서명 전 초안은 직접 고치세요)")  # fmt: skip
            if s.scalar(select(models.Contract.id).where(models.Contract.supersedes == urn,
                                                         models.Contract.state != models.REVOKED)):  # fmt: skip
                raise Conflict("an amendment of this contract is already under way", message_ko="이 계약의 변경 계약이 이미 진행 중입니다")
            p, dek, draft = self.draft_of(s, old)
            credential = self.unseal_json(dek, p, f"contract|{old.urn}|credential", old.credential_enc)
            dept, project = s.get_one(models.Department, old.department_id), s.get_one(models.Project, old.project_id)
        subject = json.loads(dumps(draft["credentialSubject"]))
        checked = self._checked_overrides(project.template_variant, changes)
        for path, value in checked.items():
            set_path(subject, path, value)
        errors = [v for v in schemas.check_contract(subject) if v.severity == "error"]
        if errors:
            raise LegalRuleViolation("; ".join(f"{v.path}: {v.message_en} ({v.article})" for v in errors),
                                     message_ko="; ".join(f"{v.path}: {v.message_ko} ({v.article})" for v in errors),
                                     violations=errors)  # fmt: skip
        [(rev, sus)] = self.allocate_status(dept, 1)
        new_urn = f"urn:uuid:{uuid.uuid4()}"
        new = self.build_draft(dept, project, {k: v for k, v in subject.items() if k != "id"}, new_urn, rev, sus, p.holder_did)
        new["relatedResource"] = [{"id": old.urn, "digestMultibase": "u" + multibase.b64url(merkle.document_digest(credential))}]
        with self.tx() as s:
            row = models.Contract(
                urn=new_urn, participant_id=p.id, project_id=old.project_id, department_id=old.department_id,
                version=old.version + 1, supersedes=old.urn, draft_enc=b"", draft_digest="", revocation_index=rev,
                suspension_index=sus, end_date=date.fromisoformat(get_path(subject, "contractPeriod.endDate") or project.end_date.isoformat()),
            )  # fmt: skip
            self.store_draft(row, p, dek, new)
            s.add(row)
            self.audit(s, actor, "contract.amend", "contract", new_urn, department_id=old.department_id,
                       project_id=old.project_id, supersedes=old.urn, fields=sorted(checked))  # fmt: skip
        return new_urn
