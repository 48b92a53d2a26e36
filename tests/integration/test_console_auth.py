"""Console sign-in: password then passkey (or, in development, password alone), lockout, rate limit,
CSRF, and `workcred issuer create-admin`."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from issuer import models
from issuer.console import Accounts
from issuer.service import SYSTEM
from tests.helpers_console import CSRF, PASSWORD, console_site, sign_in


def post_login(client: object, login: str, password: str) -> object:
    return client.post("/console/login", data={"login": login, "password": password, "csrf_token": CSRF},  # type: ignore[attr-defined]
                       headers={"Accept": "text/html"})  # fmt: skip


def test_lockout_after_five_wrong_passwords(tmp_path: Path, db_url: str) -> None:
    with console_site(tmp_path, db_url, RATE_LIMITS_ENABLED=False) as site:
        client = site.app.test_client()
        sign_in(client, None)
        for _ in range(5):
            resp = post_login(client, "clerk.a", "wrong password!!")
            assert resp.status_code == 401 and "아이디 또는 비밀번호가 맞지 않습니다" in resp.get_data(as_text=True)
        # now even the right password waits
        resp = post_login(client, "clerk.a", PASSWORD)
        assert resp.status_code == 423 and "잠겼습니다" in resp.get_data(as_text=True)
        # unknown names answer exactly like wrong passwords, and lock alike (no oracle)
        for _ in range(5):
            assert post_login(client, "nobody", PASSWORD).status_code == 401
        assert post_login(client, "nobody", PASSWORD).status_code == 423
        with site.service.tx() as s:
            failed = s.scalars(select(models.AuditEvent).where(models.AuditEvent.action == "staff.login-failed")).all()
        assert len(failed) == 5 and all(e.actor == f"staff:{site.staff['clerk_a']}" for e in failed)
        assert PASSWORD not in "".join(e.detail for e in failed)
        Accounts(site.service).unlock(site.staff["clerk_a"], actor=SYSTEM)
        resp = post_login(client, "clerk.a", PASSWORD)
        # development: an account without a passkey signs in with its password alone
        assert resp.status_code == 303 and resp.headers["Location"].endswith("/console/")
        assert client.get("/console/").status_code == 200


def test_production_requires_a_passkey(tmp_path: Path, sqlite_url: str) -> None:
    with console_site(tmp_path, sqlite_url) as site:
        site.app.extensions["workcred.console"].password_only = False
        client = site.app.test_client()
        sign_in(client, None)
        resp = post_login(client, "clerk.a", PASSWORD)
        assert resp.status_code == 303 and resp.headers["Location"].endswith("/console/passkeys")
        # past the password but not signed in: only the enrolment page opens
        assert client.get("/console/", headers={"Accept": "text/html"}).status_code == 302
        page = client.get("/console/passkeys")
        assert page.status_code == 200 and "패스키를 등록하면 로그인이 끝납니다" in page.get_data(as_text=True)


def test_login_rate_limit_and_csrf(tmp_path: Path, sqlite_url: str) -> None:
    with console_site(tmp_path, sqlite_url, RATE_LIMITS={"console-login": (3, 60)}) as site:
        client = site.app.test_client()
        sign_in(client, None)
        no_token = client.post("/console/login", data={"login": "admin", "password": PASSWORD})
        assert no_token.status_code == 400 and no_token.get_json()["type"].endswith("#csrf-failed")
        for _ in range(3):
            assert post_login(client, "admin", "nope nope nope").status_code == 401
        limited = post_login(client, "admin", PASSWORD)
        assert limited.status_code == 429 and limited.headers["Retry-After"]


def test_create_admin_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from workcred.cli import main

    monkeypatch.setenv("WORKCRED_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("WORKCRED_ISSUER_DATABASE_URL", f"sqlite:///{tmp_path / 'issuer.sqlite3'}")
    monkeypatch.setenv("WORKCRED_KEYSTORE_DIR", str(tmp_path / "keys"))
    monkeypatch.setenv("WORKCRED_LANG", "ko")
    monkeypatch.setattr(sys, "stdin", io.StringIO("short\n"))
    assert main(["issuer", "create-admin", "--login", "root", "--name", "홍길동", "--password-stdin"]) == 2
    assert "12자 이상" in capsys.readouterr().err
    monkeypatch.setattr(sys, "stdin", io.StringIO(PASSWORD + "\n"))
    assert main(["issuer", "create-admin", "--login", "root", "--name", "홍길동", "--password-stdin"]) == 0
    assert "'root'를 만들었습니다" in capsys.readouterr().out
    monkeypatch.setattr(sys, "stdin", io.StringIO(PASSWORD + "\n"))
    assert main(["issuer", "create-admin", "--login", "root2", "--name", "김", "--password-stdin"]) == 2
    assert "관리자가 이미 있습니다" in capsys.readouterr().err


def test_last_admin_stays_and_a_deactivated_session_ends(tmp_path: Path, sqlite_url: str) -> None:
    with console_site(tmp_path, sqlite_url) as site:
        client = site.app.test_client()
        sign_in(client, site.staff["admin"])
        admin = site.staff["admin"]
        refused = client.post(f"/console/staff/{admin}", data={"csrf_token": CSRF, "display_name": "관리자"})
        assert refused.status_code == 409 and "마지막 남은 시스템 관리자" in refused.get_data(as_text=True)
        # the manager deactivates a clerk of the department: that clerk's open session ends at once
        clerk = site.app.test_client()
        sign_in(clerk, site.staff["clerk_a"])
        assert clerk.get("/console/").status_code == 200
        manager = site.app.test_client()
        sign_in(manager, site.staff["manager_x"])
        done = manager.post(f"/console/staff/{site.staff['clerk_a']}",
                            data={"csrf_token": CSRF, "display_name": "박주무관", "project_ids": [site.projects["A"]]})  # fmt: skip
        assert done.status_code == 303
        assert clerk.get("/console/", headers={"Accept": "text/html"}).status_code == 302
