"""The audit trail in the staff member's scope, its CSV/XLSX export (cells that start with = + - @
neutralised by issuer/roster.py's exporters), and the development outbox page."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, abort, current_app, render_template, request

from .. import roster
from ._projects import visible_project
from ._web import actor, me, service, signed_in

bp = Blueprint("console_audit", __name__, url_prefix="/console")
LIMIT = 200
EXPORT_LIMIT = 10_000
HEADER = ("at", "actor", "action", "target", "ip", "personal_data", "log_index", "detail")


def _scope() -> tuple[Any, dict[str, int]]:
    """(the chosen project or None, the audit_trail filter of this staff member's scope)."""
    who = me()
    project_id = request.args.get("project", type=int)
    if project_id is not None:
        project = visible_project(project_id)
        return project, {"project_id": project.id}
    if who.is_admin():
        return None, {}
    if who.role == "manager" and who.department_id is not None:
        return None, {"department_id": who.department_id}
    if not who.project_ids:
        me().require(False)
    return visible_project(min(who.project_ids)), {"project_id": min(who.project_ids)}


def _projects() -> list[Any]:
    who = me()
    return [p for p in service().projects(None if who.is_admin() else who.department_id)
            if who.may_see_project(p.id, p.department_id)]  # fmt: skip


@bp.get("/audit")
@signed_in
def audit() -> str:
    project, scope = _scope()
    events = service().audit_trail(limit=LIMIT, **scope)
    return render_template("console/audit.html", events=events, project=project, projects=_projects())


@bp.get("/audit/export.<fmt>")
@signed_in
def export(fmt: str) -> Response:
    if fmt not in ("csv", "xlsx"):
        abort(404)
    project, scope = _scope()
    events = service().audit_trail(limit=EXPORT_LIMIT, **scope)
    rows = [(e.at.isoformat(), e.actor, e.action, e.target, e.ip, e.personal_data,
             "" if e.log_index is None else e.log_index, json.dumps(e.detail, ensure_ascii=False)) for e in events]  # fmt: skip
    name = f"audit-{project.id if project else 'all'}.{fmt}"
    if fmt == "csv":
        body, mime = roster.export_csv(HEADER, rows), "text/csv"
    else:
        body, mime = roster.export_xlsx(HEADER, rows, title="audit"), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Response(body, mimetype=mime, headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.get("/outbox")
@signed_in
def outbox() -> str:
    if not current_app.config["WORKCRED"].dev:
        abort(404)  # production sends through the configured SMS/e-mail senders; nothing to show
    me().require(me().is_admin())
    return render_template("console/outbox.html", messages=service().outbox_messages(limit=100, actor=actor()))
