"""The worker's wallet in tests: served at http://localhost:<port> (passkeys refuse an IP address as
the relying party), wired to a real city registry and, when given, a real issuer; Chromium's virtual
authenticator for the passkey pages.

    with wallet_server(tmp_path, city) as w:            # w.url, w.app, w.store
        account = w.store.create_account(name="홍길동", birth_date="1998-04-12")
        w.enrol(context, account.id)                    # the browser registers a passkey and is signed in
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask

from holder_wallet.app import create_app
from holder_wallet.store import WalletStore
from tests.helpers_city import City, serve
from tests.helpers_passkeys import virtual_authenticator
from web.config import RoleConfig
from web.envelope import MasterKey

MASTER = MasterKey(b"\x77" * 32, "wallet")


@dataclass
class Wallet:
    url: str
    app: Flask

    @property
    def store(self) -> WalletStore:
        return self.app.extensions["wallet"]  # type: ignore[no-any-return]

    def session_cookie(self, data: dict[str, Any]) -> dict[str, Any]:
        """A browser cookie carrying this session, signed with the app's key (what the app itself sets)."""
        value = self.app.session_interface.get_signing_serializer(self.app).dumps(data)  # type: ignore[attr-defined]
        return {"name": self.app.config["SESSION_COOKIE_NAME"], "value": value, "url": self.url}

    def enrol(self, context: Any, account_id: str, *, returning: bool = False) -> tuple[Any, Any, str]:
        """Open the passkey step for `account_id` as after an identity check; register a passkey in
        Chromium's virtual authenticator; return (page, cdp, authenticator id), signed in."""
        context.add_cookies([self.session_cookie({"enrol": {"aid": account_id, "returning": returning, "restored": 0}})])
        page = context.new_page()
        cdp, authenticator = virtual_authenticator(page)
        page.goto(self.url + "/invite/passkey")
        page.click("form[data-passkey=register] button[type=submit]")
        page.wait_for_url(self.url + "/?welcome=1")
        return page, cdp, authenticator


@contextmanager
def wallet_server(tmp: Path, city: City, *, issuer_url: str = "http://127.0.0.1:9", db_url: str | None = None,
                  **extra: str) -> Iterator[Wallet]:  # fmt: skip
    box: dict[str, Any] = {}
    server, _ = serve(lambda env, sr: box["app"](env, sr))
    url = f"http://localhost:{server.server_port}"
    settings = {"registry_url": city.base_url, "issuer_url": issuer_url} | extra
    config = RoleConfig("wallet", base_url=url, database_url=db_url or f"sqlite:///{tmp / 'wallet.sqlite3'}",
                        secret_key="wallet-test", dev=True, extra=settings)  # fmt: skip
    box["app"] = create_app(config, master=MASTER)
    try:
        yield Wallet(url, box["app"])
    finally:
        server.shutdown()
        server.server_close()
        box["app"].extensions["wallet.service"].close()
        box["app"].extensions["wallet.engine"].dispose()
