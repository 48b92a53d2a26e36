"""The city staff console: sign-in (password and passkey, or passkey alone), roles, and the pages
for departments, projects, rosters, contracts, bulk runs, staff, the audit trail and the outbox.

    from issuer import console
    console.install(app, service)   # in issuer.app.create_app

Views are thin: accounts and scopes live in `_accounts` (`Accounts`, `Principal`), everything else
in `issuer.service`. Blueprints: `_auth_views` (sign-in), `_pages` (dashboard, departments,
outbox), `_projects`, `_staff_views`, `_contracts`, `_roster_views`, `_audit_views`.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Flask

from web import passkeys

from ..service import IssuerService
from . import _web
from ._accounts import (
    ADMIN,
    CLERK,
    MANAGER,
    AccountLocked,
    Accounts,
    Forbidden,
    LoginFailed,
    Principal,
    StaffView,
)
from ._models import ROLES, Staff, StaffPasskey, StaffProject, passkey_challenge
from ._web import EXTENSION, Console

__all__ = [
    "ADMIN", "CLERK", "MANAGER", "ROLES", "AccountLocked", "Accounts", "Console", "Forbidden", "LoginFailed",
    "Principal", "Staff", "StaffPasskey", "StaffProject", "StaffView", "install",
]  # fmt: skip

#: console-specific styles and scripts (/console/static/...)
assets = Blueprint("console_assets", __name__, static_folder=str(Path(__file__).parent / "static"),
                   static_url_path="/console/static")  # fmt: skip


def install(app: Flask, service: IssuerService, *, password_only: bool | None = None, owns_service: bool = False) -> Console:
    """Mount the console on the issuer app. `password_only` (default: development mode) lets an
    account without a passkey sign in with its password alone; in production it must enrol one."""
    from . import (
        _audit_views,
        _auth_views,
        _contracts,
        _jobs_views,
        _pages,
        _projects,
        _roster_views,
        _staff_views,
    )

    config = app.config["WORKCRED"]
    state = Console(service, password_only=config.dev if password_only is None else password_only, owns_service=owns_service)
    app.extensions[EXTENSION] = state
    app.jinja_env.globals.update(principal=_web.principal)

    @app.context_processor
    def _blueprints() -> dict[str, object]:
        return {"blueprints": app.blueprints}

    app.config.setdefault("PASSKEY_RP_NAME", "서울시 근로계약·경력 증명 발급")
    passkeys.install(app, passkeys.SqlChallengeStore(service.session_factory, passkey_challenge))
    blueprints = (assets, _auth_views.bp, _pages.bp, _projects.bp, _staff_views.bp, _contracts.bp, _jobs_views.bp,
                  _roster_views.bp, _audit_views.bp)  # fmt: skip
    for bp in blueprints:
        app.register_blueprint(bp)
    return state
