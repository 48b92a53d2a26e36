"""Demo data for `make run`, the issuer's part (see workcred/demo.py for the hook and its order).

Through the issuer's own service, as a clerk and the workers' wallets would: the demo department
(its key, did:web document and status lists; the registry's seed puts it on the trust list), a
part-time project of eight months that ended last month, a roster of seven fictional workers, and
contracts in every state a clerk meets: a draft, two offered, one signed waiting for the
countersignature, one active, one suspended with its reason, one completed with its career record.
The workers' wallet keys are generated here and thrown away (only their signatures are kept).
Idempotent: nothing is added when the demo project exists.

Staff for the console (development only, passwords printed by `make run`): a system admin, the
demo department's manager and the project's clerk (`STAFF`); a password alone signs them in while
WORKCRED_DEV=1 (production asks every account for a passkey).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from flask import Flask

from agents import contract
from agents.keys import Ed25519KeyPair
from workcred.demo import DEPARTMENT, LABEL_EN, LABEL_KO, period_ending_last_month

from .service import SUSPEND, Actor, IssuerService, ParticipantRow

PROJECT = "서울 데이터 서포터즈 (시연용)"
DEMO = Actor("system:demo")
ROWS = [
    ParticipantRow(name, birth, f"010-0000-{i:04d}", fields={"employee.address": "서울특별시 중구 세종대로 110 (예시)"})
    for i, (name, birth) in enumerate([
        ("김서연", "1996-03-14"), ("이준호", "1988-07-02"), ("박지민", "2000-11-23"), ("최유나", "1993-01-30"),
        ("정민수", "1979-09-09"), ("강하늘", "1998-05-17"), ("윤소희", "1985-12-05"),
    ], start=1)
]  # fmt: skip
#: what each roster row becomes, in order
PLAN = ("draft", "offered", "offered", "signed", "active", "suspended", "completed")


#: (login, name, role, password) of the development staff; the clerk is assigned the demo project
STAFF = (
    ("admin.demo", "시스템 관리자(시연용)", "admin", "workcred-demo-admin"),
    ("manager.demo", "김부장(시연용)", "manager", "workcred-demo-manager"),
    ("clerk.demo", "박주무관(시연용)", "clerk", "workcred-demo-clerk"),
)
CLERK = STAFF[2]


@dataclass(frozen=True)
class DemoData:
    department_id: int
    project_id: int
    contracts: dict[str, str]  # urn -> state


def seed_demo(app: Flask) -> None:
    """The `make run` hook."""
    seed(app.extensions["issuer"])


def seed(svc: IssuerService, *, today: date | None = None) -> DemoData:
    dept = svc.create_department(DEPARTMENT, LABEL_KO, LABEL_EN, representative="김예시 (일자리정책과장)",
                                 business_number="000-00-00000", address="서울특별시 중구 세종대로 110 (시연용)",
                                 phone="02-0000-0000", actor=DEMO)  # fmt: skip
    found = [p for p in svc.projects(dept.id) if p.name == PROJECT]
    if found:
        seed_staff(svc, dept.id, found[0].id)
        return DemoData(dept.id, found[0].id, {c.urn: c.state for c in svc.contracts(project_id=found[0].id)})
    period = period_ending_last_month(today or datetime.now(UTC).date())
    project = svc.create_project(
        dept.id, PROJECT, date.fromisoformat(period["startDate"]), date.fromisoformat(period["endDate"]),
        template_variant="part-time", budget_line="일자리정책-시연-01", workplaces=["서울시청 서소문청사 7층 (시연용)"],
        position="데이터 서포터즈 (단시간 근로자)",
        overrides={"duties": "공공데이터 품질 점검, 개방 데이터셋 정비 및 시민 데이터 활용 교육 보조", "wage.amount": 12121},
        actor=DEMO,
    )  # fmt: skip
    ids = svc.add_participants(project.id, ROWS, batch="demo-roster.csv", actor=DEMO).created
    drafts = svc.draft_contracts(project.id, ids, actor=DEMO).created
    urns = dict(enumerate(drafts))  # drafts come in roster order, one per row of PLAN
    svc.offer_contracts([urns[i] for i, state in enumerate(PLAN) if state != "draft"], actor=DEMO)
    for i, state in enumerate(PLAN):
        if state in ("draft", "offered"):
            continue
        worker = Ed25519KeyPair.generate()  # the worker's wallet key, as the wallet would bind it
        auth = svc.worker(svc.bind_holder(ids[i], worker.public.did_key, actor=DEMO))
        offered = svc.worker_contract(auth, urns[i])
        assert offered.draft is not None
        acceptance = contract.accept_contract(offered.draft, worker, passkey_assertion={
            "type": "DemoAssertion", "challenge": offered.draft_digest})  # fmt: skip
        svc.accept(auth, urns[i], acceptance)
    svc.countersign([urns[i] for i, state in enumerate(PLAN) if state in ("active", "suspended", "completed")], actor=DEMO)
    svc.change_status([urns[PLAN.index("suspended")]], SUSPEND, "근무지 안전 점검 기간 동안 정지 (시연용)", actor=DEMO)
    svc.complete([urns[PLAN.index("completed")]], actor=DEMO)
    seed_staff(svc, dept.id, project.id)
    svc.flush_audit()
    return DemoData(dept.id, project.id, {c.urn: c.state for c in svc.contracts(project_id=project.id)})


def seed_staff(svc: IssuerService, department_id: int, project_id: int) -> None:
    """The development admin, manager and clerk (each only when their sign-in name is free)."""
    from .console import Accounts

    accounts = Accounts(svc)
    taken = {s.login for s in accounts.list_staff()}
    for login, name, role, password in STAFF:
        if login in taken:
            continue
        accounts.create_staff(login, name, role, department_id=None if role == "admin" else department_id,
                              password=password, project_ids=[project_id] if role == "clerk" else (), actor=DEMO)  # fmt: skip
