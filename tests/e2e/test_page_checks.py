"""Every page that exists, checked the same way (tests/helpers_pages.py), in Korean and English:
axe-core, console errors, failed and foreign requests, 44 px tap targets and no sideways scrolling at
390 px, screenshots at 390x844 and 1280x800; and the landing pages' weight on a first visit."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from agents import verify
from agents.keys import Ed25519KeyPair
from holder_wallet.app import create_app as create_wallet
from issuer.app import create_app as create_issuer
from tests.helpers_city import City, start_city
from tests.helpers_pages import checked_page
from web.config import RoleConfig
from web.envelope import MasterKey

pytestmark = pytest.mark.browser

LANGS = ["ko", "en"]
WORKER = Ed25519KeyPair.from_seed(b"p" * 32)
#: first-visit budgets of a landing page (document, CSS, images, fonts): Korean pages take the Hangul font
BUDGET = {"ko": 200_000, "en": 80_000}


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Iterator[City]:
    with start_city(tmp_path_factory.mktemp("pages-city")) as c:
        dept = c.department("seoul-jobs", "서울특별시 일자리정책과", "Job Policy Division, Seoul")
        c.rotate_key(dept)  # so the trust page shows a retired key too
        yield c


@pytest.fixture(scope="module")
def presentation(city: City) -> dict[str, Any]:
    dept = city.department("seoul-digital", "서울특별시 디지털정책과", "Digital Policy Division")
    issued = city.issue_career(dept, WORKER)
    return verify.create_presentation([issued.vc], WORKER, challenge="pages", domain="https://wallet.workcred.seoul.go.kr")


def _role(role: str, tmp: Path, **extra: str) -> RoleConfig:
    return RoleConfig(role, database_url=f"sqlite:///{tmp / (role + '.sqlite3')}", secret_key="e2e", dev=True,
                      extra={"departments": "seoul-jobs:서울특별시 일자리정책과|Job Policy Division, Seoul", **extra})  # fmt: skip


@pytest.fixture
def issuer(serve: Callable[[Flask], str], city: City, tmp_path: Path) -> str:
    return serve(create_issuer(_role("issuer", tmp_path, registry_url=city.base_url)))


@pytest.fixture
def wallet(serve: Callable[[Flask], str], tmp_path: Path) -> str:
    return serve(create_wallet(_role("wallet", tmp_path), master=MasterKey(b"\x11" * 32, "wallet")))


@pytest.fixture
def verifier(serve: Callable[[Flask], str], city: City, tmp_path: Path) -> Iterator[str]:
    from verifier.app import create_app

    app = create_app(city.verifier_config(f"sqlite:///{tmp_path / 'verifier.sqlite3'}"))
    yield serve(app)
    app.extensions["verifier.follower"].close()
    app.extensions["verifier"].close()


@pytest.mark.parametrize("lang", LANGS)
def test_registry_pages(browser: Any, city: City, lang: str) -> None:
    with checked_page(browser, city.base_url, "registry", lang=lang) as pc:
        pc.goto("/")
        assert pc.page.locator("h1").inner_text() == ("서울시 신뢰 등록소" if lang == "ko" else "Seoul trust registry")
        assert pc.page.locator(".masthead").inner_text().strip() in (
            "이 누리집은 대한민국 공식 전자정부 누리집입니다.", "An official website of the Republic of Korea government.")
        pc.step("home")
        pc.page.get_by_role("link", name="신뢰 목록 보기" if lang == "ko" else "View the trust list").click()
        pc.page.wait_for_url("**/trust")
        assert "서울특별시 일자리정책과" in pc.page.locator("main").inner_text() or lang == "en"
        pc.step("trust")
        pc.page.locator("details.disclosure").count()  # the home page's technical details exist
        # the 404 page's "처음으로" leads to a real page now
        pc.goto("/no-such-page", status=404)
        pc.step("404")
        pc.page.get_by_role("link", name="처음으로" if lang == "ko" else "Home", exact=True).click()
        pc.page.wait_for_load_state()
        assert pc.page.url.split("?")[0] == city.base_url + "/"


@pytest.mark.parametrize("lang", LANGS)
def test_issuer_and_wallet_landing_and_legal_pages(browser: Any, issuer: str, wallet: str, lang: str) -> None:
    for name, base in (("issuer", issuer), ("wallet", wallet)):
        with checked_page(browser, base, name, lang=lang) as pc:
            pc.goto("/")
            pc.step("landing")
            privacy = "개인정보처리방침" if lang == "ko" else "Privacy policy"
            pc.page.get_by_role("link", name=privacy).click()
            pc.page.wait_for_load_state()
            assert pc.page.locator("h1").inner_text() == privacy
            pc.step("privacy")
            pc.page.get_by_role("link", name="이용약관" if lang == "ko" else "Terms of use").click()
            pc.page.wait_for_load_state()
            pc.step("terms")


def test_issuer_links_the_rendered_trust_list(browser: Any, issuer: str, city: City) -> None:
    with checked_page(browser, issuer, "issuer-trust-link", allow_origins=(city.base_url,)) as pc:
        pc.goto("/")
        pc.page.get_by_role("link", name="신뢰 목록 보기").click()
        pc.page.wait_for_url(city.base_url + "/trust")
        assert "서울특별시 일자리정책과" in pc.page.locator("main").inner_text()


@pytest.mark.parametrize("lang", LANGS)
def test_verifier_pages(browser: Any, verifier: str, presentation: dict[str, Any], lang: str) -> None:
    ko = lang == "ko"
    with checked_page(browser, verifier, "verifier", lang=lang) as pc:
        pc.goto("/")
        pc.step("home")
        pc.page.fill("#document", json.dumps(presentation, ensure_ascii=False))
        pc.page.get_by_role("button", name="붙여 넣어 확인하기" if ko else "Paste and check").click()
        pc.page.wait_for_selector(".verdict__line")
        pc.step("paste-verdict")
        pc.goto("/")
        pc.page.fill("#document", "{not json")
        pc.page.get_by_role("button", name="붙여 넣어 확인하기" if ko else "Paste and check").click()
        pc.page.wait_for_selector("#error")
        pc.step("paste-error")
        pc.goto("/scan")
        pc.page.wait_for_function("document.getElementById('scan-status').textContent.length > 0")
        pc.step("scan")
        pc.page.fill("#qr", "https://evil.example/p/abc123")
        pc.page.get_by_role("button", name="확인하기" if ko else "Check", exact=True).click()
        pc.page.wait_for_selector("#error")
        assert pc.page.locator("h1").inner_text() == ("QR 코드 스캔" if ko else "Scan a QR code")
        pc.step("scan-error")
        pc.goto("/")
        pc.page.get_by_role("button", name="요청 QR 만들기" if ko else "Make a request QR").click()
        pc.page.wait_for_selector(".ask-qr img")
        pc.step("ask")


@pytest.mark.parametrize("lang", LANGS)
def test_landing_pages_are_light_on_a_phone(browser: Any, city: City, issuer: str, wallet: str, verifier: str, lang: str) -> None:
    weights = {}
    for name, base in (("registry", city.base_url), ("issuer", issuer), ("wallet", wallet), ("verifier", verifier)):
        with checked_page(browser, base, f"{name}-weight", lang=lang) as pc:
            pc.goto("/")
            weights[name] = pc.transferred()
    print(f"first-visit transferred bytes ({lang}): {weights}")
    assert all(0 < w <= BUDGET[lang] for w in weights.values()), weights


@pytest.mark.parametrize("lang", LANGS)
def test_wallet_pages_before_login(browser: Any, wallet: str, lang: str) -> None:
    with checked_page(browser, wallet, "wallet", lang=lang) as pc:
        for path, label in (("/invite", "invite"), ("/login", "login"), ("/offline", "offline")):
            pc.goto(path)
            pc.step(label)


@pytest.mark.parametrize("lang", LANGS)
def test_issuer_console_login(browser: Any, issuer: str, lang: str) -> None:
    with checked_page(browser, issuer, "issuer-console", lang=lang) as pc:
        pc.goto("/console/login")
        pc.step("login")
