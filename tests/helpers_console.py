"""A staffed issuer console over a real city registry, for the console tests.

Departments X and Y; projects A and B in X, C in Y; staff: an admin, a manager of each department,
the clerk of A and the clerk of B (passwords `PASSWORD`). `sign_in(client, staff_id)` puts a staff
member's session on a Flask test client (the sign-in itself is tested in the browser).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from flask import Flask

from issuer import jobs
from issuer.app import create_app
from issuer.console import ADMIN, CLERK, MANAGER, Accounts
from issuer.service import SYSTEM, IssuerService, ParticipantRow
from web.config import RoleConfig

from .helpers_city import start_city
from .helpers_issuer import PART_TIME, issuer_service

PASSWORD = "correct horse battery staple"
WORKERS = [
    ParticipantRow("김서울", "1990-05-01", "010-1234-5678", "kim@example.kr"),
    ParticipantRow("이한강", "1985-11-30", "010-2222-3333"),
]
CSRF = "test-csrf-token"


@dataclass
class Site:
    app: Flask
    service: IssuerService
    config: RoleConfig
    departments: dict[str, int]  # X, Y
    projects: dict[str, int]  # A, B (in X), C (in Y)
    staff: dict[str, int]  # admin, manager_x, manager_y, clerk_a, clerk_b
    contract_a: str  # a draft in project A
    job_a: int  # a queued (not running) bulk job of project A


def _seed(svc: IssuerService) -> tuple[dict[str, int], dict[str, int], dict[str, int]]:
    employer = {"representative": "김예시 (과장)", "business_number": "123-45-67890", "address": "서울특별시 중구 세종대로 110",
                "phone": "02-120"}  # fmt: skip
    x = svc.create_department("dept-x", "서울특별시 일자리정책과", "Job Policy Division", **employer)
    y = svc.create_department("dept-y", "서울특별시 복지정책과", "Welfare Policy Division", **employer)
    projects = {}
    for key, dept in (("A", x), ("B", x), ("C", y)):
        p = svc.create_project(dept.id, f"2026 사업 {key}", date(2026, 3, 2), date(2026, 11, 30), budget_line=f"B-{key}",
                               workplaces=["서울시청"], position="보조원", overrides=PART_TIME)  # fmt: skip
        projects[key] = p.id
    accounts = Accounts(svc)
    staff = {
        "admin": accounts.create_staff("admin", "관리자", ADMIN, password=PASSWORD, actor=SYSTEM).id,
        "manager_x": accounts.create_staff("manager.x", "김부장", MANAGER, department_id=x.id, password=PASSWORD, actor=SYSTEM).id,
        "manager_y": accounts.create_staff("manager.y", "이부장", MANAGER, department_id=y.id, password=PASSWORD, actor=SYSTEM).id,
        "clerk_a": accounts.create_staff("clerk.a", "박주무관", CLERK, department_id=x.id, password=PASSWORD,
                                         project_ids=[projects["A"]], actor=SYSTEM).id,
        "clerk_b": accounts.create_staff("clerk.b", "최주무관", CLERK, department_id=x.id, password=PASSWORD,
                                         project_ids=[projects["B"]], actor=SYSTEM).id,
    }  # fmt: skip
    return {"X": x.id, "Y": y.id}, projects, staff


@contextmanager
def console_site(tmp_path: Path, db_url: str, **app_config: Any) -> Iterator[Site]:
    with start_city(tmp_path) as city, issuer_service(city, db_url) as svc:
        departments, projects, staff = _seed(svc)
        svc.add_participants(projects["A"], WORKERS)
        [contract_a, *_] = svc.draft_contracts(projects["A"]).created
        job_a = jobs.start_job(svc, "offer-all", projects["A"]).id
        config = RoleConfig("issuer", secret_key="console-tests", dev=True, base_url="http://localhost", extra={"background": "0"})
        app = create_app(config, service=svc)
        app.config.update(app_config)
        yield Site(app, svc, config, departments, projects, staff, contract_a, job_a)


def sign_in(client: Any, staff_id: int | None) -> None:
    """Give the test client a signed-in session of `staff_id` (None: anonymous) with a known CSRF token."""
    with client.session_transaction() as session:
        session.clear()
        session["_csrf"] = CSRF
        if staff_id is not None:
            session["staff"] = staff_id
