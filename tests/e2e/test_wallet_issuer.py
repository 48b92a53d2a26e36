"""The wallet with the real issuer app over HTTP and the real registry, in Chromium: identity check by
invitation, roster match and one-time code from the outbox, passkey registration, reading and signing
an offered contract with a passkey whose challenge is the draft's digest, the countersigned credential
arriving with its receipt; and the abuse cases: wrong codes lock the invitation, an expired code,
another worker's invitation; a lost phone (new invitation, new passkey, everything still there);
export, erasure and restore into a new account through a fresh identity check."""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from issuer.app import create_app as create_issuer
from issuer.protocol_models import CredentialOfferRow
from issuer.service import IssuerService, ParticipantRow
from tests.helpers_city import City, serve, start_city
from tests.helpers_issuer import demo_project, issuer_service
from tests.helpers_passkeys import virtual_authenticator
from tests.helpers_wallet import Wallet, wallet_server
from web.config import RoleConfig

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]
PHONE = {"width": 390, "height": 844}
KIM = ParticipantRow("김서울", "1990-05-01", "010-1234-5678")
LEE = ParticipantRow("이한강", "1985-11-20", "010-9876-5432")


@dataclass
class World:
    city: City
    issuer: IssuerService
    wallet: Wallet
    project_id: int


@contextmanager
def make_world(tmp_path: Path, *, wallet_extra: dict[str, str] | None = None,
               issuer_extra: dict[str, str] | None = None) -> Iterator[World]:  # fmt: skip
    """A city registry, the issuer app over HTTP (its service inviting to this wallet), the wallet."""
    with start_city(tmp_path) as city:
        box: dict[str, Any] = {}
        server, _ = serve(lambda env, sr: box["app"](env, sr))
        issuer_url = f"http://127.0.0.1:{server.server_port}"
        with wallet_server(tmp_path, city, issuer_url=issuer_url, **(wallet_extra or {})) as wallet, \
                issuer_service(city, f"sqlite:///{tmp_path / 'issuer.sqlite3'}", wallet_url=wallet.url) as svc:  # fmt: skip
            config = RoleConfig("issuer", base_url=issuer_url, secret_key="t", dev=True,
                                extra={"background": "0"} | (issuer_extra or {}))  # fmt: skip
            box["app"] = create_issuer(config, service=svc)
            _, project = demo_project(svc, city=city)
            svc.add_participants(project.id, [KIM, LEE])
            yield World(city, svc, wallet, project.id)
        server.shutdown()
        server.server_close()


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    with make_world(tmp_path) as w:
        yield w


def _offer(w: World) -> dict[str, tuple[str, str]]:
    """name -> (invitation link, contract urn) for every participant (the link as the SMS carried it)."""
    created = list(w.issuer.draft_contracts(w.project_id).created)
    sent = w.issuer.outbox_messages(limit=50)
    out = {}
    for offer in w.issuer.offer_contracts(created):
        assert offer.invitation_url and offer.invitation_url.startswith(w.wallet.url + "/invite/")
        phone = next(m.recipient for m in w.issuer.outbox_messages(limit=50) if offer.invitation_url in m.body)
        out[next(p.name for p in (KIM, LEE) if p.phone == phone)] = (offer.invitation_url, offer.urn)
    assert sent is not None
    return out


def _code(w: World) -> str:
    found = re.search(r"\b(\d{6})\b", w.issuer.outbox_messages(limit=1)[0].body)
    assert found
    return found.group(1)


def _identify(page: Any, link: str, row: ParticipantRow) -> None:
    page.goto(link)
    assert "/invite/" not in page.url  # the token left the address bar
    page.fill("#name", row.name)
    page.fill("#birthDate", row.birth_date)
    page.click("form[action='/invite/identify'] button[type=submit]")


def _enter_code(page: Any, code: str) -> None:
    page.fill("#code", code)
    page.click("form[action='/invite/code'] button[type=submit]")


def _register(page: Any) -> None:
    page.click("form[data-passkey=register] button[type=submit]")
    page.wait_for_url(re.compile(r"/\?welcome=1$"))


def test_invitation_sign_and_receive(browser: Any, world: World, screenshots: Path) -> None:
    w = world
    link, urn = _offer(w)[KIM.name]
    context = browser.new_context(viewport=PHONE, locale="ko-KR")
    try:
        page = context.new_page()
        virtual_authenticator(page)
        _identify(page, link, KIM)
        page.wait_for_url(w.wallet.url + "/invite/code")
        assert "010-****-5678로 보낸" in page.inner_text("main")  # the particle follows the digit 8
        page.screenshot(path=str(screenshots / "wallet-code-phone.png"), full_page=True)
        _enter_code(page, _code(w))
        page.wait_for_url(w.wallet.url + "/invite/passkey")
        _register(page)
        assert "김서울 님의 전자지갑" in page.inner_text("main")

        # the offer, in full, each legal term explained; then the passkey signature
        page.click("text=읽고 서명하기")
        page.wait_for_url(re.compile(r"/contracts/"))
        text = page.inner_text("main")
        for item in ("근로계약기간", "소정근로시간", "임금", "연차유급휴가", "사회보험", "최저임금보다 적을 수 없고"):
            assert item in text, item
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        page.screenshot(path=str(screenshots / "wallet-offer-phone.png"), full_page=True)
        sent: list[str] = []
        page.on("request", lambda r: sent.append(r.post_data or "") if r.url.endswith("/sign") else None)
        page.click("form[data-passkey=sign] button[type=submit]")
        page.wait_for_url(re.compile(r"/\?signed=1$"))
        assert w.issuer.contract(urn).state == "signed"
        # the same assertion again: its challenge is used up, nothing is signed twice
        replay = page.evaluate(
            """async ([path, body]) => {
                const token = document.querySelector("input[name=csrf_token]").value;
                const r = await fetch(path, {method: "POST", body, credentials: "same-origin",
                    headers: {"Content-Type": "application/json", "X-CSRF-Token": token, "Accept": "application/json"}});
                return r.status;
            }""", [f"/contracts/{urn}/sign", sent[0]])  # fmt: skip
        assert replay in (400, 409) and w.issuer.contract(urn).state == "signed"

        # the city countersigns; the credential arrives with its receipt on the next visit
        w.issuer.countersign([urn])
        w.city.checkpoint()
        page.goto(w.wallet.url + "/")
        assert "서명할 근로계약서" in page.inner_text("main") and "서명을 기다리는 계약서가 없습니다" in page.inner_text("main")
        page.click("text=2026 서울 데이터 서포터즈")
        page.wait_for_url(re.compile(r"/credentials/"))
        detail = page.inner_text("main")
        assert "유효" in detail and "김서울" in detail
        page.screenshot(path=str(screenshots / "wallet-credential-phone.png"), full_page=True)
        account = w.wallet.store.account_by_did(w.wallet.store.credentials(_only_account(w))[0].credential["credentialSubject"]["id"])
        assert account is not None
        [held] = w.wallet.store.credentials(account.id)
        assert held.kind == "contract" and held.credential["id"] == urn and held.credential["evidence"][0]["passkeyAssertion"]
        assert held.receipt and held.receipt["index"] >= 0
        # it came over OpenID4VCI: the offer the issuer listed was redeemed by the wallet's key proof
        with w.issuer.session_factory() as s:
            redeemed = s.scalars(select(CredentialOfferRow.redeemed_at).where(CredentialOfferRow.credential_urn == urn)).all()
        assert any(r is not None for r in redeemed)
    finally:
        context.close()


def _only_account(w: World) -> str:
    with w.wallet.store.factory() as s:
        from sqlalchemy import text

        [wid] = s.execute(text("SELECT id FROM worker WHERE wrapped_dek IS NOT NULL")).scalars().all()
        return str(wid)


def test_wrong_codes_lock_expired_code_and_another_workers_invitation(browser: Any, world: World, screenshots: Path) -> None:
    w = world
    links = _offer(w)
    context = browser.new_context(viewport=PHONE, locale="ko-KR")
    try:
        page = context.new_page()
        # another worker's invitation: Kim's details on Lee's link match nothing (one generic answer)
        _identify(page, links[LEE.name][0], KIM)
        assert "일치하지 않습니다" in page.inner_text("#form-error")

        # an expired code
        _identify(page, links[KIM.name][0], KIM)
        page.wait_for_url(w.wallet.url + "/invite/code")
        # the session cookie (signed, readable by whoever uses this PC next) holds no name or birth date
        [cookie] = [c for c in context.cookies() if c["name"] == w.wallet.app.config["SESSION_COOKIE_NAME"]]
        session = w.wallet.app.session_interface.get_signing_serializer(w.wallet.app).loads(cookie["value"])  # type: ignore[attr-defined]
        assert "invite" in session and KIM.name not in json.dumps(session, ensure_ascii=False) and KIM.birth_date not in str(session)
        code = _code(w)
        w.city.now += timedelta(minutes=6)
        _enter_code(page, code)
        assert "만료" in page.inner_text("#form-error")

        # wrong codes: the fifth locks the invitation and tells the worker what to do
        page.click("form[action='/invite/identify'] button[type=submit]")  # a new code
        page.wait_for_url(w.wallet.url + "/invite/code")
        for _ in range(3):
            _enter_code(page, "000000")
            assert "틀렸거나" in page.inner_text("#form-error")
        _enter_code(page, "000000")
        error = page.inner_text("#form-error")
        assert "잠겼습니다" in error and "전화" in error, error
        page.screenshot(path=str(screenshots / "wallet-locked-phone.png"), full_page=True)
        _enter_code(page, code)
        assert "잠겼습니다" in page.inner_text("#form-error")
        assert w.wallet.store.accounts_for_identity(KIM.name, KIM.birth_date) == []
    finally:
        context.close()


def test_lost_phone_then_export_erase_restore(browser: Any, world: World, tmp_path: Path) -> None:
    w = world
    link, urn = _offer(w)[KIM.name]
    first = browser.new_context(viewport=PHONE, locale="ko-KR")
    page = first.new_page()
    virtual_authenticator(page)
    _identify(page, link, KIM)
    _enter_code(page, _code(w))
    _register(page)
    wid = _only_account(w)
    did = w.wallet.store.account(wid).did
    page.click("text=읽고 서명하기")
    page.click("form[data-passkey=sign] button[type=submit]")
    page.wait_for_url(re.compile(r"/\?signed=1$"))
    w.issuer.countersign([urn])
    w.city.checkpoint()
    page.goto(w.wallet.url + "/")
    assert len(w.wallet.store.credentials(wid)) == 1
    first.close()  # the phone is lost

    # a new invitation, a new phone: the same account, a new passkey replacing the old one
    participant = w.issuer.contract(urn).participant_id
    new_link = w.issuer.reissue_invitation(participant)
    second = browser.new_context(viewport=PHONE, locale="ko-KR")
    page = second.new_page()
    virtual_authenticator(page)
    _identify(page, new_link, KIM)
    _enter_code(page, _code(w))
    page.wait_for_url(w.wallet.url + "/invite/passkey")
    assert "이미 쓰던 전자지갑" in page.inner_text("main")
    old_keys = [p.credential_id for p in w.wallet.store.passkeys(wid)]
    _register(page)
    assert _only_account(w) == wid and w.wallet.store.account(wid).did == did
    assert [p.credential_id for p in w.wallet.store.passkeys(wid)] != old_keys and len(w.wallet.store.passkeys(wid)) == 1
    assert "2026 서울 데이터 서포터즈" in page.inner_text("main")

    # export, then erase
    page.goto(w.wallet.url + "/account")
    page.fill("#passphrase", "한강 다리 열두 개")
    page.fill("#passphrase2", "한강 다리 열두 개")
    with page.expect_download() as got:
        page.click("form[action='/account/export'] button[type=submit]")
    backup = tmp_path / "backup.wcwallet"
    got.value.save_as(backup)
    page.fill("#confirm", "삭제")
    page.click("form[action='/account/erase'] button[type=submit]")
    assert "계정을 삭제했습니다" in page.inner_text("main")
    assert w.wallet.store.accounts_for_identity(KIM.name, KIM.birth_date) == []
    second.close()

    # restore into a new account after a fresh identity check
    third = browser.new_context(viewport=PHONE, locale="ko-KR")
    page = third.new_page()
    virtual_authenticator(page)
    _identify(page, w.issuer.reissue_invitation(participant), KIM)
    page.click("details.more summary")
    page.set_input_files("#backup", str(backup))
    page.fill("#passphrase", "틀린 암호입니다 정말로")
    _enter_code(page, "000000")
    assert "암호가 틀렸습니다" in page.inner_text("#form-error")  # checked before the code is spent
    page.click("details.more summary")
    page.set_input_files("#backup", str(backup))
    page.fill("#passphrase", "한강 다리 열두 개")
    _enter_code(page, _code(w))
    page.wait_for_url(w.wallet.url + "/invite/passkey")
    assert "1건을 복원했습니다" in page.inner_text("main")
    _register(page)
    restored = _only_account(w)
    assert restored != wid and w.wallet.store.account(restored).did == did
    [held] = w.wallet.store.credentials(restored)
    assert held.credential["id"] == urn and held.receipt
    assert urllib.parse.urlsplit(page.url).path == "/"
    third.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def oidc_world(tmp_path: Path) -> Iterator[World]:
    """The world with the city's OpenID Connect provider: oidc-provider from npm, started for real."""
    if shutil.which("node") is None or not (ROOT / "node_modules" / "oidc-provider").is_dir():
        pytest.skip("node and node_modules/oidc-provider are needed (npm ci)")
    port = _free_port()
    provider = f"http://localhost:{port}"
    wallet_extra = {"oidc_issuer": provider, "oidc_client_id": "workcred-wallet", "oidc_client_secret": "test-secret",
                    "oidc_name": "서울 본인인증"}  # fmt: skip
    with make_world(tmp_path, wallet_extra=wallet_extra,
                    issuer_extra={"oidc_issuer": provider, "oidc_audience": "workcred-wallet"}) as w:  # fmt: skip
        proc = subprocess.Popen(["node", str(ROOT / "tests" / "oidc_provider.mjs"), str(port), w.wallet.url + "/invite/oidc/callback",
                                 "workcred-wallet", "test-secret"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)  # fmt: skip
        try:
            assert proc.stdout is not None and proc.stdout.readline().startswith("ready"), "the OIDC provider did not start"
            yield w
        finally:
            proc.terminate()
            proc.wait(10)
            if proc.stdout is not None:
                proc.stdout.close()


def _provider_login(page: Any, login: str) -> None:
    """The provider's own login and consent pages (its development interactions)."""
    page.wait_for_load_state()
    assert page.locator("input[name=login]").count(), (page.url, page.content()[:3000])
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", "any")
    page.click("button[type=submit]")
    page.wait_for_selector("button[type=submit]")
    if "/interaction/" in page.url:
        page.click("button[type=submit]")  # consent to share name and birth date


def test_oidc_login_against_a_real_provider(browser: Any, oidc_world: World, screenshots: Path) -> None:
    w = oidc_world
    links = _offer(w)
    context = browser.new_context(viewport=PHONE, locale="ko-KR")
    try:
        page = context.new_page()
        virtual_authenticator(page)
        # someone else's provider account on Kim's invitation: the claims do not match the roster row
        page.goto(links[KIM.name][0])
        page.screenshot(path=str(screenshots / "wallet-invite-oidc-phone.png"), full_page=True)
        page.click("text=서울 본인인증 인증하기")
        _provider_login(page, "stranger")
        page.wait_for_url(re.compile(re.escape(w.wallet.url) + r"/invite/oidc/callback"))
        assert "일치하지 않습니다" in page.inner_text("#form-error")

        # Kim signs in at the provider: no name, birth date or code typed in the wallet
        page.click("text=서울 본인인증 인증하기")
        _provider_login(page, "kim")
        page.wait_for_url(w.wallet.url + "/invite/passkey")
        _register(page)
        assert "김서울 님의 전자지갑" in page.inner_text("main")
        assert "읽고 서명하기" in page.inner_text("main")  # the offer bound to this wallet's DID
        assert not any("인증번호" in m.body and m.recipient == KIM.phone for m in w.issuer.outbox_messages(limit=50))
    finally:
        context.close()


def test_oidc_refuses_a_forged_id_token(oidc_world: World) -> None:
    """The issuer checks the ID token itself: one the provider did not sign is refused, nothing bound."""
    import httpx

    from agents.keys import Ed25519KeyPair

    w = oidc_world
    link, _ = _offer(w)[KIM.name]
    token = link.rsplit("/", 1)[1]
    forged = "eyJhbGciOiJub25lIn0.eyJpc3MiOiJ4In0."
    resp = httpx.post(f"{w.wallet.app.extensions['wallet.service'].settings.issuer_url}/api/wallet/invitations/{token}/oidc",
                      json={"idToken": forged, "holderDid": Ed25519KeyPair.generate().public.did_key}, timeout=10, trust_env=False)  # fmt: skip
    assert resp.status_code == 400 and "본인 인증" in resp.json()["detail"]
