"""An offered contract, in full, and signing it with a passkey.

The page shows every item of the final draft by the template's sections, each Korean legal term with
a one-line explanation (`term.<field>` in holder_wallet/i18n), and the issuer's PDF preview. Signing:
the passkey assertion's challenge is the digest of the final draft (base64url SHA-256 of its JCS
form, computed here and compared with the issuer's `draftDigest`), then the wallet's did:key signs
the draft and the acceptance goes to the issuer (docs/issuer-wallet.md).
"""

from __future__ import annotations

import base64
import hmac
from typing import Any

from flask import Blueprint, Response, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

import schemas
from agents.errors import Conflict, InvalidInput
from web import passkeys

from ._web import lang, login_required, service, store, worker_id
from .auth import lookup
from .pages import flatten
from .service import draft_digest

bp = Blueprint("signing", __name__)
MAX_FIELD = 500


def _wid() -> str:
    wid = worker_id()
    assert wid is not None
    return wid


def _offer(contract_id: str) -> tuple[dict[str, Any], dict[str, Any], str]:
    """The contract from the issuer, its draft, and the draft's digest (checked against the issuer's)."""
    svc = service()
    item = svc.issuer(lang()).contract(svc._token(_wid()), contract_id)
    draft = item.get("draft")
    if item.get("state") != "offered" or not isinstance(draft, dict):
        raise Conflict("This contract is not waiting for your signature", message_ko="서명을 기다리는 계약서가 아닙니다")
    digest = draft_digest(draft)
    if not hmac.compare_digest(digest, str(item.get("draftDigest") or "")):
        raise Conflict("The contract shown differs from the one offered; reload the page",
                       message_ko="표시된 계약서가 제시된 계약서와 다릅니다. 페이지를 새로 고치세요")  # fmt: skip
    return item, draft, digest


def value_at(doc: Any, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(doc, dict):
            return None
        doc = doc.get(part)
    return doc


def sections(item: dict[str, Any], draft: dict[str, Any]) -> list[dict[str, Any]]:
    """The template's sections with each field's value from the draft (missing fields left out)."""
    subject = draft.get("credentialSubject") or {}
    out = []
    template = item.get("template") if isinstance(item.get("template"), dict) else {}
    for sec in item.get("sections") or template.get("sections") or []:
        if not isinstance(sec, dict):
            continue
        fields = [(path, value_at(subject, path)) for path in sec.get("fields") or [] if isinstance(path, str)]
        out.append({"number": sec.get("number"), "key": sec.get("key"), "title": sec.get("title") or {},
                    "fields": [(p, v) for p, v in fields if v not in (None, "", [])]})  # fmt: skip
    return out


@bp.get("/contracts/<path:contract_id>/preview.pdf")
@login_required
def preview(contract_id: str) -> Response:
    svc = service()
    pdf = svc.issuer(lang()).preview_pdf(svc._token(_wid()), contract_id)
    return Response(pdf, mimetype="application/pdf", headers={"Content-Disposition": "inline; filename=contract.pdf"})


@bp.get("/contracts/<path:contract_id>")
@login_required
def offer(contract_id: str) -> str:
    item, draft, digest = _offer(contract_id)
    worker_fields = [f for f in item.get("workerFields") or [] if isinstance(f, str) and f != "id"]
    subject = draft.get("credentialSubject") or {}
    return render_template("wallet/offer.html", item=item, draft=draft, digest=digest, sections=sections(item, draft),
                           labels=schemas.labels(lang()), worker_fields=[(f, value_at(subject, f) or "") for f in worker_fields],
                           contract_id=contract_id,
                           flatten_value=lambda v, p: readable(v, p, schemas.labels(lang())))  # fmt: skip


def readable(value: Any, path: str, labels: dict[str, str]) -> list[tuple[str, str]]:
    """A field as lines; the per-day schedule as one line a day ("월요일 10:00–16:00, 휴게 60분, 5시간")."""
    if path == "dailySchedule" and isinstance(value, list) and all(isinstance(d, dict) for d in value):
        rest, hours = labels.get("workingHours.breakMinutes", "break"), labels.get("dailySchedule.hours", "hours")
        return [(path, f"{labels.get('dailySchedule.day.' + str(d.get('day')), d.get('day'))} {d.get('startTime')}–{d.get('endTime')}, "
                       f"{rest} {d.get('breakMinutes')}, {hours} {d.get('hours')}") for d in value]  # fmt: skip
    return flatten(value, path, labels)


@bp.post("/contracts/<path:contract_id>/details")
@login_required
def details(contract_id: str) -> BaseResponse:
    svc = service()
    item = svc.issuer(lang()).contract(svc._token(_wid()), contract_id)
    allowed = [f for f in item.get("workerFields") or [] if isinstance(f, str) and f != "id"]
    fields = {f: (request.form.get(f) or "").strip()[:MAX_FIELD] for f in allowed}
    svc.issuer(lang()).put_details(svc._token(_wid()), contract_id, fields)
    return redirect(url_for("signing.offer", contract_id=contract_id), code=303)


def _purpose(contract_id: str) -> str:
    return "sign:" + contract_id


@bp.post("/contracts/<path:contract_id>/sign/options")
@login_required
def sign_options(contract_id: str) -> dict[str, Any]:
    _, _, digest = _offer(contract_id)
    challenge = base64.urlsafe_b64decode(digest + "=" * (-len(digest) % 4))
    allow = [passkeys.StoredPasskey(p.credential_id, p.public_key, p.sign_count, tuple(p.transports)) for p in store().passkeys(_wid())]
    return passkeys.authentication_options(allow=allow, challenge=challenge, purpose=_purpose(contract_id))


@bp.post("/contracts/<path:contract_id>/sign")
@login_required
def sign(contract_id: str) -> dict[str, Any]:
    wid = _wid()
    assertion = passkeys.verify_authentication((request.get_json(silent=True) or {}).get("credential") or {}, lookup,
                                               purpose=_purpose(contract_id))  # fmt: skip
    owner, pid = assertion.owner
    if owner != wid:
        raise InvalidInput("This passkey belongs to another wallet account", message_ko="다른 전자지갑 계정의 패스키입니다")
    store().used_passkey(pid, assertion.new_sign_count)
    _, draft, digest = _offer(contract_id)
    evidence = assertion.evidence()
    if evidence.get("challenge") != digest:  # the draft changed between the two requests
        raise Conflict("The contract changed while you were signing; read it again",
                       message_ko="서명하는 동안 계약서가 바뀌었습니다. 다시 읽어 주세요")  # fmt: skip
    service().sign(wid, contract_id, draft, evidence, lang())
    return {"ok": True, "next": url_for("pages.home", signed=1)}
