"""Presenting: a QR for an employer (a short link, limited time, withdrawable) and answering an
employer's OpenID4VP request (scanned with the camera here, or opened from the verifier's button on
the same device). Before anything leaves, the worker sees which credentials and items go to whom."""

from __future__ import annotations

import base64
import io

import segno
from flask import Blueprint, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

import schemas
from agents import oid4vp
from agents.errors import Error, InvalidInput

from ._web import lang, login_required, service, store, worker_id
from .pages import flatten
from .service import LINK_MINUTES, audience

bp = Blueprint("present", __name__)
MAX_REQUEST_URL = 4096


def _wid() -> str:
    wid = worker_id()
    assert wid is not None  # login_required ran first
    return wid


def qr_data_uri(text: str) -> str:
    """An SVG QR code as a data: URI (the CSP allows data: images; no inline script or style)."""
    out = io.BytesIO()
    segno.make_qr(text, error="m").save(out, kind="svg", scale=6, border=4, dark="#131416", xmldecl=False, svgns=True)
    return "data:image/svg+xml;base64," + base64.b64encode(out.getvalue()).decode("ascii")


@bp.get("/present")
@login_required
def choose() -> str:
    held = [h for h in store().credentials(_wid()) if h.status not in ("revoked",)]
    return render_template("wallet/present.html", held=held, minutes=LINK_MINUTES)


@bp.post("/present")
@login_required
def publish() -> BaseResponse | tuple[str, int]:
    wid = _wid()
    try:
        minutes = int(request.form.get("minutes") or 0)
        link = service().publish(wid, request.form.getlist("credential"), minutes)
    except (Error, ValueError) as e:
        message = e.diagnostics(lang()) if isinstance(e, Error) else str(e)
        held = [h for h in store().credentials(wid) if h.status not in ("revoked",)]
        return render_template("wallet/present.html", held=held, minutes=LINK_MINUTES, error=message), 400
    return redirect(url_for("present.shown", link_id=link.id), code=303)


@bp.get("/present/<link_id>")
@login_required
def shown(link_id: str) -> str:
    links = {p.id: p for p in store().published(_wid())}
    link = links.get(link_id)
    if link is None:
        raise InvalidInput("No such link", message_ko="그런 링크가 없습니다")
    url = service().link_url(link.id)
    return render_template("wallet/qr.html", link=link, url=url, qr=qr_data_uri(url))


@bp.post("/present/<link_id>/withdraw")
@login_required
def withdraw(link_id: str) -> BaseResponse:
    service().withdraw(_wid(), link_id)
    return redirect(url_for("pages.shares"), code=303)


# --- OpenID4VP -------------------------------------------------------------------------------------


def _request_url() -> str:
    url = (request.values.get("request") or "").strip()
    if len(url) > MAX_REQUEST_URL:
        raise InvalidInput("The request link is too long", message_ko="요청 링크가 너무 깁니다")
    return url


@bp.get("/oid4vp")
@login_required
def oid4vp_page() -> str | tuple[str, int]:
    """Without `request`: the camera page. With it: who asks for what, and the worker's choice."""
    url = _request_url()
    if not url:
        return render_template("wallet/scan.html")
    try:
        req = service().oid4vp_request(url)
        candidates = service().oid4vp_candidates(_wid(), req)
    except Error as e:
        return render_template("wallet/scan.html", error=e.diagnostics(lang())), 400
    return render_template("wallet/consent.html", url=url, req=req, audience=audience(req), candidates=candidates,
                           purpose=str(req.raw.get("purpose") or ""), labels=schemas.labels(lang()),
                           flatten=flatten)  # fmt: skip


@bp.post("/oid4vp/answer")
@login_required
def oid4vp_answer() -> str | tuple[str, int]:
    url = _request_url()
    try:
        oid4vp.parse_request_url(url)
        redirect_to = service().oid4vp_answer(_wid(), url, request.form.getlist("credential"))
    except Error as e:
        return render_template("wallet/scan.html", error=e.diagnostics(lang())), e.http_status if e.http_status < 500 else 502
    return render_template("wallet/shared.html", redirect_to=redirect_to)


@bp.post("/oid4vp/refuse")
@login_required
def oid4vp_refuse() -> BaseResponse:
    url = _request_url()
    try:
        service().oid4vp_refuse(_wid(), url)
    except Error:
        pass  # the request is gone already: refusing it needs nothing more
    return redirect(url_for("pages.shares"), code=303)
