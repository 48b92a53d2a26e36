"""Every wallet page a worker sees, in Korean and English, through the product's page checks
(tests/helpers_pages.py: axe, 44 px targets and no sideways scrolling at 390 px, no console errors,
no failed or foreign requests, screenshots at 390x844 and 1280x800)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers_city import City, Department, start_city
from tests.helpers_pages import checked_page
from tests.helpers_passkeys import virtual_authenticator
from tests.helpers_wallet import Wallet, wallet_server

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Iterator[City]:
    with start_city(tmp_path_factory.mktemp("city")) as c:
        yield c


@pytest.fixture(scope="module")
def dept(city: City) -> Department:
    return city.department("seoul-look", "서울특별시 일자리정책과", "Job Policy Division")


@pytest.fixture
def wallet(city: City, tmp_path: Path) -> Iterator[Wallet]:
    with wallet_server(tmp_path, city) as w:
        yield w


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_wallet_pages_pass_the_page_checks(browser: Any, wallet: Wallet, city: City, dept: Department, lang: str) -> None:
    account = wallet.store.create_account(name="홍길동", birth_date="1998-04-12")
    key = wallet.store.key(account.id)
    contract = city.issue_contract(dept, key)
    career = city.issue_career(dept, key, end_date="2026-11-30")
    wallet.store.put_credential(account.id, contract.vc, receipt=contract.receipt)
    wallet.store.put_credential(account.id, career.vc, receipt=career.receipt, status="completed")
    city.suspend(contract)  # in the registry's status list; the reason comes from the issuer
    wallet.store.set_status(account.id, contract.id, "active", "근무 기록 정정 중")

    with checked_page(browser, wallet.url, "wallet", lang=lang) as pc:
        pc.goto("/")
        pc.step("landing")
        pc.goto("/invite")
        pc.step("invite-no-link")
        pc.page.goto(wallet.url + "/invite/" + "t" * 43)  # an invitation link: the form to confirm who you are
        pc.step("invite")
        pc.goto("/login")
        pc.step("login")

        # the passkey step as after the identity check, then the signed-in pages
        pc.page.context.add_cookies([wallet.session_cookie({"enrol": {"aid": account.id, "returning": True, "restored": 2}})])
        virtual_authenticator(pc.page)
        pc.goto("/invite/passkey")
        pc.step("enrol")
        pc.page.click("form[data-passkey=register] button[type=submit]")
        pc.page.wait_for_url(re.compile(r"/\?welcome=1$"))
        pc.step("home")
        pc.goto(f"/credentials/{contract.id}")
        assert ("효력 정지" if lang == "ko" else "Suspended") in pc.page.inner_text("main")
        pc.step("credential")
        pc.goto("/present")
        pc.step("present")
        pc.page.check(f"input[name=credential][value='{career.id}']")
        pc.page.click("form[action='/present'] button[type=submit]")
        pc.page.wait_for_url(re.compile(r"/present/[^/]+$"))
        pc.step("qr")
        pc.goto("/shares")
        pc.step("shares")
        pc.goto("/account")
        pc.step("account")
        pc.goto("/oid4vp?request=" + "openid4vp://nothing", status=400)
        pc.step("scan-bad-request")
