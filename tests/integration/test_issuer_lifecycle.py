"""The whole contract lifecycle through the issuer service against a real registry over HTTP, each
issued credential checked by the verifier app: identity check, signing, countersigning, receipts,
suspension, reinstatement, amendment (the old version revoked as superseded), completion, a career
certificate with only the items picked, termination, revocation, the audit trail in the registry log."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from flask import Flask
from sqlalchemy import select

from agents import contract
from agents.errors import Conflict, InvalidInput, NotFound, RegistryError, Unauthorized
from agents.keys import Ed25519KeyPair
from agents.registry_client import RegistryClient
from issuer import models
from issuer.service import Actor, InvitationLocked, IssuerService, ParticipantRow, WorkerAuth
from tests.helpers_city import City, start_city
from tests.helpers_issuer import demo_project, issuer_service
from verifier.app import create_app

CLERK = Actor.staff(3, "198.51.100.7")
ROWS = [ParticipantRow("김서울", "1990-05-01", "010-1234-5678"), ParticipantRow("박노을", "1979-02-14", "010-9876-5432")]


@pytest.fixture
def world(tmp_path: Path, db_url: str) -> Iterator[tuple[City, IssuerService, Flask]]:
    with start_city(tmp_path) as city, issuer_service(city, db_url) as svc:
        verifier = create_app(city.verifier_config(f"sqlite:///{tmp_path / 'verifier.sqlite3'}"))
        try:
            yield city, svc, verifier
        finally:
            verifier.extensions["verifier"].close()


def _verdict(verifier: Flask, svc: IssuerService, vc: dict[str, Any]) -> str:
    receipt = svc.receipt(vc["id"])
    options = {"receipts": {vc["id"]: receipt}} if receipt else {}
    verifier.extensions["verifier"].fetcher.clear_cache()  # status lists are cached for their ttl
    resp = verifier.test_client().post("/credentials/verify", json={"verifiableCredential": vc, "options": options})
    assert resp.json is not None
    return str(resp.json["verdict"])


def _last_code(svc: IssuerService) -> str:
    [message] = [m for m in svc.outbox_messages(limit=1)]
    found = re.search(r"\b(\d{6})\b", message.body)
    assert found and message.purpose == "code"
    return found.group(1)


def _onboard(svc: IssuerService, link: str, row: ParticipantRow, worker: Ed25519KeyPair) -> WorkerAuth:
    token = link.rsplit("/", 1)[1]
    sent = svc.identify(token, f" {row.name[0]} {row.name[1:]}", row.birth_date)
    assert sent.code_sent_to == f"010-****-{row.phone[-4:]}"
    bound = svc.verify_code(token, _last_code(svc), worker.public.did_key)
    return svc.worker(bound.worker_token)


def _sign(svc: IssuerService, auth: WorkerAuth, worker: Ed25519KeyPair, urn: str) -> None:
    offered = svc.worker_contract(auth, urn)
    assert offered.draft is not None and offered.draft["credentialSubject"]["id"] == auth.holder_did
    acceptance = contract.accept_contract(offered.draft, worker, passkey_assertion={"type": "WebAuthnAssertion", "challenge": offered.draft_digest})
    assert svc.accept(auth, urn, acceptance) == "signed"


def test_whole_lifecycle(world: tuple[City, IssuerService, Flask]) -> None:
    city, svc, verifier = world
    dept, project = demo_project(svc, city=city)
    svc.add_participants(project.id, ROWS, actor=CLERK)
    urns = svc.draft_contracts(project.id, actor=CLERK).created
    offers = {o.participant_id: o for o in svc.offer_contracts(list(urns), actor=CLERK)}
    kim_id, park_id = sorted(offers)
    kim, park = Ed25519KeyPair.generate(), Ed25519KeyPair.generate()

    # identity check: a mismatch is one generic answer; then the code binds the wallet's DID
    token = offers[kim_id].invitation_url.rsplit("/", 1)[1]
    with pytest.raises(InvalidInput, match="do not match"):
        svc.identify(token, "김서울", "1990-05-02")
    auth = _onboard(svc, offers[kim_id].invitation_url, ROWS[0], kim)
    with pytest.raises(NotFound):  # the invitation is used up
        svc.identify(token, "김서울", "1990-05-01")
    with pytest.raises(Unauthorized):
        svc.worker("not-a-token")
    urn = offers[kim_id].urn

    # acceptance checks: another key, another challenge, a changed draft are refused
    offered = svc.worker_contract(auth, urn)
    assert offered.draft is not None
    stranger = contract.accept_contract(offered.draft | {"credentialSubject": offered.draft["credentialSubject"] | {"id": park.public.did_key}},
                                        park, passkey_assertion={"challenge": offered.draft_digest})  # fmt: skip
    with pytest.raises(InvalidInput, match="another key"):
        svc.accept(auth, urn, stranger)
    with pytest.raises(InvalidInput, match="passkey"):
        svc.accept(auth, urn, contract.accept_contract(offered.draft, kim, passkey_assertion={"challenge": "x"}))
    changed = offered.draft | {"credentialSubject": offered.draft["credentialSubject"] | {"duties": "다른 업무"}}
    forged = contract.accept_contract(changed, kim, passkey_assertion={"challenge": offered.draft_digest})
    with pytest.raises(InvalidInput, match="does not match"):
        svc.accept(auth, urn, forged)
    _sign(svc, auth, kim, urn)
    with pytest.raises(Conflict, match="not waiting"):
        svc.accept(auth, urn, forged)

    # countersigned, logged, receipt kept; the verifier says valid
    issued = svc.countersign([urn], actor=CLERK)
    assert issued.issued == (urn,) and issued.failed == ()
    assert svc.collect_receipts() >= 1
    [ready] = svc.credentials_ready_for(auth.holder_did)
    vc = ready.credential
    assert ready.kind == "labor-contract" and contract.acceptances(vc) and ready.receipt
    assert _verdict(verifier, svc, vc) == "valid"

    # suspended with a reason the worker sees; reinstated
    svc.change_status([urn], "suspend", "근무지 안전 점검 중", actor=CLERK)
    assert _verdict(verifier, svc, vc) == "suspended"
    [mine] = svc.worker_contracts(auth)
    assert (mine.state, mine.status_reason) == ("suspended", "근무지 안전 점검 중")
    svc.change_status([urn], "reinstate", "", actor=CLERK)
    assert svc.contract(urn).state == "active" and _verdict(verifier, svc, vc) == "valid"

    # amendment: a new version, signed again by both; the old one revoked as superseded
    with pytest.raises(InvalidInput):
        svc.amend(urn, {"employee.name": "다른 사람"})
    new_urn = svc.amend(urn, {"wage.amount": 12500}, actor=CLERK)
    with pytest.raises(Conflict, match="already"):
        svc.amend(urn, {"wage.amount": 13000})
    [notice] = svc.offer_contracts([new_urn], actor=CLERK)
    assert notice.invitation_url is None  # the wallet is bound: a notice, no new identity check
    _sign(svc, auth, kim, new_urn)
    svc.countersign([new_urn], actor=CLERK)
    old = svc.contract(urn)
    assert (old.state, old.status_reason) == ("revoked", "superseded")
    assert _verdict(verifier, svc, vc) == "revoked"
    new_vc = next(r.credential for r in svc.credentials_ready_for(auth.holder_did) if r.urn == new_urn)
    assert new_vc["relatedResource"][0]["id"] == urn and new_vc["credentialSubject"]["wage"]["amount"] == 12500
    svc.collect_receipts()
    assert _verdict(verifier, svc, new_vc) == "valid"

    # completion: a career record; then a certificate with only the items picked
    [record_urn] = svc.complete([new_urn], actor=CLERK).issued
    svc.collect_receipts()
    record = next(r.credential for r in svc.credentials_ready_for(auth.holder_did) if r.urn == record_urn)
    assert record["credentialSubject"]["employmentPeriod"] == {"startDate": "2026-03-02", "endDate": "2026-11-30"}
    assert record["credentialSubject"]["wage"]["amount"] == 12500 and record["credentialSubject"]["position"]
    assert _verdict(verifier, svc, record) == "valid"
    cert = svc.certificate(auth, [record_urn], ["employmentPeriod", "duties"], purpose="취업 지원")
    subject = cert.credential["credentialSubject"]
    assert set(subject) == {"id", "type", "employee", "employer", "employmentPeriod", "duties", "purpose"}
    svc.collect_receipts()
    assert _verdict(verifier, svc, cert.credential) == "valid"
    with pytest.raises(InvalidInput):
        svc.certificate(auth, [record_urn], ["bankAccount"])

    # the second worker: ended early, the career record covers the days worked; then revoked
    park_auth = _onboard(svc, offers[park_id].invitation_url, ROWS[1], park)
    _sign(svc, park_auth, park, offers[park_id].urn)
    svc.countersign(project_id=project.id, actor=CLERK)
    early = svc.terminate(offers[park_id].urn, date(2026, 6, 30), "사업 예산 조기 소진", actor=CLERK)
    svc.collect_receipts()
    short = next(r.credential for r in svc.credentials_ready_for(park_auth.holder_did) if r.urn == early)
    assert short["credentialSubject"]["employmentPeriod"]["endDate"] == "2026-06-30"
    assert svc.contract(offers[park_id].urn).state == "terminated"
    svc.change_status([early], "revoke", "잘못 발급됨", actor=CLERK)
    assert _verdict(verifier, svc, short) == "revoked"

    # work lists and the audit trail, logged in the registry without personal data
    assert svc.counts(project_id=project.id) == {dept.id: {"revoked": 1, "completed": 1, "terminated": 1}}
    assert svc.flush_audit() > 10 and svc.flush_audit() == 0
    trail = svc.audit_trail(target=urn)
    assert [e.action for e in reversed(trail)][:4] == ["contract.offer", "contract.sign", "contract.countersign", "status.suspend"]
    assert all(e.log_index is not None for e in trail) and trail[-1].ip == CLERK.ip
    with svc.tx() as s:
        details = " ".join(s.scalars(select(models.AuditEvent.detail)))
    assert "김서울" not in details and "1234-5678" not in details


def test_wrong_codes_lock_the_invitation(world: tuple[City, IssuerService, Flask]) -> None:
    city, svc, _ = world
    _, project = demo_project(svc)
    svc.add_participants(project.id, ROWS[:1])
    [offer] = svc.offer_contracts(list(svc.draft_contracts(project.id).created))
    token = offer.invitation_url.rsplit("/", 1)[1]
    svc.identify(token, "김서울", "1990-05-01")
    code = _last_code(svc)
    did = Ed25519KeyPair.generate().public.did_key
    for _ in range(4):
        with pytest.raises(InvalidInput, match="wrong or expired"):
            svc.verify_code(token, "000000" if code != "000000" else "111111", did)
    with pytest.raises(InvitationLocked, match="call the office"):
        svc.verify_code(token, "999999" if code != "999999" else "111111", did)
    with pytest.raises(InvitationLocked):
        svc.verify_code(token, code, did)  # even the right code: staff must reopen it
    with pytest.raises(InvalidInput, match="did:key"):
        svc.verify_code(token, code, "did:web:example.com")
    link = svc.reissue_invitation(offer.participant_id, actor=CLERK)
    auth = _onboard(svc, link, ROWS[0], Ed25519KeyPair.generate())
    assert [c.state for c in svc.worker_contracts(auth)] == ["offered"]


def test_countersign_and_complete_resume_after_a_registry_outage(world: tuple[City, IssuerService, Flask]) -> None:
    city, svc, verifier = world
    _, project = demo_project(svc, city=city)
    svc.add_participants(project.id, ROWS)
    offers = svc.offer_contracts(list(svc.draft_contracts(project.id).created))
    workers = [Ed25519KeyPair.generate() for _ in offers]
    for offer, row, worker in zip(sorted(offers, key=lambda o: o.participant_id), ROWS, workers, strict=True):
        _sign(svc, _onboard(svc, offer.invitation_url, row, worker), worker, offer.urn)
    registry = svc.registry
    svc.registry = RegistryClient("http://127.0.0.1:9", "x", httpx.Client(timeout=1, trust_env=False))  # down
    with pytest.raises(RegistryError, match="cannot be reached"):
        svc.countersign(project_id=project.id)
    assert {c.state for c in svc.contracts(project_id=project.id)} == {"signed"}
    svc.registry = registry
    size = city.log.size()
    assert len(svc.countersign(project_id=project.id).issued) == 2
    assert city.log.size() == size + 2  # each signed once, logged once
    urns = [c.urn for c in svc.contracts(project_id=project.id)]
    svc.registry = RegistryClient("http://127.0.0.1:9", "x", httpx.Client(timeout=1, trust_env=False))
    with pytest.raises(RegistryError):
        svc.complete(urns)
    svc.registry = registry
    first = svc.complete(urns).issued
    assert len(first) == 2 and city.log.size() == size + 4
    svc.collect_receipts()
    for ready in svc.credentials_ready_for(workers[0].public.did_key):
        assert _verdict(verifier, svc, ready.credential) == "valid"
