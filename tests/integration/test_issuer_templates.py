"""Each labor-law rule a template can break, through the issuer's template check: refused with the rule,
the article and the field named, then accepted once fixed; a refused template cannot be offered."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from agents import contract
from agents.errors import LegalRuleViolation
from agents.keys import Ed25519KeyPair
from issuer.service import Actor, IssuerService, ParticipantRow
from tests.helpers_city import start_city
from tests.helpers_issuer import PART_TIME, demo_project, issuer_service

CASES = [
    # (rule, variant, breaking values, field named)
    ("below-minimum-wage", "part-time", {"wage.amount": 9000}, "wage.amount"),
    ("part-time-overtime-rate", "part-time", {"wage.overtimeRate": 1.2}, "wage.overtimeRate"),
    ("weekly-holiday-is-working-day", "part-time", {"workingDays.weeklyHoliday": "MO"}, "workingDays.weeklyHoliday"),
    ("break-too-short", "part-time", {"workingHours.breakMinutes": 20}, "workingHours.breakMinutes"),
    ("weekly-hours-exceeded", "part-time", {"workingHours.weeklyHours": 41}, "workingHours.weeklyHours"),
    ("minor-daily-hours-exceeded", "minor", {"workingHours.dailyHours": 8}, "workingHours.dailyHours"),
    ("missing-item", "fixed-term", {"duties": ""}, "duties"),
]



def _base(variant: str) -> dict[str, Any]:
    """A lawful template: the part-time defaults are hourly, the others monthly (keep their wage)."""
    return dict(PART_TIME) if variant in ("part-time", "minor") else {"duties": PART_TIME["duties"]}


@pytest.fixture(scope="module")
def svc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IssuerService]:
    tmp = tmp_path_factory.mktemp("templates")
    with start_city(tmp) as city, issuer_service(city, f"sqlite:///{tmp / 'issuer.sqlite3'}") as service:
        yield service


@pytest.mark.parametrize(("rule", "variant", "breaking", "field"), CASES, ids=[c[0] for c in CASES])
def test_rule_refused_then_fixed(svc: IssuerService, rule: str, variant: str, breaking: dict[str, Any], field: str) -> None:
    _, project = demo_project(svc)
    found = [v for v in svc.set_template(project.id, variant, _base(variant) | breaking) if v.severity == "error"]
    assert rule in {v.code for v in found}
    named = next(v for v in found if v.code == rule)
    assert named.path == field and named.article and named.message_ko and named.message_en
    assert not svc.project(project.id).template_ready
    assert [v for v in svc.set_template(project.id, variant, _base(variant)) if v.severity == "error"] == []
    assert svc.project(project.id).template_ready


def test_regular_contract_is_open_ended_and_unlawful_template_is_not_offered(svc: IssuerService) -> None:
    _, project = demo_project(svc)
    assert svc.set_template(project.id, "regular", _base("regular")) == []  # the project's end is not the contract's
    svc.add_participants(project.id, [ParticipantRow("김서울", "1990-05-01", "010-1234-5678")])
    urns = svc.draft_contracts(project.id).created
    svc.set_template(project.id, "regular", _base("regular") | {"wage.amount": 100})
    with pytest.raises(LegalRuleViolation, match="minimum") as caught:
        svc.offer_contracts(list(urns))
    assert "최저임금" in caught.value.diagnostics("ko")


def test_open_ended_contract_completes_only_with_a_last_day(svc: IssuerService) -> None:
    _, project = demo_project(svc)
    svc.set_template(project.id, "regular", _base("regular"))
    [pid] = svc.add_participants(project.id, [ParticipantRow("이한강", "1985-11-30", "010-2222-3333")]).created
    [urn] = svc.draft_contracts(project.id).created
    svc.offer_contracts([urn])
    worker = Ed25519KeyPair.generate()
    auth = svc.worker(svc.bind_holder(pid, worker.public.did_key, actor=Actor("test")))
    offered = svc.worker_contract(auth, urn)
    assert offered.draft is not None and "endDate" not in offered.draft["credentialSubject"]["contractPeriod"]
    svc.accept(auth, urn, contract.accept_contract(offered.draft, worker, passkey_assertion={"challenge": offered.draft_digest}))
    svc.countersign([urn])
    refused = svc.complete([urn])
    assert refused.issued == () and "last working day" in refused.failed[0][2]
    [record] = svc.complete([urn], end_date=date(2026, 10, 31)).issued
    issued = next(r for r in svc.credentials_ready_for(worker.public.did_key) if r.urn == record)
    assert issued.credential["credentialSubject"]["employmentPeriod"]["endDate"] == "2026-10-31"
    assert svc.contract(urn).state == "completed"
