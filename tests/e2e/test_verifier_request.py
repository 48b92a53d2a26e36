"""The request flow in Chromium: the employer asks for career records (OpenID4VP request QR), a holder
built from agents/oid4vp.py answers with a career record from a real city registry, and the
employer's page turns into the verdict by itself (it polls; nobody reloads or clicks)."""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from agents import oid4vp
from agents.keys import Ed25519KeyPair
from tests.helpers_city import City, Issued, serve, start_city
from verifier.app import create_app

pytestmark = pytest.mark.browser

WORKER = Ed25519KeyPair.from_seed(b"r" * 32)


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Iterator[City]:
    with start_city(tmp_path_factory.mktemp("city")) as c:
        yield c


@pytest.fixture(scope="module")
def career(city: City) -> Issued:
    dept = city.department("seoul-jobs", "서울특별시 일자리정책과", "Job Policy Division")
    return city.issue_career(dept, WORKER)


@pytest.fixture
def verifier_url(city: City, tmp_path: Path) -> Iterator[str]:
    """The verifier served at its own public URL (the holder fetches the request and posts to it)."""
    box: dict[str, Any] = {}
    server, _ = serve(lambda env, sr: box["app"](env, sr))
    base = f"http://127.0.0.1:{server.server_port}"
    box["app"] = create_app(city.verifier_config(f"sqlite:///{tmp_path / 'verifier.sqlite3'}", base_url=base))
    try:
        yield base
    finally:
        server.shutdown()
        server.server_close()
        box["app"].extensions["verifier"].close()


@pytest.mark.parametrize("viewport", [{"width": 390, "height": 844}, {"width": 1280, "height": 800}], ids=["phone", "desktop"])
def test_the_ask_page_turns_into_the_verdict_when_the_holder_answers(
    browser: Any, verifier_url: str, career: Issued, screenshots: Path, viewport: dict[str, int]
) -> None:
    context = browser.new_context(viewport=viewport, locale="ko-KR")
    page = context.new_page()
    try:
        # 1. the employer asks for the last 3 years, for a stated purpose
        page.goto(f"{verifier_url}/?lang=ko")
        page.select_option("#years", "3")
        page.fill("#purpose", "2027년 상반기 채용 서류 확인")
        page.click("form[action='/ask'] button[type=submit]")
        page.wait_for_url(re.compile(r"/ask/[^/]+$"))
        assert "2027년 상반기 채용 서류 확인" in page.inner_text("main")
        assert "제출을 기다리는 중입니다" in page.inner_text("#ask-status")
        ask_url = page.url
        same_device = page.get_attribute("a[href*='/oid4vp?request=']", "href")
        assert same_device is not None  # the wallet's page for the request, which carries the openid4vp:// link
        wallet_link = urllib.parse.parse_qs(urllib.parse.urlsplit(same_device).query)["request"][0]
        assert wallet_link.startswith("openid4vp://")
        name = "phone" if viewport["width"] < 500 else "desktop"
        page.screenshot(path=str(screenshots / f"verifier-request-{name}-waiting.png"), full_page=True)

        # 2. the worker's wallet (agents/oid4vp.py) reads the QR and answers
        navigations: list[str] = []
        page.on("framenavigated", lambda frame: navigations.append(frame.url) if frame == page.main_frame else None)
        with httpx.Client(timeout=20, trust_env=False) as http:
            answer = oid4vp.respond(wallet_link, [career.vc], WORKER, http, receipts={career.id: career.receipt})
        assert answer.status_code == 200, answer.text

        # 3. the employer's page shows the verdict by itself
        page.wait_for_selector("#verdict", timeout=15_000)
        assert page.inner_text(".verdict__line") == "유효합니다"
        assert page.get_attribute("#verdict", "data-verdict") == "valid"
        assert navigations == [ask_url + "/result"]  # one navigation by the page's own script, no reload
        main = page.inner_text("main")
        assert "제출 요청" in main and "홍길동" in main
        assert "요청한 경력" in main and "재사용 방지" in main
        replay = page.locator("[data-check='replay']")
        assert "check--pass" in (replay.get_attribute("class") or "")  # this request's nonce and client id
        page.screenshot(path=str(screenshots / f"verifier-request-{name}-verdict.png"), full_page=True)
    finally:
        context.close()
