"""An issuer service against a real city registry (tests/helpers_city.py), for the issuer tests.

    with start_city(tmp_path) as city, issuer_service(city, db_url) as svc:
        dept, project = demo_project(svc)
        svc.add_participants(project.id, [ParticipantRow("김서울", "1990-05-01", "010-1234-5678")])
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

from issuer.service import DepartmentView, IssuerService, ProjectView
from web import db
from web.envelope import MasterKey

from .helpers_city import City

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
