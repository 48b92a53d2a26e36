"""The worker's wallet app; for now its landing page explains what it does and links to the verifier."""

from __future__ import annotations

from flask import Flask, render_template

from web.config import RoleConfig, peer_url
from web.factory import base_app


def create_app(config: RoleConfig | None = None) -> Flask:
    """The wallet app (`gunicorn 'holder_wallet.app:create_app()'`)."""
    config = config or RoleConfig.from_env("wallet")
    app = base_app(__name__, config)
    verifier = peer_url(config, "verifier")

    @app.get("/")
    def index() -> str:
        return render_template("wallet/index.html", verifier_url=verifier)

    return app
