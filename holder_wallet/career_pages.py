"""Career management (경력 관리) and the career certificate (경력증명서) pages.

`/career` is the timeline with totals and filters (holder_wallet/career.py does the arithmetic);
`/career/certificate` picks career records and items and asks the city for a certificate
(holder_wallet/certificates.py); `/career/certificates/<link>` shows the published certificate with
its QR, the PDF download and the withdraw button.
"""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from agents.errors import Error, InvalidInput

from . import career, certificates
from ._web import lang, login_required, service, store, worker_id
from .present import qr_data_uri
from .service import CERTIFICATE_MINUTES

bp = Blueprint("career", __name__)
SEOUL = ZoneInfo("Asia/Seoul")


@bp.app_template_filter("career_date")
def career_date(value: date) -> str:
    """2026. 3. 2. in Korean, 2 Mar 2026 in English."""
    return f"{value.year}. {value.month}. {value.day}." if lang() == "ko" else f"{value.day} {value:%b} {value.year}"


def _wid() -> str:
    wid = worker_id()
    assert wid is not None  # login_required ran first
    return wid


def _year() -> int | None:
    raw = request.args.get("year", "")
    if not raw:
        return None
    if not raw.isdigit() or not 1900 <= int(raw) <= 2200:
        raise InvalidInput("the year is not a year", message_ko="연도가 올바르지 않습니다")
    return int(raw)


@bp.get("/career")
@login_required
def timeline() -> str:
    today = service().clock().astimezone(SEOUL).date()  # the worker's today, not UTC's
    project = request.args.get("project") or None
    view = career.build(store().summaries(_wid()), today=today, year=_year(), project=project)
    return render_template("wallet/career.html", view=view, year=_year(), project=project,
                           total=career.format_span(view.total, lang()), today=today)  # fmt: skip


def _form(error: str | None = None, status: int = 200) -> tuple[str, int]:
    wid = _wid()
    records = [h for h in store().credentials(wid, "career") if h.status != "revoked"]
    held = [h for h in store().credentials(wid, "certificate") if h.status != "revoked"]
    picked = set(request.form.getlist("item")) if request.method == "POST" else set(certificates.DEFAULT_ITEMS)
    return render_template("wallet/certificate_form.html", records=records, held=held, items=certificates.ITEMS,
                           picked=picked, minutes=CERTIFICATE_MINUTES, error=error), status  # fmt: skip


@bp.get("/career/certificate")
@login_required
def form() -> tuple[str, int]:
    return _form()


@bp.post("/career/certificate")
@login_required
def make() -> BaseResponse | tuple[str, int]:
    """Ask the city for a certificate with the picked items, then publish and show it."""
    wid = _wid()
    try:
        minutes = int(request.form.get("minutes") or 0)
        held = certificates.request_certificate(service(), wid, request.form.getlist("record"), request.form.getlist("item"),
                                                lang(), request.form.get("purpose", ""))  # fmt: skip
        link = certificates.publish_certificate(service(), wid, held.credential_id, minutes)
    except (Error, ValueError) as e:
        return _form(e.diagnostics(lang()) if isinstance(e, Error) else str(e), 400)
    return redirect(url_for("career.shown", link_id=link.id), code=303)


@bp.post("/career/certificates")
@login_required
def reprint() -> BaseResponse | tuple[str, int]:
    """A certificate already held, published again (a new link and fresh receipts)."""
    try:
        minutes = int(request.form.get("minutes") or 0)
        link = certificates.publish_certificate(service(), _wid(), request.form.get("certificate", ""), minutes)
    except (Error, ValueError) as e:
        return _form(e.diagnostics(lang()) if isinstance(e, Error) else str(e), 400)
    return redirect(url_for("career.shown", link_id=link.id), code=303)


@bp.get("/career/certificates/<link_id>")
@login_required
def shown(link_id: str) -> str:
    link = certificates.certificate_link(service(), _wid(), link_id)
    body = store().open_published(link.id)  # NotFound (404 page) once expired or withdrawn
    vcs = body["verifiablePresentation"].get("verifiableCredential") or []
    rows = [pair for vc in (vcs if isinstance(vcs, list) else [vcs]) for pair in _items(vc)]
    url = service().link_url(link.id)
    return render_template("wallet/certificate.html", link=link, url=url, qr=qr_data_uri(url), rows=rows)


def _items(vc: object) -> list[tuple[str, str]]:
    from agents.certificate import credential_items

    return credential_items(vc, lang()) if isinstance(vc, dict) else []


@bp.get("/career/certificates/<link_id>.pdf")
@login_required
def pdf(link_id: str) -> Response:
    chosen = request.args.get("lang") or lang()
    if chosen not in ("ko", "en"):
        raise InvalidInput("the PDF comes in Korean or English", message_ko="PDF는 한국어 또는 영어로 만들 수 있습니다")
    data = certificates.certificate_pdf(service(), _wid(), link_id, chosen)
    name = f"career-certificate-{date.today().isoformat()}-{chosen}.pdf"
    return Response(data, mimetype="application/pdf", headers={"Content-Disposition": f'attachment; filename="{name}"'})
