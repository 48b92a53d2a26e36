"""The wallet's career view, career certificate and offline app in Chromium, against a real registry
(tests/helpers_city.py) and the real verifier: totals and filters, a certificate published behind a
short link, its PDF (text, render, QR, attachments checked by the verifier), withdrawal (404), and the
service worker (pages open offline after a first visit; logout forgets them)."""

from __future__ import annotations

import copy
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Error as PlaywrightError

import schemas
from agents import certificate, dataintegrity
from tests.helpers_city import City, Department, serve, start_city
from tests.helpers_wallet import Wallet, wallet_server
from verifier.app import create_app as create_verifier

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Iterator[City]:
    with start_city(tmp_path_factory.mktemp("city")) as c:
        yield c


@pytest.fixture(scope="module")
def dept(city: City) -> Department:
    return city.department("seoul-data-policy", "서울특별시 디지털정책과", "Digital Policy Division")


def _issue(city: City, dept: Department, example: str, holder: str, **subject: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """A credential of the department about `holder`, logged in the registry; with its receipt."""
    vc = copy.deepcopy(schemas.example(example))
    vc["id"] = f"urn:uuid:{uuid.uuid4()}"
    vc["issuer"] = dept.did
    vc["validFrom"] = dataintegrity.now_iso(city.now - timedelta(days=1))
    vc.pop("credentialStatus", None)
    vc["credentialSubject"].update(subject, id=holder)
    vc["credentialSubject"]["employer"]["id"] = dept.did
    signed = dataintegrity.sign(vc, dept.signer(city), at=city.now)
    return signed, city.register(signed)


@dataclass
class Worker:
    wallet: Wallet
    wid: str
    certificate: dict[str, Any]
    cookie: dict[str, Any]


def _seed(wallet: Wallet, city: City, dept: Department) -> Worker:
    """Two projects (career records), a contract still running and a certificate, all in the registry."""
    account = wallet.store.create_account(name="홍길동", birth_date="1998-04-12")
    wid, did = account.id, account.did
    periods = [("2025-03-03", "2025-06-30", "2025 청년 일자리", "행정 보조"), ("2026-03-02", "2026-11-30", "2026 서울 데이터 서포터즈", None)]
    for start, end, project, duties in periods:
        extra = {"duties": duties} if duties else {}
        record, receipt = _issue(city, dept, "career-record", did, employmentPeriod={"startDate": start, "endDate": end},
                                 project={"id": f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, project)}", "name": project}, **extra)  # fmt: skip
        wallet.store.put_credential(wid, record, receipt=receipt, status="completed")
    running, receipt = _issue(city, dept, "labor-contract-part-time", did, contractPeriod={"startDate": "2026-12-01", "endDate": "2027-12-31"})
    wallet.store.put_credential(wid, running, receipt=receipt)
    cert, receipt = _issue(city, dept, "career-certificate", did)
    wallet.store.put_credential(wid, cert, receipt=receipt)
    return Worker(wallet, wid, cert, wallet.session_cookie({"wid": wid}))


@pytest.fixture(scope="module")
def worker(city: City, dept: Department, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Worker]:
    with wallet_server(tmp_path_factory.mktemp("wallet"), city) as wallet:
        yield _seed(wallet, city, dept)


@pytest.fixture(scope="module")
def verifier(city: City, worker: Worker, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    host = worker.wallet.url.removeprefix("http://")
    app = create_verifier(city.verifier_config(f"sqlite:///{tmp_path_factory.mktemp('verifier') / 'v.sqlite3'}", trusted_hosts=host))
    server, _thread = serve(app)
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    app.extensions["verifier.follower"].close()
    app.extensions["verifier"].close()


def _signed_in(browser: Any, worker: Worker, viewport: dict[str, int]) -> Any:
    context = browser.new_context(viewport=viewport, accept_downloads=True, bypass_csp=True)  # bypass only for axe-core
    context.add_cookies([worker.cookie])
    return context


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_career_view_totals_filters_in_both_languages(browser: Any, worker: Worker, screenshots: Path, viewport: dict[str, int], axe: Any) -> None:
    wallet = worker.wallet
    context = _signed_in(browser, worker, viewport)
    try:
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(wallet.url + "/career")
        assert page.locator("html").get_attribute("lang") == "ko"
        main = page.locator("main").inner_text()
        assert "경력 관리" in main and "2026 서울 데이터 서포터즈" in main and "2025 청년 일자리" in main
        assert "근무 중" in main  # the running contract, counted up to today
        assert page.locator(".timeline__item").count() == 3
        assert axe(page) == []
        page.screenshot(path=str(screenshots / f"wallet-career-ko-{viewport['width']}.png"), full_page=True)
        # one year: only 2025's work
        page.select_option("#year", "2025")
        page.get_by_role("button", name="보기").click()
        page.wait_for_url("**year=2025**")
        assert page.locator(".timeline__item").count() == 1
        assert page.locator(".career-total__value").inner_text() == "3개월 28일"  # 3 Mar .. 30 Jun 2025
        assert "근무일 120일" in page.locator(".career-total").inner_text()
        page.goto(wallet.url + "/career?lang=en")
        assert page.locator("html").get_attribute("lang") == "en"
        assert "My career" in page.locator("h1").inner_text() and "Working now" in page.locator("main").inner_text()
        assert axe(page) == []
        page.screenshot(path=str(screenshots / f"wallet-career-en-{viewport['width']}.png"), full_page=True)
        assert errors == []
    finally:
        context.close()


def test_a_bad_year_is_a_clear_400(worker: Worker) -> None:
    wallet = worker.wallet
    client = wallet.app.test_client()
    client.set_cookie(worker.cookie["name"], worker.cookie["value"], domain="localhost")
    resp = client.get("/career?year=abc", base_url=wallet.url)
    assert resp.status_code == 400 and "연도가 올바르지 않습니다" in resp.get_data(as_text=True)
    assert client.get("/career/certificates/nope.pdf", base_url=wallet.url).status_code == 404


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils (pdftoppm) is not installed")
def test_certificate_pdf_published_verified_and_withdrawn(browser: Any, worker: Worker, verifier: str, screenshots: Path, tmp_path: Path, axe: Any) -> None:
    import zxingcpp
    from PIL import Image

    wallet = worker.wallet
    context = _signed_in(browser, worker, PHONE)
    try:
        page = context.new_page()
        page.goto(wallet.url + "/career/certificate")
        assert "증명서에 보일 항목" in page.locator("main").inner_text()
        assert page.locator("input[name=item][value=wage]").is_checked() is False  # wage only when asked for
        assert axe(page) == []
        page.screenshot(path=str(screenshots / "wallet-certificate-form-ko-390.png"), full_page=True)
        page.get_by_role("button", name="새 QR 링크로 PDF 만들기").click()
        page.wait_for_url("**/career/certificates/**")
        assert "경력증명서가 준비되었습니다" in page.locator("h1").inner_text()
        assert "공공데이터 품질 점검" in page.locator(".items").inner_text()
        assert axe(page) == []
        page.screenshot(path=str(screenshots / "wallet-certificate-ko-390.png"), full_page=True)
        link_url = page.locator(".link-text code").inner_text()
        assert link_url.startswith(wallet.url + "/p/")
        with page.expect_download() as got:
            page.get_by_role("link", name="PDF 내려받기 (한국어)").click()
        pdf_path = tmp_path / "certificate.pdf"
        got.value.save_as(pdf_path)
        pdf = pdf_path.read_bytes()

        # the attachments: the published presentation of this certificate, with refreshed receipts
        vp, receipts = certificate.extract_from_pdf(pdf)
        assert [vc["id"] for vc in vp["verifiableCredential"]] == [worker.certificate["id"]]
        assert set(receipts) == {worker.certificate["id"]}
        assert httpx.get(link_url).json()["verifiablePresentation"] == vp
        # the page: Korean text, rendered, its QR is the link
        text = subprocess.run(["pdftotext", str(pdf_path), "-"], capture_output=True, text=True, check=True, timeout=60).stdout
        assert "경력증명서" in text and "홍길동" in text and link_url in text
        subprocess.run(["pdftoppm", "-png", "-r", "110", str(pdf_path), str(tmp_path / "page")], check=True, timeout=60)
        png = next(tmp_path.glob("page*.png"))
        shutil.copy(png, screenshots / "wallet-certificate-pdf-ko.png")
        assert [b.text for b in zxingcpp.read_barcodes(Image.open(png))] == [link_url]

        # the employer uploads it to the verifier: valid
        vpage = context.new_page()
        vpage.goto(verifier + "/")
        vpage.set_input_files("#file", str(pdf_path))
        vpage.get_by_role("button", name="올려서 확인하기").click()
        vpage.wait_for_selector(".verdict__line")
        assert vpage.locator(".verdict__line").inner_text() == "유효합니다"

        # the worker withdraws the link: it answers 404, the PDF page is gone
        page.get_by_role("button", name="지금 회수하기").click()
        page.wait_for_url("**/shares")
        assert httpx.get(link_url).status_code == 404
        assert page.request.get(page.url.replace("/shares", "") + "/career/certificates/" + link_url.rsplit("/", 1)[1] + ".pdf").status == 404
    finally:
        context.close()


def test_pages_open_offline_after_a_visit_and_logout_forgets_them(browser: Any, worker: Worker, screenshots: Path) -> None:
    wallet = worker.wallet
    context = _signed_in(browser, worker, PHONE)
    try:
        page = context.new_page()
        page.goto(wallet.url + "/career")
        assert page.evaluate("async () => { await navigator.serviceWorker.ready; return true; }")
        page.reload()  # now under the service worker: this visit is kept
        page.wait_for_function("navigator.serviceWorker.controller !== null")
        manifest = httpx.get(wallet.url + "/manifest.webmanifest").json()
        assert manifest["display"] == "standalone" and {i["sizes"] for i in manifest["icons"]} == {"192x192", "512x512"}
        for icon in manifest["icons"]:
            assert httpx.get(wallet.url + icon["src"]).headers["content-type"] == "image/png"
        context.set_offline(True)
        page.reload()
        assert "경력 관리" in page.locator("h1").inner_text() and page.locator(".timeline__item").count() == 3
        # the shell came from the service worker too: images drawn, the fonts there
        assert page.evaluate("[...document.images].every(i => i.complete && i.naturalWidth > 0)")
        assert page.evaluate("""async () => (await fetch("/assets/fonts/pretendard-gov-400-common.woff2")).ok""")
        page.screenshot(path=str(screenshots / "wallet-career-offline-390.png"), full_page=True)
        page.goto(wallet.url + "/account")  # never opened on this device: the offline page, nothing personal
        assert "인터넷에 연결되어 있지 않습니다" in page.locator("h1").inner_text()
        context.set_offline(False)
        page.goto(wallet.url + "/career")
        assert "wallet-personal" in page.evaluate("caches.keys()")
        page.get_by_role("button", name="로그아웃").click()
        page.wait_for_selector("#signed-out", state="attached")
        page.wait_for_function("caches.keys().then(k => !k.includes('wallet-personal'))")
        context.set_offline(True)
        try:  # the service worker answers with the offline page, or is gone with the site's data
            page.goto(wallet.url + "/career")
        except PlaywrightError:
            pass
        page.wait_for_load_state()
        assert "2026 서울 데이터 서포터즈" not in _settled_content(page)
    finally:
        context.close()


def _settled_content(page: Any) -> str:
    """The page's HTML once it stops navigating (Chromium's offline error page replaces it once)."""
    for _ in range(20):
        try:
            return str(page.content())
        except PlaywrightError:
            page.wait_for_timeout(250)
    return str(page.content())


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_certificate_pages_in_english(browser: Any, worker: Worker, screenshots: Path, viewport: dict[str, int], axe: Any) -> None:
    wallet = worker.wallet
    context = _signed_in(browser, worker, viewport)
    try:
        page = context.new_page()
        page.goto(wallet.url + "/career/certificate?lang=en")
        assert page.locator("html").get_attribute("lang") == "en"
        assert "Items on the certificate" in page.locator("main").inner_text()
        assert axe(page) == []
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
        page.screenshot(path=str(screenshots / f"wallet-certificate-form-en-{viewport['width']}.png"), full_page=True)
        page.get_by_role("button", name="PDF with a new QR link").click()
        page.wait_for_url("**/career/certificates/**")
        assert "Your career certificate is ready" in page.locator("h1").inner_text()
        assert axe(page) == []
        page.screenshot(path=str(screenshots / f"wallet-certificate-en-{viewport['width']}.png"), full_page=True)
        page.goto(wallet.url + "/offline?lang=en")
        assert "You are offline" in page.locator("h1").inner_text()
        page.screenshot(path=str(screenshots / f"wallet-offline-en-{viewport['width']}.png"), full_page=True)
    finally:
        context.close()
