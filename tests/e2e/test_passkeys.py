"""web/passkeys.py and web/static/passkeys.js in Chromium with a virtual authenticator (CDP WebAuthn).

Registration and login through the page's own scripts under the real CSP, then the refusals:
a replayed assertion (same session, and an old session cookie played back), and an assertion
made for another site.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from tests.helpers_passkeys import passkey_app, virtual_authenticator
from web.config import RoleConfig

pytestmark = pytest.mark.browser


@pytest.fixture
def site(serve: Callable[[Flask], str], tmp_path: Path) -> Iterator[tuple[str, Any]]:
    """The passkey app served at http://localhost:<port> (its base URL, its accounts)."""
    config = RoleConfig("issuer", secret_key="e2e-passkeys", dev=True)
    app, accounts = passkey_app(config, f"sqlite:///{tmp_path / 'passkeys.sqlite3'}")
    # browsers refuse an IP address as RP ID: the site is localhost, as in development
    base = serve(app).replace("127.0.0.1", "localhost")
    config.base_url = base
    yield base, accounts
    accounts.engine.dispose()


def register_and_login(page: Any, base: str) -> dict[str, Any]:
    """Register "kim" and log in through the page; returns the login's posted credential body."""
    page.goto(base + "/")
    page.fill("#name", "kim")
    with page.expect_response(lambda r: r.url.endswith("/register/verify")) as reg:
        page.get_by_role("button", name="register").click()
    assert reg.value.status == 200, reg.value.text()
    page.wait_for_load_state()
    with page.expect_request(lambda r: r.url.endswith("/login/verify")) as login:
        page.get_by_role("button", name="login").click()
    page.locator("#who", has_text="kim").wait_for()
    return json.loads(login.value.post_data or "{}")


IN_PAGE_POST = """async ([url, body]) => {
  const token = document.querySelector("input[name=csrf_token]").value;
  const r = await fetch(url, {method: "POST", credentials: "same-origin", body: JSON.stringify(body),
    headers: {"Content-Type": "application/json", "Accept": "application/json", "X-CSRF-Token": token}});
  return {status: r.status, body: await r.json()};
}"""


def post_in_page(page: Any, url: str, body: dict[str, Any]) -> dict[str, Any]:
    """POST JSON from the page itself (its host name resolves in Chromium only)."""
    return page.evaluate(IN_PAGE_POST, [url, body])  # type: ignore[no-any-return]


def post_json(page: Any, url: str, body: dict[str, Any]) -> Any:
    token = page.locator("input[name=csrf_token]").first.input_value()
    return page.request.post(
        url,
        data=json.dumps(body),
        headers={"Content-Type": "application/json", "X-CSRF-Token": token, "Accept": "application/json"},
    )


def test_register_then_login(browser: Any, site: tuple[str, Any], screenshots: Path) -> None:
    base, accounts = site
    context = browser.new_context(viewport={"width": 390, "height": 844})
    try:
        page = context.new_page()
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        virtual_authenticator(page)
        register_and_login(page, base)
        [stored] = accounts.by_id.values()
        assert stored.owner == "kim" and stored.sign_count >= 1  # the counter was stored after login
        page.screenshot(path=str(screenshots / "passkeys-logged-in.png"), full_page=True)
        assert errors == []
    finally:
        context.close()


def refusals(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "web.passkeys"]


def test_replayed_assertion_is_refused(
    browser: Any, site: tuple[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    base, accounts = site
    context = browser.new_context()
    try:
        page = context.new_page()
        virtual_authenticator(page)
        page.goto(base + "/")
        cookies_before = None
        page.fill("#name", "kim")
        page.get_by_role("button", name="register").click()
        page.wait_for_load_state()
        page.wait_for_timeout(300)

        # keep the session cookie as it is while a login challenge is pending
        def snapshot(route: Any) -> None:
            nonlocal cookies_before
            cookies_before = context.cookies()
            route.continue_()

        page.route("**/login/verify", snapshot)
        with page.expect_request(lambda r: r.url.endswith("/login/verify")) as login:
            page.get_by_role("button", name="login").click()
        page.locator("#who", has_text="kim").wait_for()
        body = json.loads(login.value.post_data or "{}")
        count = next(iter(accounts.by_id.values())).sign_count

        # 1. the same assertion again in the same session: its challenge is used up
        again = post_json(page, base + "/login/verify", body)
        assert again.status == 400
        assert again.json()["type"].endswith("#passkey-failed")
        # 2. after asking for a fresh challenge: the old assertion answers the wrong one
        assert post_json(page, base + "/login/options", {}).status == 200
        assert post_json(page, base + "/login/verify", body).status == 400
        # 3. the old session cookie played back (it still names the spent challenge): refused server-side
        context.clear_cookies()
        assert cookies_before is not None
        context.add_cookies(cookies_before)
        replay = post_json(page, base + "/login/verify", body)
        assert replay.status == 400 and "패스키" in replay.json()["detail"]
        assert next(iter(accounts.by_id.values())).sign_count == count
        assert refusals(caplog) == [
            "passkey refused: no pending challenge for 'login'",
            "passkey refused: authentication: Client data challenge was not expected challenge",
            "passkey refused: challenge unknown or already used",
        ]
    finally:
        context.close()


def test_assertion_for_another_site_is_refused(
    browser: Any, site: tuple[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    base, _ = site
    context = browser.new_context()
    try:
        page = context.new_page()
        cdp, authenticator = virtual_authenticator(page)
        page.goto(base + "/")
        page.fill("#name", "kim")
        page.get_by_role("button", name="register").click()
        page.wait_for_load_state()
        page.wait_for_timeout(300)
        [cred] = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})["credentials"]
        # the same key pair and credential ID scoped to a look-alike site, in a second authenticator:
        # what a phishing page could get signed
        evil_site = base.replace("localhost", "evil.localhost")
        cdp.send("WebAuthn.removeVirtualAuthenticator", {"authenticatorId": authenticator})
        _, evil_authenticator = virtual_authenticator(page)
        cdp.send(
            "WebAuthn.addCredential",
            {
                "authenticatorId": evil_authenticator,
                "credential": {**cred, "rpId": "evil.localhost", "signCount": 10},
            },
        )
        page.goto(evil_site + "/")
        options = post_in_page(page, evil_site + "/login/options", {})["body"]
        options["rpId"] = "evil.localhost"
        credential = page.evaluate(
            "async (o) => await SimpleWebAuthnBrowser.startAuthentication({optionsJSON: o})", options
        )
        refused = post_in_page(page, evil_site + "/login/verify", {"credential": credential})
        assert refused["status"] == 400
        assert refused["body"]["type"].endswith("#passkey-failed")
        assert "evil" not in json.dumps(refused["body"])  # the reason stays in the log, not in the answer
        [reason] = refusals(caplog)
        assert "Unexpected client data origin" in reason and "evil.localhost" in reason
        page.goto(evil_site + "/")
        assert page.locator("#who").inner_text() == "-"
    finally:
        context.close()
