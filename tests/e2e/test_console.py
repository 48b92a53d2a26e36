"""The staff console in Chromium, as a clerk uses it: password then a new passkey (virtual
authenticator), sign out, password then passkey again, the project's template with a legal finding
next to its field, the work list, and offering a contract (invitation link + QR). Every step passes
the page checks (axe, 44 px targets, no sideways scroll at 390 px) and is photographed at 390x844,
1280x800 and, for the laptop-and-tablet pages, 820x1180."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from tests.helpers_console import PASSWORD, Site, console_site
from tests.helpers_pages import checked_page, screenshots_dir
from tests.helpers_passkeys import virtual_authenticator

pytestmark = pytest.mark.browser
TABLET = {"width": 820, "height": 1180}


@pytest.fixture
def site(serve: Callable[[Flask], str], tmp_path: Path) -> Iterator[tuple[Site, str]]:
    with console_site(tmp_path, f"sqlite:///{tmp_path / 'issuer.sqlite3'}") as s:
        s.app.extensions["workcred.console"].password_only = False  # as in production: a passkey is required
        base = serve(s.app).replace("127.0.0.1", "localhost")  # a passkey needs a host name
        s.config.base_url = base
        yield s, base


def tablet_shot(page: Any, label: str) -> None:
    original = page.viewport_size
    page.set_viewport_size(TABLET)
    assert not page.evaluate("document.documentElement.scrollWidth > window.innerWidth"), label
    page.screenshot(path=str(screenshots_dir() / f"console-{label}-ko-820x1180.png"), full_page=True)
    page.set_viewport_size(original)


def sign_in_with_password(page: Any) -> None:
    page.fill("#login", "clerk.a")
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="다음").click()
    page.wait_for_load_state()


def test_clerk_journey(browser: Any, site: tuple[Site, str]) -> None:
    s, base = site
    with checked_page(browser, base, "console") as pc:
        page = pc.page
        virtual_authenticator(page)
        pc.goto("/console/login")
        pc.step("login")
        sign_in_with_password(page)
        assert page.url.endswith("/console/passkeys")  # no passkey yet: enrol one to finish signing in
        pc.step("enrol")
        with page.expect_navigation(url="**/console/"):
            page.get_by_role("button", name="패스키 등록").click()
        assert page.locator("h1").inner_text() == "현황"
        pc.step("dashboard")
        tablet_shot(page, "dashboard")

        page.get_by_role("button", name="로그아웃").click()
        page.wait_for_url("**/console/login")
        sign_in_with_password(page)
        assert page.url.endswith("/console/login/passkey")  # the password alone is not enough now
        pc.step("second-factor")
        with page.expect_navigation(url="**/console/"):
            page.get_by_role("button", name="패스키로 확인").click()

        project = s.projects["A"]
        pc.goto(f"/console/projects/{project}")
        pc.step("project")
        page.fill("#d-wage-amount", "5000")
        page.get_by_role("button", name="저장").click()
        page.wait_for_load_state()
        finding = page.locator("#d-wage-amount").get_attribute("aria-describedby") or ""
        assert "rule-wage-amount" in finding, page.locator("main").inner_text()[:1500]
        assert "최저임금" in page.locator(f"#{finding.split()[0]}").inner_text()
        pc.step("project-finding")
        tablet_shot(page, "project-finding")
        page.fill("#d-wage-amount", "12121")
        page.get_by_role("button", name="저장").click()
        page.wait_for_load_state()
        assert "통과했습니다" in page.locator("main").inner_text()

        pc.goto(f"/console/contracts?project={project}")
        pc.step("contracts")
        page.get_by_role("link", name="김서울").click()
        page.wait_for_load_state()
        page.get_by_role("button", name="근로자에게 보내기").click()
        page.wait_for_load_state()
        assert page.locator("img.console-qr").count() == 1 and "/invite/" in page.locator("main").inner_text()
        pc.step("contract-offered")
        tablet_shot(page, "contract-offered")
    assert s.service.contract(s.contract_a).state == "offered"


def test_admin_pages_in_english(browser: Any, site: tuple[Site, str], tmp_path: Path) -> None:
    s, base = site
    s.app.extensions["workcred.console"].password_only = True  # development: the admin has no passkey
    roster_file = tmp_path / "roster.csv"
    roster_file.write_bytes(
        "성명,생년월일,주소,연락처,근무장소,업무내용,이메일\r\n박한글,1992-02-03,서울시 종로구 1,010-5555-6666,서울시청,자료 정리,\r\n"
        "최오류,1993-13-40,서울시 종로구 2,010-7777-8888,서울시청,자료 정리,\r\n".encode("cp949")
    )
    with checked_page(browser, base, "console-admin", lang="en") as pc:
        page = pc.page
        pc.goto("/console/login")
        page.fill("#login", "admin")
        page.fill("#password", PASSWORD)
        page.get_by_role("button", name="Continue").click()
        page.wait_for_url("**/console/")
        pc.goto("/console/staff/")
        pc.step("staff")
        pc.goto(f"/console/staff/{s.staff['clerk_a']}")
        pc.step("staff-member")
        pc.goto(f"/console/projects/{s.projects['B']}/roster/")
        page.set_input_files("#roster-file", str(roster_file))
        page.get_by_role("button", name="Check the file").click()
        page.wait_for_load_state()
        assert "Import the 1 valid rows" in page.locator("main").inner_text()
        pc.step("roster-report")
        tablet_shot(page, "roster-report")
        pc.goto(f"/console/contracts/{s.contract_a}")
        pc.step("contract")
        pc.goto("/console/audit")
        pc.step("audit")
        pc.goto("/console/departments")
        pc.step("departments")
