"""The worker's wallet app: identity check, passkeys, inbox and signing, credentials, presenting, export."""

from __future__ import annotations

from typing import Any

from flask import Flask

from web import db, envelope, health, passkeys
from web.config import RoleConfig, peer_url
from web.factory import base_app

from . import auth, career_pages, oidc_login, pages, present, pwa, signing
from ._web import optional_text
from .models import passkey_challenge
from .service import WalletService, WalletSettings
from .store import WalletStore


def create_app(config: RoleConfig | None = None, *, master: envelope.MasterKey | None = None, **service_options: Any) -> Flask:
    """The wallet app (`gunicorn 'holder_wallet.app:create_app()'`); migrates its database.

    Settings: WORKCRED_WALLET_MASTER_KEY or _MASTER_KEY_FILE (web/envelope.py), the issuer and the
    registry from WORKCRED_WALLET_ISSUER_URL / _REGISTRY_URL (else their WORKCRED_<ROLE>_BASE_URL).
    `app.extensions["wallet.service"]` is the `WalletService` every page goes through;
    `service_options` go to it (tests pass `http=` or `clock=`).
    """
    config = config or RoleConfig.from_env("wallet")
    app = base_app(__name__, config)
    app.config["PASSKEY_RP_NAME"] = "서울시 근로자 전자지갑"
    url = config.database_url or db.database_url("wallet")
    db.migrate("holder_wallet", url)
    engine = db.make_engine(url)
    factory = db.session_factory(engine)
    store = WalletStore(factory, master or envelope.load_master_key("wallet", dev=config.dev))
    settings = WalletSettings(config.base_url, peer_url(config, "issuer"), peer_url(config, "registry"), dev=config.dev)
    app.extensions["wallet"] = store
    app.extensions["wallet.service"] = WalletService(store, settings, **service_options)
    app.extensions["wallet.engine"] = engine
    health.add_check(app, "database", health.database_check(engine))
    health.add_check(app, "registry", health.http_check(settings.registry_url + "/log/checkpoint"))
    passkeys.install(app, passkeys.SqlChallengeStore(factory, passkey_challenge))
    app.extensions["wallet.oidc"] = oidc_login.OidcSettings.from_config(config)
    for bp in (auth.bp, oidc_login.bp, pages.bp, signing.bp, present.bp, career_pages.bp, pwa.bp):
        app.register_blueprint(bp)
    app.jinja_env.globals.update(verifier_url=peer_url(config, "verifier"), optional_text=optional_text,
                                 oidc_login=app.extensions["wallet.oidc"])
    return app
