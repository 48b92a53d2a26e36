"""Roster import: upload CSV/XLSX -> the per-row validation report (nothing created yet) -> confirm.

Between the two steps the file waits sealed under the issuer's master key (a data key of its own)
in the data directory, named by a random token kept in the session; confirming or an hour's age
deletes it. The parser and the checks are issuer/roster.py, the import issuer.service."""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, current_app, render_template, request, session

import schemas
from agents.errors import Error, InvalidInput
from web import db, envelope
from web.i18n import current_lang

from .. import roster
from ._projects import visible_project
from ._web import actor, service, signed_in

bp = Blueprint("console_roster", __name__, url_prefix="/console/projects/<int:project_id>/roster")
SESSION_KEY = "roster_uploads"
KEEP_SECONDS = 3600


@bp.url_value_preprocessor
def _allow_large_upload(endpoint: str | None, values: dict[str, Any] | None) -> None:
    # runs before the CSRF check parses the form: a roster may be 10 MB, other forms stay at 2 MB
    if endpoint == "console_roster.check":
        request.max_content_length = roster.MAX_BYTES + 256 * 1024


def _upload_dir() -> Path:
    configured = current_app.config.get("ROSTER_UPLOAD_DIR")
    folder = Path(configured or Path(os.environ.get("WORKCRED_DATA_DIR") or db.DEFAULT_DATA_DIR) / "roster-uploads")
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder


def _keep(project_id: int, data: bytes) -> str:
    folder = _upload_dir()
    for old in folder.iterdir():  # forgotten uploads do not pile up
        if old.stat().st_mtime < time.time() - KEEP_SECONDS:
            old.unlink(missing_ok=True)
    token = secrets.token_urlsafe(24)
    dek, wrapped = service().kek.new_wrapped_key(f"roster-upload|{token}")
    sealed = envelope.seal(dek, data, f"roster-upload|{token}|{project_id}")
    (folder / token).write_bytes(len(wrapped).to_bytes(2, "big") + wrapped + sealed)
    uploads = dict(session.get(SESSION_KEY) or {})
    uploads[str(project_id)] = token
    session[SESSION_KEY] = uploads
    return token


def _take(project_id: int) -> bytes:
    uploads = dict(session.get(SESSION_KEY) or {})
    token = uploads.pop(str(project_id), None)
    session[SESSION_KEY] = uploads
    path = _upload_dir() / token if isinstance(token, str) and token.replace("-", "").replace("_", "").isalnum() else None
    if path is None or not path.is_file() or path.stat().st_mtime < time.time() - KEEP_SECONDS:
        raise InvalidInput("the checked file has expired; upload it again",
                           message_ko="확인한 파일의 보관 시간이 지났습니다. 파일을 다시 올리세요")  # fmt: skip
    raw = path.read_bytes()
    path.unlink(missing_ok=True)
    size = int.from_bytes(raw[:2], "big")
    dek = service().kek.unwrap(raw[2 : 2 + size], f"roster-upload|{token}")
    return envelope.open(dek, raw[2 + size :], f"roster-upload|{token}|{project_id}")


@bp.get("/")
@signed_in
def upload(project_id: int) -> str:
    project = visible_project(project_id)
    columns = roster.columns_for(schemas.template(project.template_variant))
    return render_template("console/roster.html", project=project, columns=columns, outcome=None, error=None)


@bp.get("/template.csv")
@signed_in
def template(project_id: int) -> Response:
    project = visible_project(project_id)
    body = roster.template_csv(schemas.template(project.template_variant))
    return Response(body, mimetype="text/csv", headers={"Content-Disposition": f'attachment; filename="roster-{project.id}.csv"'})


@bp.post("/")
@signed_in
def check(project_id: int) -> Any:
    project = visible_project(project_id)
    columns = roster.columns_for(schemas.template(project.template_variant))
    upload_file = request.files.get("file")
    try:
        if upload_file is None or not upload_file.filename:
            raise InvalidInput("choose a CSV or XLSX file", message_ko="CSV 또는 XLSX 파일을 고르세요")
        data = upload_file.read(roster.MAX_BYTES + 1)
        outcome = service().import_roster(project.id, data, filename=upload_file.filename, dry_run=True, actor=actor())
    except Error as e:
        page = render_template("console/roster.html", project=project, columns=columns, outcome=None, error=e.diagnostics(current_lang()))
        return page, e.http_status
    if outcome.report.rows:
        _keep(project.id, data)
    return render_template("console/roster.html", project=project, columns=columns, outcome=outcome, error=None,
                           filename=upload_file.filename)  # fmt: skip


@bp.post("/confirm")
@signed_in
def confirm(project_id: int) -> Any:
    project = visible_project(project_id)
    columns = roster.columns_for(schemas.template(project.template_variant))
    try:
        data = _take(project.id)
        outcome = service().import_roster(project.id, data, filename=request.form.get("filename", ""), actor=actor())
    except Error as e:
        page = render_template("console/roster.html", project=project, columns=columns, outcome=None, error=e.diagnostics(current_lang()))
        return page, e.http_status
    return render_template("console/roster_done.html", project=project, outcome=outcome)
