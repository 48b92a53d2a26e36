"""Issuers for the tests, against a real city registry (tests/helpers_city.py).

The issuer service alone (the engine's tests):

    with start_city(tmp_path) as city, issuer_service(city, db_url) as svc:
        dept, project = demo_project(svc)
        svc.add_participants(project.id, [ParticipantRow("김서울", "1990-05-01", "010-1234-5678")])

The issuer app served over HTTP on a free loopback port, sharing the city's key store (the protocol tests):

    with start_issuer(tmp_path, db_url) as iss:
        client_id, secret = iss.client()                       # a VC-API client of the department
        token = iss.vcapi_token(client_id, secret)
        urn = iss.active_contract(worker)                      # the engine's whole flow up to countersigning
        offer = iss.offer(urn, out_of_band=True)               # issuer.offers.MadeOffer, tx_code in the outbox
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import httpx

from agents import contract, oid4vci
from agents.keys import Ed25519KeyPair
from issuer.service import Actor, DepartmentView, IssuerService, ParticipantRow, ProjectView
from web import db
from web.config import RoleConfig
from web.envelope import MasterKey

from .helpers_city import City, serve, start_city

MASTER = b"\x11" * 32
WALLET_URL = "http://wallet.test"

#: a lawful part-time template for a project (dotted subject paths), like the demo's
PART_TIME = {
    "duties": "공공데이터 품질 점검 및 시민 데이터 활용 교육 보조",
    "wage.amount": 12121,
}


@contextmanager
def issuer_service(city: City, db_url: str, **kw: Any) -> Iterator[IssuerService]:
    """A migrated issuer database at `db_url`, the city's key store and registry client."""
    db.migrate("issuer", db_url)
    engine = db.make_engine(db_url)
    kw.setdefault("wallet_url", WALLET_URL)
    kw.setdefault("clock", lambda: city.now)
    try:
        yield IssuerService(db.session_factory(engine), MasterKey(MASTER, "issuer"), city.keystore, city.client,
                            checkpoint=city.checkpoint, **kw)  # fmt: skip
    finally:
        engine.dispose()


def demo_project(svc: IssuerService, slug: str = "seoul-jobs", city: City | None = None) -> tuple[DepartmentView, ProjectView]:
    """A department (accredited when `city` is given) and a lawful part-time project of 2026."""
    dept = svc.create_department(slug, "서울특별시 일자리정책과", "Job Policy Division", representative="김예시 (일자리정책과장)",
                                 business_number="123-45-67890", address="서울특별시 중구 세종대로 110", phone="02-120")  # fmt: skip
    if city is not None:
        from .helpers_city import Department

        city.accredit(Department(dept.slug, dept.did, dept.name_ko, dept.name_en))
    project = svc.create_project(dept.id, "2026 서울 데이터 서포터즈", date(2026, 3, 2), date(2026, 11, 30),
                                 budget_line="일자리-2026-01", workplaces=["서울시청 서소문청사 7층"],
                                 position="데이터 서포터즈 (단시간)", overrides=PART_TIME)  # fmt: skip
    return dept, project


DEPARTMENT = "seoul-jobs"
CLERK = Actor.staff(1, "198.51.100.7")


@dataclass
class IssuerUnderTest:
    city: City
    app: Any
    svc: IssuerService
    base_url: str
    http: httpx.Client
    department: Any  # helpers_city.Department of DEPARTMENT
    project: ProjectView
    worker_token: str = ""  # of the last worker onboarded by active_contract

    @property
    def ctx(self) -> Any:
        from issuer.protocols import protocols

        with self.app.app_context():
            return protocols()

    def add_department(self, slug: str) -> Any:
        """Another accredited department, created by the issuer service."""
        from .helpers_city import Department

        view = self.svc.create_department(slug, f"{slug} 부서", f"{slug} division")
        dept = Department(view.slug, view.did, view.name_ko, view.name_en)
        self.city.accredit(dept)
        return dept

    def client(self, department: str = DEPARTMENT) -> tuple[str, str]:
        from issuer import models, oauth

        with self.ctx.tx() as s:
            row = s.query(models.Department).filter_by(slug=department).one()
            return oauth.create_client(s, row, "test client")

    def vcapi_token(self, client_id: str, secret: str, **form: str) -> str:
        resp = self.http.post(f"{self.base_url}/oid4vci/token", data={"grant_type": "client_credentials", **form}, auth=(client_id, secret))
        assert resp.status_code == 200, resp.text
        return str(resp.json()["access_token"])

    def active_contract(self, worker: Ed25519KeyPair, *, name: str = "김서울", birth_date: str = "1990-05-01") -> str:
        """The engine's whole flow: roster row, draft, offer, identity check binding `worker`'s did:key,
        the worker's acceptance, the department's countersignature (logged, receipt collected)."""
        svc = self.svc
        phone = f"010-{uuid.uuid4().int % 9000 + 1000}-{uuid.uuid4().int % 9000 + 1000}"
        svc.add_participants(self.project.id, [ParticipantRow(name, birth_date, phone)], actor=CLERK)
        [urn] = svc.draft_contracts(self.project.id, actor=CLERK).created
        [offered] = svc.offer_contracts([urn], actor=CLERK)
        assert offered.invitation_url is not None
        token = offered.invitation_url.rsplit("/", 1)[1]
        svc.identify(token, name, birth_date)
        bound = svc.verify_code(token, last_code(svc), worker.public.did_key)
        self.worker_token = bound.worker_token
        auth = svc.worker(bound.worker_token)
        draft = svc.worker_contract(auth, urn)
        acceptance = contract.accept_contract(draft.draft, worker, passkey_assertion={"type": "WebAuthnAssertion", "challenge": draft.draft_digest})
        assert svc.accept(auth, urn, acceptance) == "signed"
        svc.countersign([urn], actor=CLERK)
        svc.collect_receipts()
        return urn

    def offer(self, urn: str, *, out_of_band: bool = False) -> Any:
        from issuer import offers

        made = offers.open_offer(self.ctx, urn, out_of_band=out_of_band)
        assert made is not None
        return made

    def holder_http(self) -> httpx.Client:
        return httpx.Client(timeout=10, trust_env=False)


def last_code(svc: IssuerService, purpose: str = "code") -> str:
    """The 6-digit code of the newest outbox message (the dev outbox keeps what it would send)."""
    [message] = svc.outbox_messages(limit=1)
    found = re.search(r"\b(\d{6})\b", message.body)
    assert found and message.purpose == purpose, message.purpose
    return found.group(1)


@contextmanager
def start_issuer(tmp: Path, db_url: str, *, city: City | None = None, **extra: str) -> Iterator[IssuerUnderTest]:
    """The issuer app over HTTP with its service over a real registry, one accredited department (`seoul-jobs`) and project."""
    from issuer.app import create_app

    from .helpers_city import Department

    with _city(tmp, city) as the_city, issuer_service(the_city, db_url) as svc:
        box: dict[str, Any] = {}
        server, _ = serve(lambda env, sr: box["app"](env, sr))
        base = f"http://127.0.0.1:{server.server_port}"
        config = RoleConfig(
            "issuer", port=server.server_port, base_url=base, database_url=db_url,
            secret_key="issuer-test-secret", dev=True, extra={"departments": f"{DEPARTMENT}:서울 일자리|Seoul jobs", "background": "0", **extra},
        )  # fmt: skip
        app = create_app(config, service=svc)
        box["app"] = app
        view, project = demo_project(svc, DEPARTMENT, city=the_city)
        http = httpx.Client(timeout=15, trust_env=False)
        iss = IssuerUnderTest(the_city, app, svc, base, http, Department(view.slug, view.did, view.name_ko, view.name_en), project)
        try:
            yield iss
        finally:
            http.close()
            server.shutdown()
            server.server_close()
            iss.ctx.close()


@contextmanager
def _city(tmp: Path, city: City | None) -> Iterator[City]:
    if city is not None:
        yield city
        return
    with start_city(tmp) as c:
        yield c


def receive(iss: IssuerUnderTest, offer_url: str, worker: Ed25519KeyPair, **kw: Any) -> list[oid4vci.IssuedCredential]:
    """Our holder client (agents.oid4vci) against the issuer, over HTTP."""
    with iss.holder_http() as http:
        return oid4vci.receive(offer_url, worker, http, **kw)
