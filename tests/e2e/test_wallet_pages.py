"""The wallet in Chromium at phone and PC sizes, against a real city registry and the real verifier:
passkey registration and login with the virtual authenticator (a replayed or tampered assertion is
refused), logout leaving nothing behind, a QR link the employer's verifier follows (and that stops
working once withdrawn), and an employer's OpenID4VP request answered from the verifier's
"open in this device's wallet" button, the verifier's page turning valid."""

from __future__ import annotations

import json
import re
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from holder_wallet.store import Account
from tests.helpers_camera import qr_scene, write_y4m
from tests.helpers_city import City, Department, Issued, serve, start_city
from tests.helpers_wallet import Wallet, wallet_server
from verifier.app import create_app as create_verifier

pytestmark = pytest.mark.browser
VIEWPORTS = [{"width": 390, "height": 844}, {"width": 1280, "height": 800}]


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Iterator[City]:
    with start_city(tmp_path_factory.mktemp("city")) as c:
        yield c


@pytest.fixture(scope="module")
def dept(city: City) -> Department:
    return city.department("seoul-jobs", "서울특별시 일자리정책과", "Job Policy Division")


@pytest.fixture
def wallet(city: City, tmp_path: Path) -> Iterator[Wallet]:
    with wallet_server(tmp_path, city) as w:
        yield w


@pytest.fixture
def verifier_url(city: City, wallet: Wallet, tmp_path: Path) -> Iterator[str]:
    box: dict[str, Any] = {}
    server, _ = serve(lambda env, sr: box["app"](env, sr))
    base = f"http://127.0.0.1:{server.server_port}"
    host = urllib.parse.urlsplit(wallet.url).netloc
    box["app"] = create_verifier(city.verifier_config(f"sqlite:///{tmp_path / 'verifier.sqlite3'}", base_url=base,
                                                      trusted_hosts=host, wallet_url=wallet.url))  # fmt: skip
    try:
        yield base
    finally:
        server.shutdown()
        server.server_close()
        box["app"].extensions["verifier.follower"].close()
        box["app"].extensions["verifier"].close()


def _worker(wallet: Wallet, city: City, dept: Department) -> tuple[Account, Issued, Issued]:
    account = wallet.store.create_account(name="홍길동", birth_date="1998-04-12")
    key = wallet.store.key(account.id)
    contract = city.issue_contract(dept, key)
    career = city.issue_career(dept, key, end_date="2026-11-30")
    wallet.store.put_credential(account.id, contract.vc, receipt=contract.receipt)
    wallet.store.put_credential(account.id, career.vc, receipt=career.receipt, status="completed")
    return account, contract, career


def _post(page: Any, path: str, body: Any) -> int:
    """A same-origin JSON POST from the page with its CSRF token (what passkeys.js does)."""
    return int(page.evaluate(
        """async ([path, body]) => {
            const token = document.querySelector("input[name=csrf_token]").value;
            const r = await fetch(path, {method: "POST", credentials: "same-origin", body: JSON.stringify(body),
                headers: {"Content-Type": "application/json", "X-CSRF-Token": token, "Accept": "application/json"}});
            return r.status;
        }""", [path, body]))  # fmt: skip


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=["phone", "pc"])
def test_passkey_login_logout_and_refused_assertions(
    browser: Any, wallet: Wallet, city: City, dept: Department, screenshots: Path, viewport: dict[str, int]
) -> None:
    account, _, _ = _worker(wallet, city, dept)
    name = "phone" if viewport["width"] < 500 else "pc"
    context = browser.new_context(viewport=viewport, locale="ko-KR")
    try:
        page, _, _ = wallet.enrol(context, account.id)
        main = page.inner_text("main")
        assert "홍길동 님의 전자지갑" in main and "근로계약서" in main and "경력 기록" in main
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
        page.screenshot(path=str(screenshots / f"wallet-home-{name}.png"), full_page=True)
        assert len(wallet.store.passkeys(account.id)) == 1

        # logout: the session goes, and with it the service worker's copies and any storage
        page.goto(wallet.url + "/")
        page.wait_for_function("navigator.serviceWorker && navigator.serviceWorker.controller !== null", timeout=15_000)
        page.goto(wallet.url + "/")  # now through the service worker, which keeps a copy for offline reading
        assert "wallet-personal" in page.evaluate("caches.keys()")
        page.click(".wallet-nav__logout button")
        page.wait_for_selector("text=로그아웃했습니다")
        assert "wallet-personal" not in page.evaluate("caches.keys()")
        assert page.evaluate("localStorage.length + sessionStorage.length") == 0
        page.goto(wallet.url + "/present")
        assert "/login" in page.url
        page.screenshot(path=str(screenshots / f"wallet-login-{name}.png"), full_page=True)

        # log in again with the passkey; keep the assertion the browser sent
        sent: list[dict[str, Any]] = []
        page.on("request", lambda r: sent.append(json.loads(r.post_data or "{}")) if "/login/verify" in r.url else None)
        page.click("form[data-passkey=login] button[type=submit]")
        page.wait_for_url(wallet.url + "/present")
        assert sent and "credential" in sent[0]

        # replayed: a fresh challenge is pending, the old assertion answers another one
        page.goto(wallet.url + "/login")  # signed in: goes home, where the forms carry the CSRF token
        assert _post(page, "/login/options", {}) == 200
        assert _post(page, "/login/verify", sent[0]) == 400
        # tampered: a signature that is not the authenticator's
        forged = json.loads(json.dumps(sent[0]))
        sig = forged["credential"]["response"]["signature"]
        forged["credential"]["response"]["signature"] = ("A" if sig[0] != "A" else "B") + sig[1:]
        assert _post(page, "/login/options", {}) == 200
        assert _post(page, "/login/verify", forged) == 400
        # and with no pending challenge at all
        assert _post(page, "/login/verify", sent[0]) == 400
    finally:
        context.close()


def test_logout_answer_clears_the_site_data(wallet: Wallet) -> None:
    """What a browser without the service worker relies on: the logout answer itself."""
    account = wallet.store.create_account(name="홍길동", birth_date="1998-04-12")
    client = wallet.app.test_client()
    with client.session_transaction() as s:
        s["wid"], s["_csrf"] = account.id, "token"
    resp = client.post("/logout", data={"csrf_token": "token"})
    assert resp.status_code == 200 and resp.headers["Clear-Site-Data"] == '"cache", "storage"'
    assert resp.headers["Cache-Control"] == "no-store"
    assert client.get("/present").status_code == 302  # signed out
    with client.session_transaction() as s:
        assert "wid" not in s


def test_qr_link_followed_by_the_verifier_then_withdrawn(
    browser: Any, wallet: Wallet, verifier_url: str, city: City, dept: Department, screenshots: Path
) -> None:
    account, contract, career = _worker(wallet, city, dept)
    context = browser.new_context(viewport=VIEWPORTS[0], locale="ko-KR")
    try:
        page, _, _ = wallet.enrol(context, account.id)
        page.goto(wallet.url + "/present")
        page.check(f"input[name=credential][value='{career.id}']")
        page.select_option("#minutes", "10")
        page.click("form[action='/present'] button[type=submit]")
        page.wait_for_url(re.compile(r"/present/[^/]+$"))
        link = page.inner_text(".link-text code")
        assert link.startswith(wallet.url + "/p/")
        page.screenshot(path=str(screenshots / "wallet-qr-phone.png"), full_page=True)

        # the employer scans it (the verifier's scan form takes what the camera read)
        employer = context.new_page()
        employer.goto(verifier_url + "/scan?lang=ko")
        employer.fill("#qr", link)
        employer.click("form[action='/scan'] button[type=submit]")
        employer.wait_for_selector(".verdict__line")
        assert employer.inner_text(".verdict__line") == "유효합니다", employer.inner_text("main")

        # withdrawn: the link answers 404 and the verifier says so
        page.goto(wallet.url + "/shares")
        assert "QR" in page.inner_text("main")
        page.click("form[action*='/withdraw'] button[type=submit]")
        assert httpx.get(link, timeout=10, trust_env=False).status_code == 404
        assert "회수함" in page.inner_text("main")
    finally:
        context.close()


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=["phone", "pc"])
def test_openid4vp_request_answered_from_the_same_device(
    browser: Any, wallet: Wallet, verifier_url: str, city: City, dept: Department, screenshots: Path,
    viewport: dict[str, int],
) -> None:  # fmt: skip
    account, contract, career = _worker(wallet, city, dept)
    name = "phone" if viewport["width"] < 500 else "pc"
    context = browser.new_context(viewport=viewport, locale="ko-KR")
    try:
        page, _, _ = wallet.enrol(context, account.id)
        # the employer's request, on the same device
        page.goto(f"{verifier_url}/?lang=ko")
        page.select_option("#years", "3")
        page.fill("#purpose", "2027년 채용 서류 확인")
        page.click("form[action='/ask'] button[type=submit]")
        page.wait_for_url(re.compile(r"/ask/[^/]+$"))
        ask_url = page.url
        page.get_by_role("link", name="이 기기의 전자지갑으로 열기").click()
        page.wait_for_url(re.compile(re.escape(wallet.url) + r"/oid4vp\?request="))
        main = page.inner_text("main")
        assert "127.0.0.1" in main and "이후에 끝난 경력만" in main  # who asks, and for what
        assert "홍길동" not in main  # the items are folded until the worker opens them
        page.click("details.more summary")
        assert "홍길동" in page.inner_text("main")
        page.screenshot(path=str(screenshots / f"wallet-consent-{name}.png"), full_page=True)
        page.click("form[action='/oid4vp/answer'] button[type=submit]")
        page.wait_for_selector("text=보냈습니다")

        page.goto(ask_url)
        page.wait_for_selector("#verdict", timeout=15_000)
        assert page.get_attribute("#verdict", "data-verdict") == "valid"
        page.goto(wallet.url + "/shares")
        history = page.inner_text("main")
        assert "요청에 응답" in history and "보냄" in history and "127.0.0.1" in history
        page.screenshot(path=str(screenshots / f"wallet-shares-{name}.png"), full_page=True)
    finally:
        context.close()


def test_refusing_a_request_sends_nothing(browser: Any, wallet: Wallet, verifier_url: str, city: City, dept: Department) -> None:
    account, _, _ = _worker(wallet, city, dept)
    context = browser.new_context(viewport=VIEWPORTS[0], locale="ko-KR")
    try:
        page, _, _ = wallet.enrol(context, account.id)
        page.goto(f"{verifier_url}/?lang=ko")
        page.click("form[action='/ask'] button[type=submit]")
        page.wait_for_url(re.compile(r"/ask/[^/]+$"))
        status_url = page.get_attribute("#ask-status", "data-status-url")
        page.get_by_role("link", name="이 기기의 전자지갑으로 열기").click()
        page.wait_for_url(re.compile(r"/oid4vp\?request="))
        page.click("form[action='/oid4vp/refuse'] button[type=submit]")
        page.wait_for_url(wallet.url + "/shares")
        assert "거절함" in page.inner_text("main")
        assert httpx.get(verifier_url + str(status_url), timeout=10, trust_env=False).json()["status"] == "pending"
    finally:
        context.close()


def test_camera_scan_of_the_employers_request(
    launch_browser: Any, wallet: Wallet, verifier_url: str, city: City, dept: Department, tmp_path: Path, screenshots: Path
) -> None:
    """The phone's camera inside the wallet reads the request QR on the employer's screen (Chromium's
    fake camera plays it); the worker confirms and the verifier's request is answered, valid."""
    account, _, career = _worker(wallet, city, dept)
    made = httpx.post(verifier_url + "/requests", json={"years": 3}, timeout=10, trust_env=False).json()
    video = tmp_path / "request.y4m"
    write_y4m(video, qr_scene(made["authorizationRequest"]))
    browser = launch_browser(["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
                              f"--use-file-for-fake-video-capture={video}"])  # fmt: skip
    context = browser.new_context(viewport=VIEWPORTS[0], locale="ko-KR")
    try:
        context.grant_permissions(["camera"], origin=wallet.url)
        page, _, _ = wallet.enrol(context, account.id)
        page.goto(wallet.url + "/oid4vp")
        page.wait_for_url(re.compile(r"/oid4vp\?request=openid4vp"), timeout=20_000)
        page.screenshot(path=str(screenshots / "wallet-scanned-consent-phone.png"), full_page=True)
        page.click("form[action='/oid4vp/answer'] button[type=submit]")
        page.wait_for_selector("text=보냈습니다")
        status = httpx.get(verifier_url + made["statusUrl"] if made["statusUrl"].startswith("/") else made["statusUrl"],
                           timeout=10, trust_env=False).json()  # fmt: skip
        assert status["status"] == "answered" and status.get("verdict") == "valid", status
    finally:
        context.close()
