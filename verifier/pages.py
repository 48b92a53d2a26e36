"""The employer's pages: three ways in (camera scan, upload, paste), asking for a presentation, the verdict.

Nothing presented through these pages is stored: a scanned, uploaded or pasted document is verified
and rendered in the same response. Answers to a request live only as long as the request does (the
service purges them). Every view catches `agents.errors.Error` and shows its message; a bug is a 500.
"""

from __future__ import annotations

import io
import re
import urllib.parse
from pathlib import Path
from typing import Any

import segno
from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    send_file,
    session,
    url_for,
)
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response as BaseResponse

from agents import certificate
from agents.errors import Error, InvalidInput
from agents.report import Verdict
from web.config import peer_url
from web.db import DEFAULT_DATA_DIR
from web.i18n import current_lang, load_catalogs, translate

from . import intake

HERE = Path(__file__).parent
# the sample's file names, as workcred/demo.py writes them (the roles share only the data directory)
SAMPLE_DIR = "demo"
SAMPLE_PDF, SAMPLE_PDF_EN, SAMPLE_JSON = "sample-certificate.pdf", "sample-certificate.en.pdf", "sample-presentation.json"
SAMPLE_LINK_PATH = "/sample/presentation.json"
bp = Blueprint("pages", __name__, template_folder="templates", static_folder="static", static_url_path="/verifier-assets")

UPLOAD_LIMIT = intake.MAX_IMAGE_BYTES + 64 * 1024  # the largest file plus the form around it
ASKS_KEPT = 5
YEARS_CHOICES = (1, 3, 5, 10)

#: how each verdict looks: CSS modifier and icon (colour is never the only signal: text and icon too)
VERDICT_STYLE = {
    Verdict.VALID: ("success", "✓"),
    Verdict.REVOKED: ("danger", "✕"),
    Verdict.SUSPENDED: ("warning", "!"),
    Verdict.EXPIRED: ("warning", "!"),
    Verdict.NOT_YET_VALID: ("warning", "!"),
    Verdict.UNTRUSTED_ISSUER: ("danger", "✕"),
    Verdict.TAMPERED: ("danger", "✕"),
    Verdict.MALFORMED: ("danger", "✕"),
    Verdict.INVALID: ("danger", "✕"),
    Verdict.UNCONFIRMED: ("warning", "?"),  # amber: the signature holds, the registry could not be asked
}
#: the order checks are listed in: what went wrong first, so the reason is at the top, not at check 10
_OUTCOME_ORDER = {"fail": 0, "unconfirmed": 1, "pass": 2, "skip": 3}


@bp.record_once
def _setup(state: Any) -> None:
    """Add the pages' messages to the app's catalogs and make the QR-link follower."""
    app: Flask = state.app
    catalogs = app.extensions.get("workcred.i18n")
    if catalogs is not None:
        for lang, messages in load_catalogs(HERE / "templates" / "i18n").items():
            for key, text in messages.items():
                catalogs.setdefault(lang, {}).setdefault(key, text)
    config = app.config["WORKCRED"]
    hosts = app.extensions["verifier"].settings.allow_hosts  # the one allow-list (TRUSTED_HOSTS + registry)
    if config.dev and _sample_dir(app) is not None:
        # the demo certificate's QR links to this verifier's own copy of the sample (development only)
        own = urllib.parse.urlsplit(app.extensions["verifier"].settings.base_url).netloc
        hosts = (*hosts, own) if own and own not in hosts else hosts
    app.extensions["verifier.follower"] = intake.LinkFollower(hosts, dev=config.dev)


def _sample_dir(app: Flask) -> Path | None:
    """Where `make run` put the demo certificate (workcred/demo.py), in development only.

    WORKCRED_VERIFIER_DEMO_DIR, default `$WORKCRED_DATA_DIR/demo`; never used by a production verifier.
    """
    config = app.config["WORKCRED"]
    if not config.dev:
        return None
    return Path(config.extra.get("demo_dir") or DEFAULT_DATA_DIR / SAMPLE_DIR)


def _sample_file(name: str) -> Path | None:
    folder = _sample_dir(current_app)
    path = folder / name if folder is not None else None
    return path if path is not None and path.is_file() else None


def _service() -> Any:
    return current_app.extensions["verifier"]


def _follower() -> intake.LinkFollower:
    follower: intake.LinkFollower = current_app.extensions["verifier.follower"]
    return follower


# --- rendering -------------------------------------------------------------------------------------


def _style(verdict: str) -> tuple[str, str]:
    try:
        return VERDICT_STYLE[Verdict(verdict)]
    except ValueError:
        return ("danger", "✕")


def _documents(doc: dict[str, Any] | None) -> list[dict[str, Any]]:
    if not isinstance(doc, dict):
        return []
    if "VerifiablePresentation" in intake.as_list(doc.get("type")):
        return [v for v in intake.as_list(doc.get("verifiableCredential")) if isinstance(v, dict)]
    return [doc]


def _shown_credentials(docs: list[dict[str, Any]], lang: str) -> list[dict[str, Any]]:
    """What the page shows of each credential: its kind, issuer and items (never stored)."""
    import schemas

    labels = schemas.labels(lang)
    out = []
    for vc in docs:
        types = [t for t in intake.as_list(vc.get("type")) if isinstance(t, str) and t != "VerifiableCredential"]
        out.append(
            {
                "kind": ", ".join(labels.get(t, t) for t in types) or "VerifiableCredential",
                "issuer": certificate.issuer_name(vc),
                "items": certificate.credential_items(vc, lang, labels),
            }
        )
    return out


def _check_key(check: dict[str, Any]) -> str:
    """The page's label key of a check: its id without the index, a status check by its purpose."""
    key = re.sub(r"\[\d+\]$", "", str(check.get("id", "")))
    purpose = (check.get("details") or {}).get("purpose") if isinstance(check.get("details"), dict) else None
    return f"{key}.{purpose}" if key == "status" and purpose in ("revocation", "suspension") else key


def _shown_check(check: dict[str, Any], lang: str, source: str) -> dict[str, Any]:
    """A check in an employer's words: the page's own title, and for a pass its plain reason.

    The report (the API's answer) keeps its precise wording; a failure's or skip's reason is
    specific to the case, so it is shown as the report gives it (except replay on a certificate).
    """
    key, outcome = _check_key(check), check.get("outcome")
    title = (check.get("title") or {}).get(lang, "")
    reason = (check.get("reason") or {}).get(lang, "")
    title = translate(f"v.check.{key}.title", lang, default=title)
    if outcome == "pass":
        reason = translate(f"v.check.{key}.pass", lang, default=reason)
    elif outcome == "skip" and key == "replay" and source != "request":
        reason = translate("v.check.replay.skip", lang)
    detail = (check.get("detail") or {}).get(lang, "") if isinstance(check.get("detail"), dict) else ""
    return {"outcome": outcome, "title": title, "reason": reason, "detail": detail, "id": check.get("id")}


def _verdict_page(report: dict[str, Any], documents: list[dict[str, Any]], *, source: str, status: int | None = None) -> tuple[str, int]:
    lang = current_lang()
    modifier, icon = _style(str(report.get("verdict", "invalid")))
    shown = _shown_credentials(documents, lang)
    presentation = report.get("kind") != "credential"

    def checks(items: Any) -> list[dict[str, Any]]:
        shown = [_shown_check(c, lang, source) for c in items or [] if isinstance(c, dict)]
        return sorted(shown, key=lambda c: _OUTCOME_ORDER.get(str(c["outcome"]), 4))

    groups = [{"title": translate("v.verdict.presentation", lang) if presentation else None, "checks": checks(report.get("checks"))}]
    for i, sub in enumerate(report.get("credentials", []) or [], 1):
        kind = shown[i - 1]["kind"] if i <= len(shown) else ""
        title = translate("v.verdict.credential_kind", lang, n=i, kind=kind) if kind else translate("v.verdict.credential_n", lang, n=i)
        groups.append({"title": title, "checks": checks(sub.get("checks")), "verdict": sub.get("verdict")})
    html = render_template(
        "verifier/verdict.html",
        report=report,
        summary=(report.get("summary") or {}).get(lang, ""),
        modifier=modifier,
        icon=icon,
        groups=groups,
        credentials=shown,
        source=source,
    )
    # 200 for a verdict either way: the page answered; the verdict itself says "not valid"
    return html, status or 200


def _home(error: Error | None = None, *, status: int = 200, active: str = "", pasted: str = "") -> tuple[str, int]:
    message = error.diagnostics(current_lang()) if error else None
    sample = _sample_file(SAMPLE_PDF) is not None
    html = render_template("verifier/home.html", error=message, active=active, years_choices=YEARS_CHOICES, sample=sample, pasted=pasted)
    return html, status


def _verify(got: intake.Intake) -> dict[str, Any]:
    # what came through the one parse step; an employer checks who presents (holder binding on)
    report = _service().verify(got.submission, holder_binding=True)
    result: dict[str, Any] = report.to_json()
    return result


def _answer(make: Any, active: str, pasted: str = "") -> tuple[str, int]:
    try:
        got: intake.Intake = make()
        return _verdict_page(_verify(got), _documents(got.document), source=got.source)
    except Error as e:
        # the pasted text comes back in the form (never stored), so the employer can correct it
        return _home(e, status=e.http_status if 400 <= e.http_status < 500 else 502, active=active, pasted=pasted)


# --- the three ways in -----------------------------------------------------------------------------


@bp.get("/")
def home() -> tuple[str, int]:
    return _home()


@bp.get("/scan")
def scan() -> str:
    return render_template("verifier/scan.html")


@bp.post("/scan")
def scan_submit() -> tuple[str, int]:
    text = request.form.get("qr", "")[:2048]
    try:
        got = intake.from_qr_text(text, _follower())
        return _verdict_page(_verify(got), _documents(got.document), source=got.source)
    except Error as e:
        # the employer stays on the scan page, with the message and the address that failed
        status = e.http_status if 400 <= e.http_status < 500 else 502
        return render_template("verifier/scan.html", error=e.diagnostics(current_lang()), qr=text), status


@bp.before_app_request
def _upload_limit() -> None:
    # only the upload form may send more than the app-wide body cap
    if request.endpoint == "pages.upload":
        request.max_content_length = UPLOAD_LIMIT


@bp.post("/upload")
def upload() -> tuple[str, int]:
    try:
        file = request.files.get("file")
    except RequestEntityTooLarge:
        return _home(_too_large(), status=413, active="upload")
    if file is None or not file.filename and not file.content_length:
        return _home(InvalidInput("choose a file to upload", message_ko="올릴 파일을 선택하세요"), status=400, active="upload")
    data = file.stream.read(intake.MAX_IMAGE_BYTES + 1)
    return _answer(lambda: intake.from_upload(data, _follower()), "upload")


@bp.post("/paste")
def paste() -> tuple[str, int]:
    text = request.form.get("document", "")
    # the text comes back whole (the request body cap bounds it), so the employer can correct it
    return _answer(lambda: intake.from_paste(text, _follower()), "paste", pasted=text)


# --- the demo certificate (make run) ----------------------------------------------------------------


@bp.get("/sample/certificate.pdf")
def sample_certificate() -> BaseResponse:
    en = current_lang() == "en" and _sample_file(SAMPLE_PDF_EN) is not None
    path = _sample_file(SAMPLE_PDF_EN if en else SAMPLE_PDF)
    if path is None:
        abort(404)
    name = "workcred-sample-certificate" + ("-en" if en else "") + ".pdf"
    return send_file(path, mimetype="application/pdf", as_attachment=True, download_name=name, max_age=0)


@bp.get(SAMPLE_LINK_PATH)
def sample_presentation() -> BaseResponse:
    """What the sample certificate's QR links to: the presentation "published" for the demo."""
    path = _sample_file(SAMPLE_JSON)
    if path is None:
        abort(404)
    return send_file(path, mimetype="application/json", max_age=0)


@bp.post("/sample")
def sample_check() -> tuple[str, int]:
    path = _sample_file(SAMPLE_PDF)
    if path is None:
        return _home(InvalidInput("there is no sample certificate on this server", message_ko="이 서버에는 샘플 증명서가 없습니다"), status=404)
    data = path.read_bytes()
    return _answer(lambda: intake.from_upload(data, _follower()), "upload")


def _too_large() -> InvalidInput:
    shown = intake.shown_size(intake.MAX_IMAGE_BYTES)
    return InvalidInput(f"The file is larger than {shown}, the limit.", message_ko=f"파일이 {shown}보다 큽니다. {shown} 이하의 파일을 올리세요.")


@bp.app_errorhandler(RequestEntityTooLarge)
def _entity_too_large(e: RequestEntityTooLarge) -> Any:
    if request.endpoint == "pages.paste":  # larger than any request body: the text cannot come back
        shown = intake.shown_size(intake.MAX_PASTE_BYTES)
        error = InvalidInput(f"The pasted text is larger than {shown}, the limit.", message_ko=f"붙여 넣은 내용이 {shown}보다 큽니다. {shown} 이하로 줄여서 다시 시도하세요.")
        return _home(error, status=413, active="paste")
    if request.blueprint == "pages":
        return _home(_too_large(), status=413, active="upload")
    return e


# --- asking for a presentation (OpenID4VP) ---------------------------------------------------------


@bp.post("/ask")
def ask() -> BaseResponse | tuple[str, int]:
    try:
        years = int(request.form.get("years", "3"))
    except ValueError:
        years = -1
    purpose = request.form.get("purpose", "")[:200]
    try:
        created = _service().create_request(years=years, purpose=purpose)
    except Error as e:
        return _home(e, status=e.http_status if 400 <= e.http_status < 500 else 502, active="ask")
    asks = dict(session.get("asks") or {})
    asks[created.id] = created.status_url.split("token=", 1)[1]
    session["asks"] = dict(list(asks.items())[-ASKS_KEPT:])  # the status token never leaves this browser
    session["ask_meta"] = {created.id: {"url": created.url, "expires": created.expires_at.isoformat(), "years": years, "purpose": purpose}}
    return redirect(url_for("pages.ask_page", request_id=created.id), code=303)


def _token(request_id: str) -> str:
    token = (session.get("asks") or {}).get(request_id)
    if not isinstance(token, str):
        abort(404)
    return token


@bp.get("/ask/<request_id>")
def ask_page(request_id: str) -> BaseResponse | tuple[str, int]:
    token = _token(request_id)
    meta = (session.get("ask_meta") or {}).get(request_id)
    try:
        status = _service().request_status(request_id, token)
    except Error as e:
        return _home(e, status=e.http_status if 400 <= e.http_status < 500 else 502, active="ask")
    if status.get("status") == "answered":
        return redirect(url_for("pages.ask_result", request_id=request_id), code=303)
    if meta is None or status.get("status") == "expired":
        return _home(InvalidInput("the request has expired; make a new one", message_ko="요청 유효시간이 지났습니다. 새로 요청하세요"), status=410, active="ask")
    svg = io.BytesIO()
    segno.make_qr(meta["url"], error="m").save(svg, kind="svg", scale=6, border=4, dark="#131416", xmldecl=False, svgns=True)
    return render_template(
        "verifier/ask.html",
        request_id=request_id,
        qr_svg_data="data:image/svg+xml;base64," + _b64(svg.getvalue()),
        wallet_url=_same_device_url(meta["url"]),
        expires=status.get("expiresAt", meta["expires"]),
        years=meta.get("years"),
        purpose=meta.get("purpose", ""),
        status_url=url_for("oid4vp.request_status", request_id=request_id, token=token),
        result_url=url_for("pages.ask_result", request_id=request_id),
    ), 200


def _same_device_url(request_url: str) -> str:
    """The worker's wallet page that answers this request (the "open in this device's wallet" button)."""
    wallet = peer_url(current_app.config["WORKCRED"], "wallet")
    return f"{wallet}/oid4vp?" + urllib.parse.urlencode({"request": request_url})


@bp.get("/ask/<request_id>/result")
def ask_result(request_id: str) -> BaseResponse | tuple[str, int]:
    token = _token(request_id)
    try:
        status = _service().request_status(request_id, token)
    except Error as e:
        return _home(e, status=e.http_status if 400 <= e.http_status < 500 else 502, active="ask")
    if status.get("status") == "pending":
        return redirect(url_for("pages.ask_page", request_id=request_id), code=303)
    report = status.get("report")
    if status.get("status") != "answered" or not isinstance(report, dict):
        return _home(InvalidInput("the request has expired and what was presented has been erased", message_ko="요청 유효시간이 지나 제출된 내용은 삭제되었습니다"), status=410, active="ask")
    docs = _presented_documents(status.get("presented"))
    return _verdict_page(report, docs, source="request")


def _presented_documents(presented: Any) -> list[dict[str, Any]]:
    """The service gives the presented credentials' subjects; shape them as credentials for display."""
    out = []
    for item in presented if isinstance(presented, list) else []:
        if isinstance(item, dict) and "credentialSubject" in item:
            out.append(item)
        elif isinstance(item, dict):
            out.append({"type": item.get("type", []), "issuer": item.get("issuer", ""), "credentialSubject": item.get("subject", item)})
    return out


def _b64(data: bytes) -> str:
    import base64

    return base64.b64encode(data).decode("ascii")
