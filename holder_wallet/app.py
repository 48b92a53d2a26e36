"""The worker's wallet app: identity check, passkeys, inbox and signing, credentials, presenting, export."""

from __future__ import annotations

from flask import Flask, render_template

from web import db, envelope
from web.config import RoleConfig, peer_url
from web.factory import base_app

from .store import WalletStore


def create_app(config: RoleConfig | None = None, *, master: envelope.MasterKey | None = None) -> Flask:
    """The wallet app (`gunicorn 'holder_wallet.app:create_app()'`); migrates its database.

    The master key comes from WORKCRED_WALLET_MASTER_KEY or _MASTER_KEY_FILE (web/envelope.py);
    `app.extensions["wallet"]` is the `WalletStore` every page goes through.
    """
    config = config or RoleConfig.from_env("wallet")
    app = base_app(__name__, config)
    url = config.database_url or db.database_url("wallet")
    db.migrate("holder_wallet", url)
    engine = db.make_engine(url)
    store = WalletStore(db.session_factory(engine), master or envelope.load_master_key("wallet", dev=config.dev))
    app.extensions["wallet"] = store
    app.extensions["wallet.engine"] = engine
    verifier = peer_url(config, "verifier")

    @app.get("/")
    def index() -> str:
        return render_template("wallet/index.html", verifier_url=verifier)

    return app
