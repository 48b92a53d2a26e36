"""The contract actions of the console on the demo's contracts (every state, real worker signatures):
countersign, suspend with a reason, reinstate, amend (a new draft version), revoke, end early."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from issuer import demo
from issuer.app import create_app
from issuer.console import Accounts
from tests.helpers_city import start_city
from tests.helpers_console import CSRF, sign_in
from tests.helpers_issuer import issuer_service
from web.config import RoleConfig


def test_actions_follow_the_lifecycle(tmp_path: Path, sqlite_url: str) -> None:
    with start_city(tmp_path) as city, issuer_service(city, sqlite_url) as svc:
        seeded = demo.seed(svc, today=date(2026, 12, 6))
        app = create_app(RoleConfig("issuer", secret_key="k", dev=True, base_url="http://localhost",
                                    extra={"background": "0"}), service=svc)  # fmt: skip
        client = app.test_client()
        clerk = next(s for s in Accounts(svc).list_staff() if s.login == demo.CLERK[0])
        sign_in(client, clerk.id)
        by_state = {state: urn for urn, state in seeded.contracts.items()}

        def act(urn: str, action: str, **form: str) -> int:
            return client.post(f"/console/contracts/{urn}/{action}", data={"csrf_token": CSRF, **form}).status_code

        signed = by_state["signed"]
        page = client.get(f"/console/contracts/{signed}").get_data(as_text=True)
        assert "확인 서명하고 발급" in page
        assert act(signed, "countersign") == 303 and svc.contract(signed).state == "active"

        active = by_state["active"]
        assert act(active, "suspend") == 400  # the worker must be told why
        assert act(active, "suspend", reason="근무지 점검") == 303
        assert (svc.contract(active).state, svc.contract(active).status_reason) == ("suspended", "근무지 점검")
        assert act(active, "reinstate") == 303 and svc.contract(active).state == "active"
        amended = client.post(f"/console/contracts/{active}/amend", data={"csrf_token": CSRF, "wage.amount": "13000"})
        assert amended.status_code == 303
        new_urn = amended.headers["Location"].rsplit("/", 1)[1]
        assert svc.contract(new_urn).state == "draft" and svc.contract(new_urn).supersedes == active
        assert svc.contract(active).state == "active"  # in force until the new version is signed by both
        assert act(active, "revoke", reason="계약 취소 (시험)") == 303 and svc.contract(active).state == "revoked"

        ending = by_state["suspended"]
        assert act(ending, "reinstate") == 303
        assert act(ending, "terminate", end_date="2026-10-31", reason="본인 사정") == 303
        assert svc.contract(ending).state == "terminated"
        # each action is in the contract's trail under the clerk's name (newest first)
        mine = [e.action for e in svc.audit_trail(target=ending) if e.actor == f"staff:{clerk.id}"]
        assert mine == ["contract.terminate", "status.reinstate"]
