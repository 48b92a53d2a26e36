"""Projects: the list in scope, create (admin, manager), edit basics and the template's defaults
(clerks of the project too), with the legal check's findings next to each field."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request, url_for

import schemas
from agents.errors import Error
from web.i18n import current_lang

from ..service import ProjectView
from . import _forms
from ._web import actor, back, me, service, signed_in

bp = Blueprint("console_projects", __name__, url_prefix="/console/projects")


def visible_project(project_id: int) -> ProjectView:
    """The project, if the signed-in staff member may see it (403 otherwise, 404 when there is none)."""
    project = service().project(project_id)
    me().require(me().may_see_project(project.id, project.department_id))
    return project


def _departments_for_create() -> list[Any]:
    who = me()
    return [d for d in service().departments() if who.may_create_project(d.id)]


@bp.get("/")
@signed_in
def projects() -> str:
    who = me()
    rows = [p for p in service().projects(None if who.is_admin() else who.department_id)
            if who.may_see_project(p.id, p.department_id)]  # fmt: skip
    names = {d.id: d.name(current_lang()) for d in service().departments()}
    return render_template("console/projects.html", projects=rows, department_names=names,
                           may_create=bool(_departments_for_create()))  # fmt: skip


@bp.get("/new")
@signed_in
def new_project() -> str:
    departments = _departments_for_create()
    me().require(bool(departments))
    return _render_form(None, {"template_variant": "part-time"}, {}, departments=departments)


@bp.post("/new")
@signed_in
def create_project() -> Any:
    departments = _departments_for_create()
    dept_id = request.form.get("department_id", type=int)
    me().require(any(d.id == dept_id for d in departments))
    basics, errors = _forms.parse_basics(request.form)
    if errors:
        return _render_form(None, request.form, errors, departments=departments), 400
    assert dept_id is not None
    try:
        project = service().create_project(
            dept_id, basics["name"], basics["start_date"], basics["end_date"],
            template_variant=basics["template_variant"], budget_line=basics["budget_line"],
            workplaces=basics["workplaces"], position=basics["position"], actor=actor(),
        )  # fmt: skip
    except Error as e:
        return _render_form(None, request.form, {}, departments=departments, problem=e.diagnostics(current_lang())), e.http_status
    return back(".project", project_id=project.id)


@bp.get("/<int:project_id>")
@signed_in
def project(project_id: int) -> str:
    p = visible_project(project_id)
    values = _forms.current_values(p.template_variant, p.template_overrides)
    violations = service().template_violations(p.id)
    return _render_form(p, _basics_of(p), {}, values=values, violations=violations)


@bp.post("/<int:project_id>")
@signed_in
def save_project(project_id: int) -> Any:
    p = visible_project(project_id)
    basics, errors = _forms.parse_basics(request.form)
    variant = basics["template_variant"] if "template_variant" not in errors else p.template_variant
    parsed = _forms.parse_defaults(variant, request.form)
    if errors or parsed.errors:
        return _render_form(p, request.form, errors, values=parsed.values, input_errors=parsed), 400
    svc = service()
    try:
        svc.update_project(p.id, name=basics["name"], start_date=basics["start_date"], end_date=basics["end_date"],
                           budget_line=basics["budget_line"], workplaces=basics["workplaces"],
                           position=basics["position"], actor=actor())  # fmt: skip
        violations = svc.set_template(p.id, variant, parsed.overrides, actor=actor())
    except Error as e:
        page = _render_form(p, request.form, {}, values=parsed.values, problem=e.diagnostics(current_lang()))
        return page, e.http_status
    if any(v.severity == "error" for v in violations):
        # saved, so the clerk can come back to it; shown again with each finding next to its field
        p = svc.project(p.id)
        return _render_form(p, _basics_of(p), {}, values=parsed.values, violations=violations, saved=True), 422
    return back(".project", project_id=p.id, saved=1)


def _basics_of(p: ProjectView) -> dict[str, Any]:
    return {
        "name": p.name, "start_date": p.start_date.isoformat(), "end_date": p.end_date.isoformat(),
        "budget_line": p.budget_line, "workplaces": "\n".join(p.workplaces), "position": p.position,
        "template_variant": p.template_variant, "department_id": p.department_id,
    }  # fmt: skip


def _render_form(
    p: ProjectView | None, basics: Any, errors: dict[str, tuple[str, str]], *, departments: list[Any] | None = None,
    values: dict[str, Any] | None = None, violations: list[Any] | None = None,
    input_errors: _forms.ProjectForm | None = None, problem: str | None = None, saved: bool = False,
) -> str:  # fmt: skip
    lang = current_lang()
    variant = (basics.get("template_variant") if basics else None) or (p.template_variant if p else "part-time")
    if variant not in _forms.VARIANTS:
        variant = "part-time"
    placed, rest = _forms.violations_by_field(violations or [], variant)
    return render_template(
        "console/project.html", project=p, basics=basics, errors={k: v[1] if lang == "en" else v[0] for k, v in errors.items()},
        departments=departments or [], variant=variant, variants=[(v, schemas.template(v)["title"][lang]) for v in _forms.VARIANTS],
        fields=_forms.fields_for(variant) if p else [], values=values or {}, placed=placed, rest=rest,
        input_errors=input_errors or _forms.ProjectForm(), labels=schemas.labels(lang), days=_forms.DAYS,
        wage_types=_forms.WAGE_TYPES, has_schedule=_forms.SCHEDULE in schemas.template(variant)["projectFields"],
        schedule={row.get("day"): row for row in (values or {}).get(_forms.SCHEDULE) or [] if isinstance(row, dict)},
        problem=problem, saved=saved or request.args.get("saved") == "1", template_ready=p.template_ready if p else False,
        action=url_for(".save_project", project_id=p.id) if p else url_for(".create_project"),
    )  # fmt: skip

