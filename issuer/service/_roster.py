"""Roster rows: personal data sealed with a per-row data key, blind indexes for search, idempotent
import (a keyed hash of the normalised row), and every staff read of personal data recorded (PIPA)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from agents.errors import InvalidInput
from web.envelope import normalise

from .. import models
from ._base import SYSTEM, Actor, ServiceBase, dumps, not_found


@dataclass(frozen=True)
class ParticipantRow:
    """One validated roster row (the roster parser's output). `fields`: other credentialSubject paths
    of the template's participantFields, e.g. {"employee.address": ..., "workplace": ...}."""

    name: str
    birth_date: str  # YYYY-MM-DD
    phone: str
    email: str = ""
    fields: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AddResult:
    created: tuple[int, ...]  # participant ids, in row order
    existing: tuple[int, ...]  # rows already imported (same project, same normalised content)


@dataclass(frozen=True)
class ParticipantView:
    """A roster row without personal data."""

    id: int
    project_id: int
    holder_did: str | None
    import_batch: str
    shredded: bool


@dataclass(frozen=True)
class ParticipantDetails:
    """A roster row with its personal data (reading it is recorded in the audit trail)."""

    id: int
    project_id: int
    name: str
    birth_date: str
    phone: str
    email: str
    fields: Mapping[str, Any]
    holder_did: str | None


def mask_phone(phone: str) -> str:
    """010-****-5678: what the worker sees of the number a code went to."""
    digits = normalise("phone", phone)
    return f"{digits[:3]}-****-{digits[-4:]}" if len(digits) >= 8 else "****"


class RosterMixin(ServiceBase):
    def _row_hash(self, row: ParticipantRow) -> str:
        canonical = dumps([normalise("name", row.name), normalise("birth-date", row.birth_date),
                           normalise("phone", row.phone), normalise("email", row.email),
                           sorted((k, str(v)) for k, v in row.fields.items())])  # fmt: skip
        return self.kek.blind_index("text", canonical)

    def add_participants(
        self, project_id: int, rows: Sequence[ParticipantRow], *, batch: str = "", actor: Actor = SYSTEM
    ) -> AddResult:
        """Store validated rows, all or none; a row already in the project is not added again."""
        for row in rows:
            if not row.name.strip() or not row.birth_date or not normalise("phone", row.phone):
                raise InvalidInput("a roster row needs a name, a birth date and a phone number",
                                   message_ko="명단의 각 행에는 성명, 생년월일, 연락처가 있어야 합니다")  # fmt: skip
        hashes = [self._row_hash(r) for r in rows]
        with self.tx() as s:
            project = s.get(models.Project, project_id)
            if project is None:
                raise not_found("project", "사업")
            known: dict[str, int] = {}
            for chunk in range(0, len(hashes), 500):
                part = hashes[chunk : chunk + 500]
                q = select(models.Participant.row_hash, models.Participant.id).where(
                    models.Participant.project_id == project_id, models.Participant.row_hash.in_(part))
                known.update({h: i for h, i in s.execute(q)})
            created: list[models.Participant] = []
            existing: list[int] = []
            for row, row_hash in zip(rows, hashes, strict=True):
                if row_hash in known:
                    existing.append(known[row_hash])
                    continue
                p = self._new_participant(project_id, row, row_hash, batch)
                s.add(p)
                created.append(p)
                known[row_hash] = -1  # a duplicate inside the same file counts once
            s.flush()
            self.audit(s, actor, "roster.import", "project", project_id, department_id=project.department_id,
                       project_id=project_id, batch=batch, created=len(created), existing=len(existing))  # fmt: skip
            return AddResult(tuple(p.id for p in created), tuple(i for i in existing if i > 0))

    def _new_participant(self, project_id: int, row: ParticipantRow, row_hash: str, batch: str) -> models.Participant:
        p = models.Participant(uuid=str(uuid.uuid4()), project_id=project_id, import_batch=batch, row_hash=row_hash)
        dek, p.wrapped_dek = self.kek.new_wrapped_key(p.uuid)
        p.name_enc = self.seal(dek, p, "name", row.name.strip())
        p.birth_date_enc = self.seal(dek, p, "birthDate", normalise("birth-date", row.birth_date))
        p.phone_enc = self.seal(dek, p, "phone", row.phone.strip())
        p.email_enc = self.seal(dek, p, "email", row.email.strip()) if row.email else None
        p.fields_enc = self.seal(dek, p, "fields", dumps(dict(row.fields))) if row.fields else None
        p.name_index = self.kek.blind_index("name", row.name)
        p.phone_index = self.kek.blind_index("phone", row.phone)
        p.birth_date_index = self.kek.blind_index("birth-date", row.birth_date)
        return p

    def details_of(self, p: models.Participant, dek: bytes | None = None) -> ParticipantDetails:
        """Decrypt a row (internal: callers outside the service use `participant_details`)."""
        dek = dek or self.dek(p)
        fields = self.unseal_json(dek, p, "fields", p.fields_enc) if p.fields_enc else {}
        return ParticipantDetails(
            p.id, p.project_id, self.unseal(dek, p, "name", p.name_enc).decode(),
            self.unseal(dek, p, "birthDate", p.birth_date_enc).decode(), self.unseal(dek, p, "phone", p.phone_enc).decode(),
            self.unseal(dek, p, "email", p.email_enc).decode() if p.email_enc else "", fields, p.holder_did,
        )  # fmt: skip

    def participant_details(self, participant_ids: Iterable[int], *, actor: Actor, purpose: str) -> list[ParticipantDetails]:
        """Staff reading personal data: decrypted rows, and one audit event naming the rows and why."""
        ids = sorted(set(participant_ids))
        with self.tx() as s:
            rows = list(s.scalars(select(models.Participant).where(models.Participant.id.in_(ids))))
            out = [self.details_of(p) for p in rows if p.wrapped_dek is not None]
            projects = {p.project_id for p in rows}
            self.audit(s, actor, "personal-data.read", "participant", ",".join(map(str, ids))[:64],
                       project_id=projects.pop() if len(projects) == 1 else None, personal_data=True,
                       participants=ids, purpose=purpose)  # fmt: skip
        return out

    def participants(self, project_id: int) -> list[ParticipantView]:
        with self.tx() as s:
            q = select(models.Participant).where(models.Participant.project_id == project_id).order_by(models.Participant.id)
            return [ParticipantView(p.id, p.project_id, p.holder_did, p.import_batch, p.wrapped_dek is None) for p in s.scalars(q)]

    def search_participants(self, *, name: str = "", phone: str = "", project_ids: Iterable[int] | None = None) -> list[int]:
        """Participant ids whose name and/or phone equal the given ones (normalised), via the blind index."""
        if not name.strip() and not normalise("phone", phone):
            return []
        q = select(models.Participant.id)
        if name.strip():
            q = q.where(models.Participant.name_index == self.kek.blind_index("name", name))
        if normalise("phone", phone):
            q = q.where(models.Participant.phone_index == self.kek.blind_index("phone", phone))
        if project_ids is not None:
            q = q.where(models.Participant.project_id.in_(list(project_ids)))
        with self.tx() as s:
            return list(s.scalars(q.order_by(models.Participant.id)))

    def shred_participant(self, participant_id: int, *, actor: Actor = SYSTEM) -> None:
        """Destroy the row's data key: its personal data, drafts and messages become unreadable.
        Issued credentials stay verifiable (the registry holds their salted hashes, and the worker the documents)."""
        with self.tx() as s:
            p = s.get(models.Participant, participant_id)
            if p is None:
                raise not_found("participant", "참여자")
            p.wrapped_dek = None
            # the blind indexes would still say "this name was on the roster": gone with the data
            p.name_index = p.phone_index = p.birth_date_index = "erased"
            self.audit(s, actor, "personal-data.erase", "participant", participant_id, project_id=p.project_id)


def loads(text: str | None) -> Any:
    return json.loads(text) if text else None
