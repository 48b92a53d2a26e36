"""The issuer service's foundation against a real registry over HTTP: departments, templates and their
legal checks, rosters (encrypted, idempotent, searchable), drafts and offers."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from agents import statuslist
from agents.errors import Conflict, InvalidInput, LegalRuleViolation
from issuer import models
from issuer.service import Actor, ParticipantRow, mask_phone
from tests.helpers_city import start_city
from tests.helpers_issuer import PART_TIME, demo_project, issuer_service

ROWS = [
    ParticipantRow("김서울", "1990-05-01", "010-1234-5678", "kim@example.kr", {"employee.address": "서울시 중구 1"}),
    ParticipantRow("이한강", "1985-11-30", "010-2222-3333"),
]
CLERK = Actor.staff(7, "192.0.2.1")


def test_department_published_and_idempotent(tmp_path: Path, db_url: str) -> None:
    with start_city(tmp_path) as city, issuer_service(city, db_url) as svc:
        dept, _ = demo_project(svc)
        assert dept.did == f"did:web:{city.host.replace(':', '%3A')}:issuers:seoul-jobs"
        assert city.client.did_document("seoul-jobs") is not None
        assert set(city.client.status_lists("seoul-jobs")) == {"revocation-1", "suspension-1"}
        assert svc.create_department("seoul-jobs", "서울특별시 일자리정책과").id == dept.id
        assert [d.slug for d in svc.departments()] == ["seoul-jobs"]


def test_template_legal_check_names_rule_article_and_field(tmp_path: Path, sqlite_url: str) -> None:
    with start_city(tmp_path) as city, issuer_service(city, sqlite_url) as svc:
        _, project = demo_project(svc)
        assert project.template_ready
        violations = svc.set_template(project.id, "part-time", PART_TIME | {"wage.amount": 5000}, actor=CLERK)
        wage = [v for v in violations if v.path.startswith("wage")]
        assert wage and "최저임금" in wage[0].article and wage[0].message_en and wage[0].message_ko
        assert not svc.project(project.id).template_ready
        with pytest.raises(InvalidInput, match="no project field"):
            svc.set_template(project.id, "part-time", {"employer.name": "x"})
        with pytest.raises(InvalidInput, match="no project field"):
            svc.set_template(project.id, "part-time", {"employee.name": "x"})
        svc.add_participants(project.id, ROWS)
        result = svc.draft_contracts(project.id)
        assert result.created == () and len(result.failed) == 2
        assert {v.path for v in result.failed[0][1]} == {"wage.amount"}
        svc.set_template(project.id, "part-time", PART_TIME | {"wage.amount": 12000})
        urns = svc.draft_contracts(project.id).created
        svc.set_template(project.id, "part-time", PART_TIME | {"wage.amount": 5000})
        with pytest.raises(LegalRuleViolation, match="wage"):
            svc.offer_contracts(urns)


def test_roster_encrypted_idempotent_and_searchable(tmp_path: Path, db_url: str) -> None:
    with start_city(tmp_path) as city, issuer_service(city, db_url) as svc:
        _, project = demo_project(svc)
        first = svc.add_participants(project.id, ROWS, batch="roster-1.csv", actor=CLERK)
        assert len(first.created) == 2 and first.existing == ()
        again = svc.add_participants(project.id, [ROWS[1], ROWS[0]], batch="roster-1.csv", actor=CLERK)
        assert again.created == () and sorted(again.existing) == sorted(first.created)
        with svc.tx() as s:
            raw = [bytes(b) for p in s.scalars(select(models.Participant)) for b in (p.name_enc, p.phone_enc)]
        assert not any("김서울".encode() in b or b"010-1234-5678" in b for b in raw)
        assert svc.search_participants(name="김 서울") == [first.created[0]]
        assert svc.search_participants(phone="+82 10 2222 3333") == [first.created[1]]
        assert svc.search_participants(name="김서울", phone="010-2222-3333") == []
        [details] = svc.participant_details([first.created[0]], actor=CLERK, purpose="contract review")
        assert (details.name, details.birth_date, details.email) == ("김서울", "1990-05-01", "kim@example.kr")
        with svc.tx() as s:
            event = s.scalars(select(models.AuditEvent).where(models.AuditEvent.action == "personal-data.read")).one()
        assert event.personal_data and event.actor == "staff:7" and event.ip == "192.0.2.1"
        assert "김서울" not in event.detail and "010" not in event.detail
        assert mask_phone(details.phone) == "010-****-5678"


def test_drafts_are_final_and_offers_go_through_the_outbox(tmp_path: Path, db_url: str) -> None:
    with start_city(tmp_path) as city, issuer_service(city, db_url) as svc:
        dept, project = demo_project(svc)
        ids = svc.add_participants(project.id, ROWS).created
        result = svc.draft_contracts(project.id, actor=CLERK)
        assert len(result.created) == 2 and result.failed == ()
        assert svc.draft_contracts(project.id).created == ()  # one live contract per worker
        with svc.tx() as s:
            c = s.scalars(select(models.Contract).where(models.Contract.participant_id == ids[0])).one()
            _, _, draft = svc.draft_of(s, c)
        assert draft["id"] == c.urn and draft["issuer"] == dept.did and draft["validFrom"]
        subject = draft["credentialSubject"]
        assert subject["employee"]["name"] == "김서울" and subject["employee"]["address"] == "서울시 중구 1"
        assert subject["employer"]["id"] == dept.did and subject["project"]["id"] == project.urn
        assert "id" not in subject  # the worker's DID is bound at the identity check
        purposes = {statuslist.parse_entry(e)[2] for e in draft["credentialStatus"]}
        assert purposes == {"revocation", "suspension"}
        offers = svc.offer_contracts(list(result.created), actor=CLERK)
        assert {o.invitation_url.rsplit("/", 2)[1] for o in offers if o.invitation_url} == {"invite"}
        with pytest.raises(Conflict):
            svc.offer_contracts([result.created[0]])
        with svc.tx() as s:
            messages = list(s.scalars(select(models.OutboxMessage)))
            invitations = list(s.scalars(select(models.Invitation)))
        assert len(messages) == 2 and len(invitations) == 2
        assert all(b"invite" not in bytes(m.body_enc) for m in messages)
        assert [v.state for v in svc.contracts(project_id=project.id)] == ["offered", "offered"]
        assert svc.counts() == {dept.id: {"offered": 2}}
        assert len(svc.unsigned(project.id)) == 2
        assert svc.remind_unsigned(project.id) == 2


def test_erasing_a_row_shreds_its_personal_data(tmp_path: Path, sqlite_url: str) -> None:
    with start_city(tmp_path) as city, issuer_service(city, sqlite_url) as svc:
        _, project = demo_project(svc)
        kim, lee = svc.add_participants(project.id, ROWS).created
        offers = svc.offer_contracts(list(svc.draft_contracts(project.id).created))
        offer = next(o for o in offers if o.participant_id == kim)
        svc.shred_participant(kim, actor=CLERK)
        assert [d.id for d in svc.participant_details([kim, lee], actor=CLERK, purpose="check")] == [lee]
        assert svc.search_participants(name="김서울") == [] and svc.search_participants(name="이한강") == [lee]
        assert [p.shredded for p in svc.participants(project.id)] == [True, False]
        assert all("김서울" not in m.body for m in svc.outbox_messages(limit=10))
        token = offer.invitation_url.rsplit("/", 1)[1] if offer.invitation_url else ""
        with pytest.raises(InvalidInput, match="do not match"):
            svc.identify(token, "김서울", "1990-05-01")
        assert svc.audit_trail(target=f"participant:{kim}")[0].action == "personal-data.erase"
