"""The wallet-facing API of the issuer (docs/issuer-wallet.md): identity check, the worker's
contracts, signing, certificates, receipts. JSON in and out, problem details for every error.

Invitation routes are authenticated by the invitation token in the path, the rest by the worker
token (`Authorization: Bearer`); no cookies, so the blueprint is exempt from the form CSRF check.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

import schemas
from agents.errors import Error, InvalidInput, Unauthorized
from agents.loader import parse_json
from web import csrf
from web.ratelimit import rate_limit

from .service import IssuerService, WalletContract, WorkerAuth

bp = csrf.exempt(Blueprint("api_wallet", __name__, url_prefix="/api/wallet"))
MAX_BODY = 256 * 1024


class NotConfigured(Error):
    code = "not-configured"
    http_status = 501


def service() -> IssuerService:
    svc: IssuerService = current_app.extensions["issuer"]
    return svc


def _body(*required: str) -> dict[str, Any]:
    raw = request.get_data(cache=False)
    if len(raw) > MAX_BODY:
        raise InvalidInput("the body is too large", message_ko="요청 본문이 너무 큽니다")
    body = parse_json(raw) if raw else None
    if not isinstance(body, dict) or any(k not in body for k in required):
        raise InvalidInput(f"the body is a JSON object with {', '.join(required)}",
                           message_ko=f"요청 본문은 {', '.join(required)} 값을 가진 JSON 객체여야 합니다")  # fmt: skip
    return body


def _worker() -> WorkerAuth:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("a worker token is required", message_ko="근로자 토큰이 필요합니다")
    return service().worker(token.strip())


def _ip() -> str:
    return request.remote_addr or ""


def _summary(c: WalletContract) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": c.urn, "kind": "labor-contract", "version": c.version, "state": c.state, "statusReason": c.status_reason, "title": dict(c.title),
        "project": c.project, "offeredAt": c.offered_at.isoformat() if c.offered_at else None, "supersedes": c.supersedes,
    }  # fmt: skip
    if c.draft is not None:
        out["draft"], out["draftDigest"] = c.draft, c.draft_digest
    if c.credential is not None:
        out["credential"] = c.credential
    if c.receipt is not None:
        out["receipt"] = c.receipt
    offer = getattr(service(), "offer_link_for", None)  # the protocols add credential offers
    if offer is not None and c.credential is not None:
        out["offer"] = offer(c.urn)
    return out


@bp.post("/invitations/<token>/identify")
@rate_limit(10, 60)
def identify(token: str) -> Response:
    body = _body("name", "birthDate")
    sent = service().identify(token, body["name"], body["birthDate"], ip=_ip())
    return jsonify({"codeSentTo": sent.code_sent_to, "expiresAt": sent.expires_at.isoformat()})


@bp.post("/invitations/<token>/verify")
@rate_limit(10, 60)
def verify(token: str) -> Response:
    body = _body("code", "holderDid")
    svc = service()
    bound = svc.verify_code(token, body["code"], body["holderDid"], ip=_ip())
    contracts = svc.worker_contracts(svc.worker(bound.worker_token))
    return jsonify({"workerToken": bound.worker_token, "workerId": bound.worker_id, "contracts": [_summary(c) for c in contracts]})


@bp.post("/invitations/<token>/oidc")
@rate_limit(10, 60)
def oidc(token: str) -> Response:
    login = current_app.extensions.get("issuer.oidc")
    if login is None:
        raise NotConfigured("sign-in with the city's identity provider is not configured here; use the code sent by SMS",
                            message_ko="이 기관은 본인 인증 서비스 로그인을 설정하지 않았습니다. 문자로 받은 인증번호를 사용하세요")  # fmt: skip
    result: Response = login(token, _body("idToken"))
    return result


@bp.get("/contracts")
def contracts() -> Response:
    svc, auth = service(), _worker()
    items = [_summary(c) for c in svc.worker_contracts(auth)]
    offer = getattr(svc, "offer_link_for", None)
    for ready, state, reason in svc.worker_career_records(auth):  # what each finished contract left
        item = {"id": ready.urn, "kind": "career-record", "version": 1, "state": state, "statusReason": reason,
                "project": ready.credential["credentialSubject"].get("project", {}).get("name", ""),
                "credential": ready.credential}  # fmt: skip
        if ready.receipt is not None:
            item["receipt"] = ready.receipt
        if offer is not None:
            item["offer"] = offer(ready.urn)
        items.append(item)
    return jsonify(items)


@bp.get("/contracts/<urn>/preview.pdf")
def preview(urn: str) -> Response:
    lang = "en" if request.args.get("lang") == "en" else "ko"
    pdf = service().contract_preview(_worker(), urn, lang)
    return Response(pdf, mimetype="application/pdf", headers={"Content-Disposition": 'inline; filename="contract-preview.pdf"'})


@bp.get("/contracts/<urn>")
def contract(urn: str) -> Response:
    c = service().worker_contract(_worker(), urn)
    lang = "en" if request.args.get("lang") == "en" else "ko"
    return jsonify(_summary(c) | {"template": dict(c.template), "labels": schemas.labels(lang), "workerFields": c.template["workerFields"]})


@bp.put("/contracts/<urn>/details")
def details(urn: str) -> Response:
    fields = _body()
    c = service().worker_contract(_worker(), urn)
    own = set(c.template["workerFields"]) - {"id"}  # the DID is bound at the identity check
    if set(fields) - own:
        raise InvalidInput("only your own fields can be filled in: " + (", ".join(sorted(own)) or "none"),
                           message_ko="본인이 채우는 항목만 입력할 수 있습니다: " + (", ".join(sorted(own)) or "없음"))  # fmt: skip
    if c.draft is None:
        raise InvalidInput("the contract is not waiting for your signature", message_ko="서명을 기다리는 계약이 아닙니다")
    return jsonify({"draft": c.draft, "draftDigest": c.draft_digest})


@bp.post("/contracts/<urn>/acceptance")
@rate_limit(30, 60)
def acceptance(urn: str) -> tuple[Response, int]:
    body = _body("acceptance")
    state = service().accept(_worker(), urn, body["acceptance"], ip=_ip())
    return jsonify({"state": state}), 202


@bp.post("/certificates")
@rate_limit(20, 60)
def certificates() -> tuple[Response, int]:
    body = _body("careerRecordIds", "items")
    ids, items = body["careerRecordIds"], body["items"]
    if not isinstance(ids, list) or not isinstance(items, list) or not all(isinstance(x, str) for x in ids + items):
        raise InvalidInput("careerRecordIds and items are lists of strings", message_ko="careerRecordIds와 items는 문자열 목록입니다")
    purpose = body.get("purpose") if isinstance(body.get("purpose"), str) else ""
    svc = service()
    cert = svc.certificate(_worker(), ids, items, purpose=purpose or "")
    offer = getattr(svc, "offer_link_for", None)
    return jsonify({"id": cert.urn, "credential": cert.credential, "offer": offer(cert.urn) if offer else None}), 201


@bp.get("/credentials/<urn>/receipt")
def receipt(urn: str) -> tuple[Response, int] | tuple[Response, int, dict[str, str]]:
    auth = _worker()
    svc = service()
    if not any(r.urn == urn for r in svc.credentials_ready_for(auth.holder_did, [urn])):
        raise InvalidInput("not a credential of yours", message_ko="본인의 증명이 아닙니다")
    found = svc.receipt(urn)
    if found is None:
        return jsonify({"status": "pending"}), 202, {"Retry-After": "2"}
    return jsonify(found), 200
