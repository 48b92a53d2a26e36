"""The employer's pages in Chromium: camera scan with a fake video of a QR, certificate PDF upload,
pasted tampered JSON, the request page, on a phone and a desktop (screenshots for a human to look at)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from agents import certificate, verify
from agents.keys import Ed25519KeyPair
from tests.helpers_camera import qr_scene, write_y4m
from tests.helpers_city import City, Issued, start_city
from tests.unit.test_intake import _Published

pytestmark = pytest.mark.browser

WORKER = Ed25519KeyPair.from_seed(b"w" * 32)
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Iterator[City]:
    """A real registry with an accredited department (tests/helpers_city.py)."""
    with start_city(tmp_path_factory.mktemp("city")) as c:
        yield c


@pytest.fixture(scope="module")
def issued(city: City) -> tuple[Issued, Issued]:
    """Two career records of one worker, registered in the log; the second is revoked."""
    dept = city.department("seoul-digital-policy", "서울특별시 디지털정책과", "Digital Policy Division")
    good, revoked = city.issue_career(dept, WORKER), city.issue_career(dept, WORKER)
    city.revoke(revoked)
    return good, revoked


def _present(item: Issued) -> dict[str, Any]:
    return verify.create_presentation([item.vc], WORKER, challenge="certificate", domain="https://wallet.workcred.seoul.go.kr")


@pytest.fixture(scope="module")
def presentation(issued: tuple[Issued, Issued]) -> dict[str, Any]:
    return _present(issued[0])


@pytest.fixture(scope="module")
def receipts(issued: tuple[Issued, Issued]) -> dict[str, Any]:
    return {issued[0].id: issued[0].receipt}


@pytest.fixture(scope="module")
def wallet(presentation: dict[str, Any], receipts: dict[str, Any]) -> Iterator[str]:
    """The holder's publication host (stands in for the wallet's short links) on 127.0.0.1."""
    body = json.dumps({"verifiablePresentation": presentation, "receipts": receipts}).encode()
    server = ThreadingHTTPServer(("127.0.0.1", 0), type("H", (_Published,), {"body": body}))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def verifier(serve: Callable[[Flask], str], wallet: str, city: City, tmp_path: Path) -> Iterator[str]:
    """The verifier app trusting the test city's registry, following QR links to the test wallet only."""
    from verifier.app import create_app

    app = create_app(city.verifier_config(f"sqlite:///{tmp_path / 'verifier.sqlite3'}", trusted_hosts=wallet))
    yield serve(app)
    app.extensions["verifier.follower"].close()
    app.extensions["verifier"].close()


def _verdict(page: Any) -> str:
    return str(page.locator(".verdict__line").inner_text())


def test_camera_scan_of_a_qr_gives_valid(verifier: str, wallet: str, tmp_path: Path, screenshots: Path, launch_browser: Any) -> None:
    video = tmp_path / "qr.y4m"
    write_y4m(video, qr_scene(f"http://{wallet}/p/abc123"))
    browser = launch_browser(["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream", f"--use-file-for-fake-video-capture={video}"])
    try:
        context = browser.new_context(viewport=PHONE)
        context.grant_permissions(["camera"], origin=verifier)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(verifier + "/scan")
        page.wait_for_selector(".verdict__line", timeout=20000)
        assert _verdict(page) == "유효합니다"
        assert page.locator("#verdict").get_attribute("data-verdict") == "valid"
        assert "홍길동" in page.locator(".credential").inner_text()
        page.screenshot(path=str(screenshots / "verifier-scan-verdict-phone.png"), full_page=True)
        assert errors == []
    finally:
        context.close()


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_upload_certificate_pdf_gives_valid(
    browser: Any, verifier: str, presentation: dict[str, Any], receipts: dict[str, Any], tmp_path: Path, screenshots: Path, viewport: dict[str, int],
    axe: Callable[[Any], list[dict[str, Any]]],
) -> None:
    pdf = tmp_path / "경력증명서.pdf"
    pdf.write_bytes(certificate.build_certificate_pdf(presentation, receipts, qr_url="https://wallet.example/p/x"))
    # bypass_csp only so axe-core can be injected; the pages themselves run under the real CSP
    context = browser.new_context(viewport=viewport, bypass_csp=True)
    try:
        page = context.new_page()
        page.goto(verifier + "/")
        assert page.locator("html").get_attribute("lang") == "ko"
        assert axe(page) == []
        page.screenshot(path=str(screenshots / f"verifier-home-{viewport['width']}.png"), full_page=True)
        page.set_input_files("#file", str(pdf))
        page.get_by_role("button", name="올려서 확인하기").click()
        page.wait_for_selector(".verdict__line")
        assert _verdict(page) == "유효합니다"
        checks = page.locator("main").inner_text()
        assert "본인 제출" in checks and "서울시 인증 발급기관" in checks
        items = page.locator(".credential").inner_text()
        assert "시급 12,121원" in items and "2026. 3. 2. ~ 2026. 11. 30." in items
        page.screenshot(path=str(screenshots / f"verifier-verdict-{viewport['width']}.png"), full_page=True)
        assert axe(page) == []
        # and in English
        page.goto(verifier + "/?lang=en")
        page.set_input_files("#file", str(pdf))
        page.get_by_role("button", name="Upload and check").click()
        page.wait_for_selector(".verdict__line")
        assert _verdict(page) == "Valid"
    finally:
        context.close()


def test_paste_tampered_credential_says_tampered(browser: Any, verifier: str, presentation: dict[str, Any], screenshots: Path) -> None:
    vc = json.loads(json.dumps(presentation["verifiableCredential"][0]))
    vc["credentialSubject"]["wage"]["amount"] = 30000  # the worker "improves" the wage
    context = browser.new_context(viewport=PHONE)
    try:
        page = context.new_page()
        page.goto(verifier + "/")
        page.fill("#document", json.dumps(vc, ensure_ascii=False))
        page.get_by_role("button", name="붙여 넣어 확인하기").click()
        page.wait_for_selector(".verdict__line")
        assert "위·변조" in _verdict(page)
        assert page.locator("#verdict").get_attribute("data-verdict") == "tampered"
        assert page.locator(".check--fail").count() >= 1
        page.screenshot(path=str(screenshots / "verifier-tampered-phone.png"), full_page=True)
    finally:
        context.close()


def test_qr_to_another_site_is_refused_with_a_message(browser: Any, verifier: str) -> None:
    context = browser.new_context(viewport=PHONE)
    try:
        page = context.new_page()
        page.goto(verifier + "/scan")
        page.fill("#qr", "https://evil.example/p/abc123")
        page.get_by_role("button", name="확인하기").click()
        alert = page.get_by_role("alert")
        assert "다른 사이트" in alert.inner_text()
        # the employer stays on the scan page, the address kept for correction, the camera off
        assert page.locator("h1").inner_text() == "QR 코드 스캔"
        assert page.input_value("#qr") == "https://evil.example/p/abc123"
        assert page.locator("#qr").get_attribute("aria-invalid") == "true"
        assert page.locator("#camera").count() == 0
        page.get_by_role("link", name="다시 스캔하기").click()
        page.wait_for_selector("#camera", state="attached")
    finally:
        context.close()


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_request_page_shows_qr_and_polls(browser: Any, verifier: str, screenshots: Path, viewport: dict[str, int]) -> None:
    context = browser.new_context(viewport=viewport)
    try:
        page = context.new_page()
        page.goto(verifier + "/")
        page.get_by_role("button", name="요청 QR 만들기").click()
        page.wait_for_selector(".ask-qr img")
        assert "제출을 기다리는 중" in page.locator("#ask-status").inner_text()
        same_device = page.get_by_role("link", name="이 기기의 전자지갑으로 열기").get_attribute("href") or ""
        # the wallet's page for this request, on this machine's wallet (WORKCRED_VERIFIER_WALLET_URL in production)
        assert same_device.startswith("http://127.0.0.1:8702/oid4vp?request=openid4vp%3A%2F%2F")
        with page.expect_response(lambda r: "/status" in r.url, timeout=10000) as polled:
            pass
        assert polled.value.status == 200 and polled.value.json()["status"] == "pending"
        page.screenshot(path=str(screenshots / f"verifier-ask-{viewport['width']}.png"), full_page=True)
    finally:
        context.close()


def test_upload_revoked_certificate_says_revoked(browser: Any, verifier: str, issued: tuple[Issued, Issued], tmp_path: Path) -> None:
    revoked = issued[1]
    pdf = tmp_path / "revoked.pdf"
    pdf.write_bytes(certificate.build_certificate_pdf(_present(revoked), {revoked.id: revoked.receipt}, qr_url="https://wallet.example/p/y"))
    context = browser.new_context(viewport=PHONE)
    try:
        page = context.new_page()
        page.goto(verifier + "/")
        page.set_input_files("#file", str(pdf))
        page.get_by_role("button", name="올려서 확인하기").click()
        page.wait_for_selector(".verdict__line")
        assert _verdict(page) == "폐기된 증명서입니다"
    finally:
        context.close()


@pytest.mark.parametrize(("size", "viewport"), [("phone", PHONE), ("desktop", DESKTOP)])
def test_paste_without_receipt_is_amber_not_forged(browser: Any, verifier: str, presentation: dict[str, Any], screenshots: Path, size: str, viewport: dict[str, int]) -> None:
    """An honest career record pasted without its registry receipt: amber "could not confirm", the reason at
    the top in plain words, the technical part folded; never the red of a forgery."""
    vc = presentation["verifiableCredential"][0]
    context = browser.new_context(viewport=viewport)
    try:
        page = context.new_page()
        page.goto(verifier + "/")
        page.fill("#document", json.dumps(vc, ensure_ascii=False))
        page.get_by_role("button", name="붙여 넣어 확인하기").click()
        page.wait_for_selector(".verdict__line")
        assert _verdict(page) == "서명은 올바르나 등록 여부를 확인하지 못했습니다"
        assert page.locator("#verdict").get_attribute("data-verdict") == "unconfirmed"
        assert page.locator(".verdict--warning").count() == 1 and page.locator(".check--fail").count() == 0
        first = page.locator(".checks").first.locator(".check").first  # what could not be confirmed comes first
        assert first.get_attribute("data-check") == "registry.inclusion"
        assert "PDF" in first.locator(".check__reason").inner_text()
        assert not first.locator(".check__detail p").is_visible()  # folded until asked for
        first.locator(".check__detail summary").click()
        assert first.locator(".check__detail p").is_visible()
        page.screenshot(path=str(screenshots / f"verifier-unconfirmed-{size}.png"), full_page=True)
    finally:
        context.close()
