"""The issuer and wallet landing pages in a real browser: phone and desktop, Korean text, axe-core."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from holder_wallet.app import create_app as create_wallet
from issuer.app import create_app as create_issuer
from web.config import RoleConfig

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("issuer_data_dir")]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
Axe = Callable[[Any], list[dict[str, Any]]]


def config(role: str) -> RoleConfig:
    return RoleConfig(role, secret_key="e2e", dev=True, extra={"departments": "jobs:일자리정책과|Job Policy Division"})


PAGES: dict[str, tuple[Callable[[RoleConfig], Flask], str, str]] = {
    "issuer": (create_issuer, "서울시 근로계약·경력 증명 발급", "Seoul labor contract and career record issuing"),
    "wallet": (create_wallet, "내 근로계약·경력 전자지갑", "My labor contract and career wallet"),
}


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
@pytest.mark.parametrize("role", list(PAGES))
def test_landing_page(
    browser: Any, serve: Callable[[Flask], str], axe: Axe, screenshots: Path, role: str, viewport: dict[str, int]
) -> None:
    create_app, heading_ko, heading_en = PAGES[role]
    base = serve(create_app(config(role)))
    # bypass_csp only so the test can inject axe-core; the page itself runs under the real CSP
    context = browser.new_context(viewport=viewport, locale="en-US", bypass_csp=True)
    try:
        page = context.new_page()
        errors: list[str] = []
        page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        resp = page.goto(base + "/")
        assert resp is not None and resp.status == 200
        # Korean even though the browser asks for English: Korean is the default
        assert page.locator("html").get_attribute("lang") == "ko"
        assert page.locator("h1").inner_text() == heading_ko
        assert page.locator("main#main").count() == 1
        assert page.locator("header").count() == 1 and page.locator("footer").count() == 1
        # no horizontal scrolling on a phone
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        body_px = float(page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)"))
        assert body_px >= 16
        name = f"{role}-{viewport['width']}x{viewport['height']}"
        page.screenshot(path=str(screenshots / f"{name}-ko.png"), full_page=True)
        # the skip link is the first thing the keyboard reaches, and it is visible then
        page.keyboard.press("Tab")
        focused = page.evaluate("document.activeElement.getAttribute('href')")
        assert focused == "#main"
        assert page.locator(".skip-link a").bounding_box()["y"] >= 0  # type: ignore[index]
        violations = axe(page)
        assert violations == [], violations

        page.get_by_role("link", name="English").click()
        page.wait_for_load_state()
        assert page.locator("html").get_attribute("lang") == "en"
        assert page.locator("h1").inner_text() == heading_en
        page.screenshot(path=str(screenshots / f"{name}-en.png"), full_page=True)
        assert axe(page) == []
        page.goto(base + "/")  # the cookie keeps English
        assert page.locator("html").get_attribute("lang") == "en"
        assert errors == []
    finally:
        context.close()


def test_error_page_is_localised_and_accessible(
    browser: Any, serve: Callable[[Flask], str], axe: Axe, screenshots: Path
) -> None:
    base = serve(create_issuer(config("issuer")))
    context = browser.new_context(viewport=PHONE, bypass_csp=True)
    try:
        page = context.new_page()
        resp = page.goto(base + "/no-such-page")
        assert resp is not None and resp.status == 404
        assert page.locator("h1").inner_text() == "페이지를 찾을 수 없습니다"
        page.screenshot(path=str(screenshots / "issuer-404-ko.png"), full_page=True)
        assert axe(page) == []
    finally:
        context.close()
