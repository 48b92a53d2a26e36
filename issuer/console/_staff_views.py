"""Staff management: admins manage everyone, department managers the clerks of their department."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request

from agents.errors import Error
from web.i18n import current_lang

from ._accounts import ADMIN, CLERK, MANAGER, StaffView
from ._web import actor, back, console, me, service, signed_in

bp = Blueprint("console_staff", __name__, url_prefix="/console/staff")


def _may_list() -> bool:
    return me().role in (ADMIN, MANAGER)


def _target(staff_id: int) -> StaffView:
    target = console().accounts.staff(staff_id)
    me().require(me().may_manage_staff(target.role, target.department_id))
    return target


def _context(**extra: Any) -> dict[str, Any]:
    who = me()
    lang = current_lang()
    departments = [d for d in service().departments() if who.is_admin() or d.id == who.department_id]
    projects = [p for p in service().projects(None if who.is_admin() else who.department_id)]
    roles = (ADMIN, MANAGER, CLERK) if who.is_admin() else (CLERK,)
    return {
        "departments": departments, "department_names": {d.id: d.name(lang) for d in departments},
        "projects": projects, "roles": roles, **extra,
    }  # fmt: skip


@bp.get("/")
@signed_in
def staff_list() -> str:
    me().require(_may_list())
    who = me()
    rows = console().accounts.list_staff(None if who.is_admin() else who.department_id)
    return render_template("console/staff.html", staff=rows, **_context(form={}, error=None))


@bp.post("/")
@signed_in
def create_staff() -> Any:
    me().require(_may_list())
    form = request.form
    role = form.get("role", "")
    dept_id = form.get("department_id", type=int)
    me().require(me().may_manage_staff(role, dept_id) or (me().is_admin() and role == ADMIN))
    try:
        console().accounts.create_staff(
            form.get("login", ""), form.get("display_name", ""), role,
            department_id=dept_id, password=form.get("password") or None,
            project_ids=[int(p) for p in form.getlist("project_ids") if p.isdigit()], actor=actor(),
        )  # fmt: skip
    except Error as e:
        rows = console().accounts.list_staff(None if me().is_admin() else me().department_id)
        page = render_template("console/staff.html", staff=rows,
                               **_context(form=form, error=e.diagnostics(current_lang())))  # fmt: skip
        return page, e.http_status
    return back(".staff_list")


@bp.get("/<int:staff_id>")
@signed_in
def staff_member(staff_id: int) -> str:
    return render_template("console/staff_member.html", member=_target(staff_id), **_context(error=None))


@bp.post("/<int:staff_id>")
@signed_in
def update_staff(staff_id: int) -> Any:
    target = _target(staff_id)
    form = request.form
    try:
        console().accounts.update_staff(
            target.id, display_name=form.get("display_name", ""), active=form.get("active") == "1",
            project_ids=[int(p) for p in form.getlist("project_ids") if p.isdigit()], actor=actor(),
        )  # fmt: skip
        if form.get("password"):
            console().accounts.set_password(target.id, form["password"], actor=actor())
    except Error as e:
        page = render_template("console/staff_member.html", member=target, **_context(error=e.diagnostics(current_lang())))
        return page, e.http_status
    return back(".staff_member", staff_id=target.id)


@bp.post("/<int:staff_id>/unlock")
@signed_in
def unlock(staff_id: int) -> Any:
    console().accounts.unlock(_target(staff_id).id, actor=actor())
    return back(".staff_member", staff_id=staff_id)


@bp.post("/<int:staff_id>/reset-passkeys")
@signed_in
def reset_passkeys(staff_id: int) -> Any:
    console().accounts.remove_passkeys(_target(staff_id).id, actor=actor())
    return back(".staff_member", staff_id=staff_id)
