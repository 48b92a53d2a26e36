"""The whole journey in Chromium, every role served for real over HTTP, in Korean and in English.

A clerk (the development admin) signs in with a passkey, creates a part-time project, imports a
20-row CP949 roster, sees its one bad row, uploads the corrected file and sends the offers; the
worker, on a phone, opens the invitation from the development outbox, passes the identity check,
registers a passkey, reads and signs; the clerk countersigns; the worker sees the contract active;
the clerk completes the project; the worker sees the career timeline and downloads a certificate PDF;
the employer checks it (upload, camera, request QR) and follows revocation, suspension and
reinstatement. Every page goes through tests/helpers_pages.py (axe, console, requests, tap targets,
sideways scroll) and is photographed at 390x844 and 1280x800 into $WORKCRED_SCREENSHOTS.

One set of servers (registry, issuer, wallet, verifier) serves both languages; each language has its
own admin, project and roster, so the runs do not meet.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from agents import certificate
from issuer.app import create_app as create_issuer
from issuer.console import ADMIN, Accounts
from issuer.service import SYSTEM, IssuerService
from tests.helpers_camera import qr_scene, write_y4m
from tests.helpers_city import City, Department, serve, start_city
from tests.helpers_issuer import issuer_service
from tests.helpers_pages import DESKTOP, CheckedPage, checked_page, screenshots_dir
from tests.helpers_passkeys import virtual_authenticator
from tests.helpers_wallet import Wallet, wallet_server
from verifier.app import create_app as create_verifier
from web.config import RoleConfig
from web.factory import close_app

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery staple"
FAMILY = "김이박최정강조윤장임한오서신권황안송류전"
GIVEN = ["서연", "민준", "하은", "도윤", "지우", "서준", "수아", "예준", "지호", "하린"]


def texts(role: str, lang: str) -> dict[str, str]:
    """A role's own message catalogue: the test clicks what the user reads, in either language."""
    return json.loads((ROOT / role / "i18n" / f"{lang}.json").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


@dataclass
class Servers:
    city: City
    issuer: IssuerService
    issuer_url: str
    wallet: Wallet
    verifier_url: str
    dept_id: int


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    tmp = tmp_path_factory.mktemp("journey")
    with start_city(tmp) as city:
        box: dict[str, Any] = {}
        issuer_server, _ = serve(lambda env, sr: box["issuer"](env, sr))
        issuer_url = f"http://localhost:{issuer_server.server_port}"  # passkeys need a host name
        verifier_server, _ = serve(lambda env, sr: box["verifier"](env, sr))
        verifier_url = f"http://127.0.0.1:{verifier_server.server_port}"
        with wallet_server(tmp, city, issuer_url=issuer_url) as wallet, \
                issuer_service(city, f"sqlite:///{tmp / 'issuer.sqlite3'}", wallet_url=wallet.url,
                               clock=lambda: datetime.now(UTC)) as svc:  # fmt: skip  (a real clock: the wallet's proofs carry real times)
            config = RoleConfig("issuer", base_url=issuer_url, secret_key="journey", dev=True, extra={"background": "1"})
            box["issuer"] = create_issuer(config, service=svc)
            box["issuer"].extensions["workcred.console"].password_only = False  # as in production
            dept = svc.create_department("seoul-jobs", "서울특별시 일자리정책과", "Job Policy Division",
                                         representative="김예시 (일자리정책과장)", business_number="123-45-67890",
                                         address="서울특별시 중구 세종대로 110", phone="02-120")  # fmt: skip
            city.accredit(Department(dept.slug, dept.did, dept.name_ko, dept.name_en))
            host = wallet.url.removeprefix("http://")
            box["verifier"] = create_verifier(city.verifier_config(f"sqlite:///{tmp / 'verifier.sqlite3'}", base_url=verifier_url,
                                                                   trusted_hosts=host, wallet_url=wallet.url))  # fmt: skip
            try:
                yield Servers(city, svc, issuer_url, wallet, verifier_url, dept.id)
            finally:
                close_app(box["issuer"])  # its background round stops before the service closes
                box["verifier"].extensions["verifier"].close()
                verifier_server.shutdown()
                verifier_server.server_close()
        issuer_server.shutdown()
        issuer_server.server_close()


def roster_csv(path: Path, rows: list[tuple[str, str, str]], bad: int | None) -> Path:
    """The roster as the department keeps it: CP949, CRLF, Korean headers; row `bad` has an impossible birth date."""
    lines = ["성명,생년월일,주소,연락처,근무장소,업무내용,이메일"]
    for i, (name, birth, phone) in enumerate(rows):
        lines.append(f"{name},{'1993-13-40' if i == bad else birth},서울시 종로구 {i + 1},{phone},서울시청,자료 정리,")
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp949"))
    return path


def people(lang: str) -> list[tuple[str, str, str]]:
    year = 1990 if lang == "ko" else 1980  # each language its own workers
    return [(FAMILY[i] + GIVEN[i % 10], f"{year + i % 10}-0{1 + i % 9}-1{i % 10}", f"010-{4000 + i:04d}-{5000 + i:04d}")
            for i in range(20)]  # fmt: skip


def _submit(page: Any, action: str) -> None:
    """Press the submit button of the form posting to `action` (a path), and wait for the answer."""
    with page.expect_navigation():
        page.locator(f"form[action$='{action}'] button[type=submit]").first.click()
    page.wait_for_load_state()


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_journey(browser: Any, launch_browser: Any, servers: Servers, lang: str, tmp_path: Path) -> None:
    Accounts(servers.issuer).create_staff(f"admin.{lang}", "관리자", ADMIN, password=PASSWORD, actor=SYSTEM)
    with checked_page(browser, servers.issuer_url, "journey-clerk", lang=lang, viewport=DESKTOP) as clerk:
        _journey(servers, browser, launch_browser, clerk, lang, tmp_path)


def _journey(s: Servers, browser: Any, launch_browser: Any, clerk: CheckedPage, lang: str, tmp_path: Path) -> None:
    it = texts("issuer", lang)
    admin_login = f"admin.{lang}"
    workers = people(lang)
    worker = workers[3]
    # --- 1. the clerk: passkey, project, roster (one bad row, corrected), offers -------------------
    page = clerk.page
    virtual_authenticator(page)
    clerk.goto("/console/login")
    clerk.step("01-login")
    page.fill("#login", admin_login)
    page.fill("#password", PASSWORD)
    _submit(page, "/console/login")
    assert page.url.split("?")[0].endswith("/console/passkeys"), page.url
    clerk.step("02-passkey")
    with page.expect_navigation(url="**/console/**"):
        page.locator("form[data-passkey] button[type=submit]").first.click()
    page.wait_for_load_state()
    assert "/console/passkeys" not in page.url

    clerk.goto("/console/projects/new")
    page.select_option("#department_id", str(s.dept_id))
    page.fill("#p-name", f"2026 데이터 서포터즈 {lang}")
    page.fill("#p-start_date", "2026-03-02")
    page.fill("#p-end_date", "2026-11-30")
    page.fill("#p-budget_line", "일자리-2026-01")
    page.fill("#p-workplaces", "서울시청 서소문청사 7층")
    page.fill("#p-position", "데이터 서포터즈 (단시간)")
    page.select_option("#p-template_variant", "part-time")
    clerk.step("03-new-project")
    _submit(page, "/console/projects/new")
    project_id = int(re.search(r"/console/projects/(\d+)", page.url).group(1))  # type: ignore[union-attr]
    clerk.step("04-project")
    # the part-time template: the project's duties and wage (what every contract of it says)
    page.fill("#d-duties", "공공데이터 품질 점검 및 시민 데이터 활용 교육 보조")
    page.fill("#d-wage-amount", "12121")
    _submit(page, f"/console/projects/{project_id}")
    assert "saved=1" in page.url, page.locator("main").inner_text()[:1500]
    clerk.step("04-template-saved")

    clerk.goto(f"/console/projects/{project_id}/roster/")
    page.set_input_files("#roster-file", str(roster_csv(tmp_path / "roster.csv", workers, bad=7)))
    page.get_by_role("button", name=it["console.roster.check"]).click()
    page.wait_for_load_state()
    report = page.locator("main").inner_text()
    assert it["console.roster.confirm"].format(n=19) in report, report[:2000]
    assert "1993-13-40" in report or "9" in report
    clerk.step("05-roster-one-bad-row")
    page.get_by_role("link", name=it["console.roster.again"]).click()
    page.wait_for_load_state()
    page.set_input_files("#roster-file", str(roster_csv(tmp_path / "roster-fixed.csv", workers, bad=None)))
    page.get_by_role("button", name=it["console.roster.check"]).click()
    page.wait_for_load_state()
    clerk.step("06-roster-fixed")
    page.get_by_role("button", name=it["console.roster.confirm"].format(n=20)).click()
    page.wait_for_load_state()
    clerk.step("07-roster-imported")

    clerk.goto(f"/console/contracts?project={project_id}")
    _submit(page, f"/projects/{project_id}/draft")
    clerk.goto(f"/console/contracts?project={project_id}")
    clerk.step("08-drafts")
    _submit(page, f"/projects/{project_id}/jobs/offer-all")
    page.wait_for_function("document.querySelector('main').innerText.includes('20')", timeout=30_000)
    _wait_job(s, project_id)
    clerk.step("09-offers-sent")

    clerk.goto("/console/outbox")
    clerk.step("10-outbox")
    outbox = page.locator("main").inner_text()
    link = re.search(r"(" + re.escape(s.wallet.url) + r"/invite/\S+)", _message_for(outbox, worker[2]))
    assert link, outbox[:1500]
    invitation = link.group(1)

    # --- 2. the worker on a phone: identity check, passkey, read and sign --------------------------
    with checked_page(browser, s.wallet.url, "journey-worker", lang=lang, has_touch=True, is_mobile=True,
                      accept_downloads=True) as wallet:  # fmt: skip
        wp = wallet.page
        virtual_authenticator(wp)
        wp.goto(invitation + f"?lang={lang}")
        wallet.step("11-invitation")
        wp.fill("#name", worker[0])
        wp.fill("#birthDate", worker[1])
        _submit(wp, "/invite/identify")
        wallet.step("12-code")
        clerk.goto("/console/outbox")
        code = re.search(r"\b(\d{6})\b", _message_for(clerk.page.locator("main").inner_text(), worker[2]))
        assert code
        wp.fill("#code", code.group(1))
        _submit(wp, "/invite/code")
        wallet.step("13-passkey")
        wp.click("form[data-passkey=register] button[type=submit]")
        wp.wait_for_url(re.compile(r"/\?welcome=1"))
        wallet.step("14-home")
        wp.locator("a[href*='/contracts/']").first.click()
        wp.wait_for_url(re.compile(r"/contracts/"))
        wallet.step("15-contract")
        wp.click("form[data-passkey=sign] button[type=submit]")
        wp.wait_for_url(re.compile(r"/\?signed=1"))
        wallet.step("16-signed")

        # --- 3. the clerk countersigns; the worker sees the contract active ------------------------
        clerk.goto(f"/console/contracts?project={project_id}")
        _submit(clerk.page, f"/projects/{project_id}/jobs/countersign-all")
        _wait_job(s, project_id)
        clerk.step("17-countersigned")
        s.city.checkpoint()
        wallet.goto("/")
        wallet.step("18-active")
        wp.locator("a[href*='/credentials/']").first.click()
        wp.wait_for_url(re.compile(r"/credentials/"))
        wallet.step("19-credential")

        # --- 4. the clerk completes the project; the worker's career and certificate --------------
        clerk.goto(f"/console/contracts?project={project_id}")
        _submit(clerk.page, f"/projects/{project_id}/jobs/complete-all")
        _wait_job(s, project_id)
        clerk.step("20-completed")
        s.city.checkpoint()
        wallet.goto("/")
        wallet.goto("/career")
        assert wp.locator(".timeline__item").count() >= 1
        wallet.step("21-career")
        wallet.goto("/career/certificate")
        wp.locator("label.choice", has=wp.locator("input[name=item][value=wage]")).click()  # a chosen item: the wage shows only when asked for
        wallet.step("22-certificate-form")
        assert wp.locator("input[name=item][value=wage]").is_checked()
        wp.locator("form[action$='/career/certificate'] button[type=submit]").first.click()
        wp.wait_for_url("**/career/certificates/**")
        assert "12,121" in wp.locator("main").inner_text() or "12121" in wp.locator("main").inner_text()
        wallet.step("23-certificate")
        link_url = wp.locator(".link-text code").inner_text()
        with wp.expect_download() as got:
            wp.locator(f"a[href*='.pdf'][href$='lang={lang}']").click()
        pdf_path = tmp_path / "certificate.pdf"
        got.value.save_as(pdf_path)
        pdf = pdf_path.read_bytes()
        vp, receipts = certificate.extract_from_pdf(pdf)
        assert vp["verifiableCredential"] and set(receipts) == {vc["id"] for vc in vp["verifiableCredential"]}
        text = subprocess.run(["pdftotext", str(pdf_path), "-"], capture_output=True, text=True, check=True, timeout=60).stdout
        assert worker[0] in text and link_url in text
        _assert_qr(pdf_path, tmp_path, link_url, lang)

        # --- 5. the employer: upload, camera, request QR; revoke, suspend, reinstate ---------------
        with checked_page(browser, s.verifier_url, "journey-employer", lang=lang, viewport=DESKTOP) as employer:
            ep = employer.page
            assert _upload(employer, pdf_path) == "valid"
            employer.step("24-upload-valid")
            _all_checks_listed(ep)

            video = tmp_path / "qr.y4m"
            write_y4m(video, qr_scene(link_url))
            camera = launch_browser(["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
                                     f"--use-file-for-fake-video-capture={video}"])  # fmt: skip
            with checked_page(camera, s.verifier_url, "journey-employer-camera", lang=lang, viewport=DESKTOP,
                              permissions=["camera"]) as scan:  # fmt: skip
                scan.goto("/scan")
                scan.page.wait_for_selector("#verdict", timeout=20_000)
                assert scan.page.get_attribute("#verdict", "data-verdict") == "valid"
                _all_checks_listed(scan.page)
                scan.step("25-camera-valid")

            # the request QR: the worker's wallet answers it (same device link, as the QR carries)
            assert _ask(employer, wallet, s, lang, "26-ask") == "valid"

            # the clerk changes the status; the employer's next check follows
            clerk.goto(f"/console/contracts?project={project_id}")
            clerk.page.get_by_role("link", name=worker[0]).click()
            clerk.page.wait_for_url("**/console/contracts/**")
            clerk.step("30-completed-contract")
            contract_path = clerk.page.url.split("?")[0].removeprefix(s.issuer_url)
            for action, expected in (("suspend", "suspended"), ("reinstate", "valid"), ("revoke", "revoked")):
                clerk.goto(contract_path)
                form = clerk.page.locator(f"form[action$='/{action}']")
                if form.locator("[name=reason]").count():
                    clerk.page.locator("details.console-action", has=form).locator("summary").click()
                    form.locator("[name=reason]").fill("근무 기록 확인 중" if action == "suspend" else "사실과 다른 기록")
                with clerk.page.expect_navigation():
                    form.locator("button[type=submit]").click()
                clerk.step(f"31-{action}")
                # status lists carry ttl 0 (agents.registry_client.DEFAULT_TTL_MS): the very next check sees it
                assert _ask(employer, wallet, s, lang, f"32-after-{action}") == expected, action


def _ask(employer: CheckedPage, wallet: CheckedPage, s: Servers, lang: str, label: str) -> str:
    """The employer asks for career records with a request QR; the worker's wallet answers (the same
    device link the QR carries); the employer's page turns into the verdict by itself: its code."""
    ep, wp = employer.page, wallet.page
    employer.goto("/")
    ep.select_option("#years", "3")
    ep.fill("#purpose", "채용 서류 확인" if lang == "ko" else "Hiring check")
    with ep.expect_navigation():
        ep.click("form[action$='/ask'] button[type=submit]")
    employer.step(f"{label}-waiting")
    same_device = ep.get_attribute("a[href*='/oid4vp?request=']", "href")
    assert same_device and same_device.startswith(s.wallet.url)
    wp.goto(same_device + f"&lang={lang}")
    wallet.step(f"{label}-consent")
    _submit(wp, "/oid4vp/answer")
    wallet.step(f"{label}-shared")
    try:
        ep.wait_for_selector("#verdict", timeout=30_000)
    except PlaywrightTimeout:
        # seen once on a loaded machine: the page's poll had not turned yet; a reload polls again
        ep.reload()
        ep.wait_for_selector("#verdict", timeout=30_000)
    _all_checks_listed(ep)
    employer.step(f"{label}-verdict")
    return str(ep.get_attribute("#verdict", "data-verdict"))


def _upload(employer: CheckedPage, pdf: Path) -> str:
    """The employer uploads the certificate PDF on the verifier's home page; the verdict's code."""
    employer.goto("/")
    employer.page.set_input_files("#file", str(pdf))
    with employer.page.expect_navigation():
        employer.page.click("form[action$='/upload'] button[type=submit]")
    employer.page.wait_for_selector("#verdict")
    return str(employer.page.get_attribute("#verdict", "data-verdict"))


def _all_checks_listed(page: Any) -> None:
    """The verdict lists every check it made, each with its outcome."""
    checks = page.locator("[data-check]")
    assert checks.count() >= 4, page.locator("main").inner_text()[:1500]
    ids = {checks.nth(i).get_attribute("data-check") for i in range(checks.count())}
    assert {"signature", "status"} <= ids or len(ids) >= 4, ids


def _message_for(outbox: str, phone: str) -> str:
    """The newest outbox message to `phone` (the page lists newest first)."""
    masked = phone
    for block in outbox.split("→")[1:]:
        if block.strip().startswith(masked):
            return block
    raise AssertionError(f"no message to {phone} in the outbox: {outbox[:1000]}")


def _wait_job(s: Servers, project_id: int) -> None:
    """Until the project's bulk jobs have finished (the console runs them in a background thread)."""
    from issuer import jobs

    for _ in range(120):
        if all(j.finished for j in jobs.jobs(s.issuer, project_id)):
            return
        import time

        time.sleep(0.25)
    raise AssertionError("the bulk job did not finish")


def _assert_qr(pdf_path: Path, tmp_path: Path, link_url: str, lang: str) -> None:
    import zxingcpp
    from PIL import Image

    subprocess.run(["pdftoppm", "-png", "-r", "110", str(pdf_path), str(tmp_path / "page")], check=True, timeout=60)
    png = sorted(tmp_path.glob("page*.png"))[0]
    shutil.copy(png, screenshots_dir() / f"journey-certificate-pdf-{lang}.png")
    assert [b.text for b in zxingcpp.read_barcodes(Image.open(png))] == [link_url]


__all__ = ["CheckedPage"]
