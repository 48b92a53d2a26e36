"""The signed-in worker's pages: home (offers and credentials), one credential, share history, account.

The account page exports everything as one encrypted backup and erases the account (its data key is
destroyed: web/envelope.py); both ask for what they need again (a passphrase, the typed word).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, render_template, request, session
from werkzeug.wrappers import Response as BaseResponse

import schemas
from agents.errors import Error, InvalidInput

from . import archive, certificates
from ._web import lang, login_required, service, store, worker_id

bp = Blueprint("pages", __name__, static_folder="static", static_url_path="/static/wallet")
ERASE_WORD = {"ko": "삭제", "en": "DELETE"}


@bp.get("/")
def home() -> str:
    wid = worker_id()
    if wid is None:
        return render_template("wallet/index.html")
    return _dashboard(wid)


@login_required
def _dashboard(wid: str) -> str:
    problems: list[str] = []
    offers: list[dict[str, Any]] = []
    try:
        result = service().sync(wid, lang())
        offers = result.offers
        problems = [e.diagnostics(lang()) for e in result.problems]
    except Error as e:  # the issuer is down: the wallet still shows what it holds
        problems.append(e.diagnostics(lang()))
    held = service().refresh_status(wid)  # revoked or suspended since the last visit shows at once
    return render_template("wallet/home.html", offers=offers, held=held, problems=problems,
                           account=store().account(wid), welcome=request.args.get("welcome"))  # fmt: skip


@bp.get("/credentials/<path:credential_id>")
@login_required
def credential(credential_id: str) -> str:
    wid = worker_id()
    assert wid is not None
    held = store().credential(wid, credential_id)
    status = service().live_status(held)
    if status != held.status:
        store().set_status(wid, held.credential_id, status, held.status_reason)
    subject = held.credential.get("credentialSubject") or {}
    return render_template("wallet/credential.html", held=held, status=status, rows=flatten(subject, labels=schemas.labels(lang())),
                           labels=schemas.labels(lang()), raw=json.dumps(held.credential, ensure_ascii=False, indent=2),
                           receipt=json.dumps(held.receipt, ensure_ascii=False, indent=2) if held.receipt else "")  # fmt: skip


def flatten(value: Any, prefix: str = "", labels: Mapping[str, str] | None = None) -> list[tuple[str, str]]:
    """(label path, text) pairs of a credential subject, in document order, for a readable list;
    coded values ("hourly", "MO", true) read as their labels ("시급", "월", "가입") where there is one."""
    labels = labels or {}

    def show(v: Any, path: str) -> str:
        code = ("true" if v else "false") if isinstance(v, bool) else str(v)
        return labels.get(f"{path}.{code}") or ("✔" if v is True else "✘" if v is False else code)

    out: list[tuple[str, str]] = []
    if isinstance(value, dict):
        for k, v in value.items():
            if k in ("id", "type") and prefix == "":
                continue
            out.extend(flatten(v, f"{prefix}.{k}" if prefix else k, labels))
    elif isinstance(value, list):
        if all(not isinstance(v, dict | list) for v in value):
            out.append((prefix, ", ".join(show(v, prefix) for v in value)))
        else:
            for v in value:
                out.extend(flatten(v, prefix, labels))
    elif value is not None:
        out.append((prefix, show(value, prefix)))
    return out


@bp.get("/shares")
@login_required
def shares() -> str:
    wid = worker_id()
    assert wid is not None
    return render_template("wallet/shares.html", shares=store().shares(wid), links=store().published(wid),
                           now=datetime.now(UTC), link_url=service().link_url)  # fmt: skip


@bp.get("/account")
@login_required
def account() -> str:
    wid = worker_id()
    assert wid is not None
    return render_template("wallet/account.html", account=store().account(wid), passkeys=store().passkeys(wid),
                           erase_word=ERASE_WORD[lang()], min_passphrase=archive.MIN_PASSPHRASE)  # fmt: skip


@bp.post("/account/export")
@login_required
def export() -> Response | tuple[str, int]:
    wid = worker_id()
    assert wid is not None
    passphrase = request.form.get("passphrase") or ""
    try:
        if passphrase != (request.form.get("passphrase2") or ""):
            raise InvalidInput("The two passphrases differ", message_ko="두 번 입력한 암호가 다릅니다")
        data = archive.export(store(), wid, passphrase, _export_files(wid))
    except Error as e:
        return render_template("wallet/account.html", account=store().account(wid), passkeys=store().passkeys(wid),
                               erase_word=ERASE_WORD[lang()], min_passphrase=archive.MIN_PASSPHRASE,
                               error=e.diagnostics(lang())), e.http_status  # fmt: skip
    name = f"workcred-wallet-{datetime.now(UTC):%Y%m%d}.wcwallet"
    return Response(data, mimetype="application/octet-stream",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})  # fmt: skip


def _export_files(wid: str) -> dict[str, bytes]:
    """The contract PDFs (from the issuer) and the PDF of every certificate whose link still works."""
    files = service().export_files(wid, lang())
    now = datetime.now(UTC)
    for link in store().published(wid):
        if link.purpose == "certificate" and link.withdrawn_at is None and link.expires_at > now:
            try:
                files[f"certificate-{link.id}.pdf"] = certificates.certificate_pdf(service(), wid, link.id, lang())
            except Error:
                continue  # the backup still holds the certificate credential itself
    return files


@bp.post("/account/erase")
@login_required
def erase() -> BaseResponse | tuple[str, int]:
    wid = worker_id()
    assert wid is not None
    if (request.form.get("confirm") or "").strip() not in ERASE_WORD.values():
        err = InvalidInput("Type the word shown to confirm", message_ko="확인을 위해 안내된 단어를 입력하세요")
        return render_template("wallet/account.html", account=store().account(wid), passkeys=store().passkeys(wid),
                               erase_word=ERASE_WORD[lang()], min_passphrase=archive.MIN_PASSPHRASE,
                               erase_error=err.diagnostics(lang())), 400  # fmt: skip
    store().erase(wid)
    session.clear()
    resp = Response(render_template("wallet/erased.html"))
    resp.headers["Clear-Site-Data"] = '"cache", "storage"'
    return resp


@bp.get("/p/<link_id>")
def published(link_id: str) -> Response:
    """A published presentation (the QR's short link), public until it expires or is withdrawn."""
    body = store().open_published(link_id)
    resp = Response(json.dumps(body, ensure_ascii=False), mimetype="application/json")
    resp.headers["Access-Control-Allow-Origin"] = "*"
    return resp
