"""Passkeys in tests: Chromium's virtual authenticator (CDP) and a minimal app over web/passkeys.py.

The app is the smallest real user of the module (accounts in memory, challenges in SQLite through
`SqlChallengeStore`), so the browser test exercises web/passkeys.py and web/static/passkeys.js as a
role app would; the issuer and the wallet test their own accounts on top.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from typing import Any

from flask import Flask, abort, render_template_string, request, session
from sqlalchemy import MetaData

from web import passkeys
from web.config import RoleConfig
from web.db import make_engine, session_factory
from web.factory import base_app

PAGE = """{% extends "base.html" %}{% from "passkeys.html" import passkey_form, passkey_scripts %}
{% block content %}<h1>passkeys</h1>
<p id="who">{{ who or "-" }}</p>
{% call passkey_form("register", url_for("register_options"), url_for("register_verify"), "register") %}
<label for="name">name</label><input id="name" name="name" autocomplete="username">{% endcall %}
{{ passkey_form("login", url_for("login_options"), url_for("login_verify"), "login", next=url_for("index")) }}
{% endblock %}{% block scripts %}{{ passkey_scripts() }}{% endblock %}"""


@dataclass
class Accounts:
    """The app's passkeys by credential ID (what a role keeps in its database)."""

    by_id: dict[bytes, passkeys.StoredPasskey] = field(default_factory=dict)
    engine: Any = None  # dispose() it when done


def passkey_app(config: RoleConfig, db_url: str) -> tuple[Flask, Accounts]:
    """A role app with register/login routes on web/passkeys.py; challenges in the database at db_url."""
    app = base_app(__name__, config)
    metadata = MetaData()
    table = passkeys.challenge_table(metadata)
    engine = make_engine(db_url)
    metadata.create_all(engine)
    passkeys.install(app, passkeys.SqlChallengeStore(session_factory(engine), table))
    accounts = Accounts(engine=engine)

    @app.get("/")
    def index() -> str:
        return render_template_string(PAGE, who=session.get("user"))

    @app.post("/register/options")
    def register_options() -> dict[str, Any]:
        name = (request.form.get("name") or "").strip()
        if not name:
            abort(400)
        session["enrolling"] = name
        handle = hashlib.sha256(name.encode()).digest()[:16]
        return passkeys.registration_options(user_id=handle, user_name=name, display_name=name)

    @app.post("/register/verify")
    def register_verify() -> dict[str, Any]:
        new = passkeys.verify_registration((request.get_json(silent=True) or {}).get("credential") or {})
        accounts.by_id[new.credential_id] = passkeys.StoredPasskey(
            new.credential_id, new.public_key, new.sign_count, new.transports, owner=session["enrolling"]
        )
        return {"ok": True}

    @app.post("/login/options")
    def login_options() -> dict[str, Any]:
        return passkeys.authentication_options()

    @app.post("/login/verify")
    def login_verify() -> dict[str, Any]:
        assertion = passkeys.verify_authentication(
            (request.get_json(silent=True) or {}).get("credential") or {}, accounts.by_id.get
        )
        stored = accounts.by_id[assertion.credential_id]
        accounts.by_id[assertion.credential_id] = replace(stored, sign_count=assertion.new_sign_count)
        session["user"] = assertion.owner
        return {"ok": True, "next": "/"}

    return app, accounts


def virtual_authenticator(page: Any) -> tuple[Any, str]:
    """Attach a CTAP2 platform authenticator with user verification to the page; (CDP session, its id)."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable", {"enableUI": False})
    found = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    return cdp, str(found["authenticatorId"])
