"""Dashboard (counts per department, project and state) and departments (system admin)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request

from agents.errors import Error
from web.i18n import current_lang

from .. import models
from ._web import actor, back, me, service, signed_in

bp = Blueprint("console_pages", __name__, url_prefix="/console")

STATES = models.CONTRACT_STATES


@bp.get("/")
@signed_in
def dashboard() -> str:
    who = me()
    svc = service()
    departments = {d.id: d for d in svc.departments() if who.may_see_department(d.id) or who.role == "clerk"}
    projects = [
        p for p in svc.projects(None if who.is_admin() else who.department_id)
        if who.may_see_project(p.id, p.department_id)
    ]  # fmt: skip
    per_project = {p.id: svc.counts(project_id=p.id).get(p.department_id, {}) for p in projects}
    per_department: dict[int, dict[str, int]] = {}
    for p in projects:
        totals = per_department.setdefault(p.department_id, {})
        for state, n in per_project[p.id].items():
            totals[state] = totals.get(state, 0) + n
    shown_departments = [d for d in departments.values() if d.id in per_department or who.may_see_department(d.id)]
    return render_template(
        "console/dashboard.html", departments=shown_departments, projects=projects, per_project=per_project,
        per_department=per_department, states=STATES, department_names={d.id: d.name(current_lang()) for d in departments.values()},
    )  # fmt: skip


@bp.get("/departments")
@signed_in
def departments() -> str:
    me().require(me().is_admin())
    return render_template("console/departments.html", departments=service().departments(), form={}, error=None)


@bp.post("/departments")
@signed_in
def create_department() -> Any:
    me().require(me().is_admin())
    form = {k: request.form.get(k, "").strip() for k in DEPARTMENT_FIELDS}
    try:
        service().create_department(
            form["slug"], form["name_ko"], form["name_en"], representative=form["representative"],
            business_number=form["business_number"], address=form["address"], phone=form["phone"], actor=actor(),
        )  # fmt: skip
    except Error as e:
        page = render_template("console/departments.html", departments=service().departments(), form=form,
                               error=e.diagnostics(current_lang()))  # fmt: skip
        return page, e.http_status
    return back(".departments")


DEPARTMENT_FIELDS = ("slug", "name_ko", "name_en", "representative", "business_number", "address", "phone")
