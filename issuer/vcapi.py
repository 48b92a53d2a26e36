"""W3C VC-API issuing endpoints, one set per department, behind OAuth2 bearer tokens (client credentials).

    POST /vc-api/<department>/credentials/issue                   cryptosuite from options (default eddsa-jcs-2022)
    POST /vc-api/<department>/<cryptosuite>/credentials/issue     eddsa-rdfc-2022 or eddsa-jcs-2022, fixed
    POST /vc-api/<department>/credentials/status                  revoke, suspend, reinstate
"""

from __future__ import annotations

import time
from typing import Any

from flask import Blueprint, Response, jsonify, request

from agents import dataintegrity as di
from agents import loader
from agents.errors import Error, InvalidInput
from web import csrf
from web.problems import error_problem
from web.ratelimit import rate_limit

from . import issuing, models, oauth
from .oauth import InvalidToken
from .protocols import ProtocolContext, protocols

bp = Blueprint("vcapi", __name__, url_prefix="/vc-api")
csrf.exempt(bp)  # bearer-token API, no cookies

# one client may issue fast (a batch run); the limit stops a runaway loop, not real work
ISSUE_LIMIT = (6000, 60)


class Forbidden(Error):
    code = "insufficient-scope"
    http_status = 403


def _parts(ctx: ProtocolContext) -> tuple[issuing.Signers, issuing.StatusPool, issuing.LeafLogger]:
    ext = ctx.extensions
    if "signers" not in ext:
        ext["signers"], ext["pool"], ext["logger"] = issuing.Signers(ctx), issuing.StatusPool(ctx), issuing.LeafLogger(ctx)
    return ext["signers"], ext["pool"], ext["logger"]


#: (client id, department slug) -> (checked until, department, client id): a client issuing in a loop
# is looked up once per AUTH_TTL seconds, so disabling a client takes effect within that time
AUTH_TTL = 2.0
_checked: dict[tuple[str, str], tuple[float, models.Department, str]] = {}


def _authorised(ctx: ProtocolContext, slug: str) -> tuple[models.Department, str]:
    grant = ctx.tokens.check(oauth.bearer_of(request.headers.get("Authorization")), "vcapi")
    key = (grant.subject, slug)
    hit = _checked.get(key)
    if hit is not None and hit[0] > time.monotonic():
        return hit[1], hit[2]
    with ctx.tx() as s:
        department = ctx.department(s, slug[:63])
        client = oauth.active_client(s, grant)
        if client.department_id != department.id:
            raise Forbidden(
                f"this client's scope is another department, not {department.slug}",
                message_ko=f"이 클라이언트의 권한 범위는 {department.slug} 부서가 아닙니다",
            )
        s.expunge(department)
    if len(_checked) > 10_000:
        _checked.clear()
    _checked[key] = (time.monotonic() + AUTH_TTL, department, client.client_id)
    return department, client.client_id


def _body() -> Any:
    if not request.is_json:
        raise InvalidInput("send the body as application/json", message_ko="요청 본문은 application/json이어야 합니다")
    return loader.parse_json(request.get_data(cache=False))


@bp.post("/<department>/credentials/issue")
@rate_limit(*ISSUE_LIMIT, name="vcapi-issue")
def issue(department: str) -> tuple[Response, int]:
    return _issue(department, None)


@bp.post("/<department>/<suite>/credentials/issue")
@rate_limit(*ISSUE_LIMIT, name="vcapi-issue")
def issue_with_suite(department: str, suite: str) -> tuple[Response, int]:
    if suite not in (di.RDFC, di.JCS):
        raise InvalidInput("the path names eddsa-rdfc-2022 or eddsa-jcs-2022", message_ko="경로의 암호 스위트는 eddsa-rdfc-2022 또는 eddsa-jcs-2022여야 합니다")
    return _issue(department, suite)


def _issue(slug: str, suite: str | None) -> tuple[Response, int]:
    ctx = protocols()
    department, client_id = _authorised(ctx, slug)
    signers, pool, logger = _parts(ctx)
    signed = issuing.issue(ctx, department, _body(), path_suite=suite, client_id=client_id, signers=signers, pool=pool, logger=logger)
    return jsonify({"verifiableCredential": signed}), 201


@bp.post("/<department>/credentials/status")
@rate_limit(600, 60, name="vcapi-status")
def status(department: str) -> Response:
    ctx = protocols()
    dept, _ = _authorised(ctx, department)
    signers, _, _ = _parts(ctx)
    return jsonify(issuing.change_status(ctx, dept, _body(), signers))


@bp.errorhandler(Error)
def _problem(err: Error) -> Response:
    resp = error_problem(err)
    if isinstance(err, InvalidToken):
        resp.headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
    elif isinstance(err, Forbidden):
        resp.headers["WWW-Authenticate"] = 'Bearer error="insufficient_scope"'
    return resp
