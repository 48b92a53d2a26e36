"""`make run`'s issuer demo: through the issuer's service, contracts in every state a clerk meets, once."""

from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path

from issuer import demo
from issuer.console import Accounts
from tests.helpers_city import start_city
from tests.helpers_issuer import issuer_service


def test_demo_seed_makes_every_state_once(tmp_path: Path, db_url: str) -> None:
    with start_city(tmp_path) as city, issuer_service(city, db_url) as svc:
        first = demo.seed(svc, today=date(2026, 12, 6))
        assert Counter(first.contracts.values()) == Counter(demo.PLAN)
        again = demo.seed(svc, today=date(2026, 12, 6))
        assert again == first
        project = svc.project(first.project_id)
        assert (project.start_date, project.end_date) == (date(2026, 4, 2), date(2026, 11, 30)) and project.template_ready
        [suspended] = svc.contracts(project_id=project.id, states=["suspended"])
        assert suspended.status_reason and "시연용" in suspended.status_reason
        assert svc.audit_trail(project_id=project.id)[0].log_index is not None  # the trail is in the registry log
        assert [d.slug for d in svc.departments()] == ["demo-jobs"]
        # the console's development staff, once: the clerk sees exactly the demo project
        staff = {s.login: s for s in Accounts(svc).list_staff()}
        assert sorted(staff) == sorted(login for login, *_ in demo.STAFF)
        clerk = staff[demo.CLERK[0]]
        assert clerk.role == "clerk" and clerk.project_ids == (project.id,) and clerk.has_password
        assert Accounts(svc).check_password(demo.CLERK[0], demo.CLERK[3]) == clerk.id
