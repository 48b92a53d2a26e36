"""Contracts: work lists by project and state, search by name or phone (blind index), the reminder,
the contract page (the full contract, state, invitation link + QR, its audit trail) and its actions."""

from __future__ import annotations

from datetime import date
from typing import Any

import segno
from flask import Blueprint, abort, render_template, request
from sqlalchemy import select

import schemas
from agents.errors import Error, InvalidInput
from web.i18n import current_lang

from .. import models
from ..service import ContractView
from ._projects import visible_project
from ._web import actor, back, me, service, signed_in

bp = Blueprint("console_contracts", __name__, url_prefix="/console")
PAGE = 50
ACTIONS = ("offer", "countersign", "complete", "terminate", "suspend", "reinstate", "revoke", "invite", "credential_offer")


def visible_contract(urn: str) -> ContractView:
    c = service().contract(urn)
    me().require(me().may_see_project(c.project_id, c.department_id))
    return c


def _projects_in_scope() -> list[Any]:
    who = me()
    return [p for p in service().projects(None if who.is_admin() else who.department_id)
            if who.may_see_project(p.id, p.department_id)]  # fmt: skip


@bp.get("/contracts")
@signed_in
def contracts() -> str:
    projects = _projects_in_scope()
    project_id = request.args.get("project", type=int) or (projects[0].id if projects else None)
    state = request.args.get("state", "")
    name, phone = request.args.get("name", "").strip(), request.args.get("phone", "").strip()
    page = max(1, request.args.get("page", 1, type=int) or 1)
    rows: list[ContractView] = []
    people: dict[int, Any] = {}
    project = None
    if project_id is not None:
        project = visible_project(project_id)
        svc = service()
        participant_ids = None
        if name or phone:
            participant_ids = svc.search_participants(name=name, phone=phone, project_ids=[project.id])
        states = (state,) if state in models.CONTRACT_STATES else None
        rows = svc.contracts(project_id=project.id, states=states, participant_ids=participant_ids,
                             limit=PAGE, offset=(page - 1) * PAGE)  # fmt: skip
        if rows:  # the names on screen are personal data: reading them is recorded
            people = {d.id: d for d in svc.participant_details({r.participant_id for r in rows}, actor=actor(), purpose="work list")}
    return render_template(
        "console/contracts.html", projects=projects, project=project, rows=rows, people=people, state=state,
        states=models.CONTRACT_STATES, name=name, phone=phone, page=page, more=len(rows) == PAGE,
        remind_sent=request.args.get("reminded", type=int),
    )  # fmt: skip


@bp.post("/projects/<int:project_id>/remind")
@signed_in
def remind(project_id: int) -> Any:
    project = visible_project(project_id)
    sent = service().remind_unsigned(project.id, actor=actor())
    return back(".contracts", project=project.id, state=models.OFFERED, reminded=sent)


@bp.post("/projects/<int:project_id>/draft")
@signed_in
def draft_all(project_id: int) -> Any:
    project = visible_project(project_id)
    service().draft_contracts(project.id, actor=actor())
    return back(".contracts", project=project.id, state=models.DRAFT)


def _full(urn: str) -> tuple[ContractView, dict[str, Any], dict[str, Any] | None]:
    """The contract's document (the issued credential once there is one), its reading recorded."""
    svc = service()
    view = visible_contract(urn)
    with svc.tx() as s:
        c = s.scalar(select(models.Contract).where(models.Contract.urn == urn))
        assert c is not None
        p, dek, draft = svc.draft_of(s, c)
        credential = None
        if c.credential_enc is not None:
            credential = svc.unseal_json(dek, p, f"contract|{c.urn}|credential", c.credential_enc)
        svc.audit(s, actor(), "personal-data.read", "contract", c.urn, department_id=c.department_id,
                  project_id=c.project_id, personal_data=True, purpose="contract page")  # fmt: skip
    return view, draft, credential


@bp.get("/contracts/<urn>")
@signed_in
def contract(urn: str) -> str:
    return _render(urn)


def _render(urn: str, *, invitation: str | None = None, error: str | None = None, credential_offer: str | None = None) -> str:
    view, draft, credential = _full(urn)
    subject = draft.get("credentialSubject", {})
    variant = subject.get("contractType") or visible_project(view.project_id).template_variant
    lang = current_lang()
    qr = segno.make(invitation, error="m").svg_data_uri(scale=5, border=2) if invitation else None
    offer_qr = segno.make(credential_offer, error="m").svg_data_uri(scale=4, border=2) if credential_offer else None
    return render_template(
        "console/contract.html", c=view, draft=draft, credential=credential, subject=subject,
        sections=schemas.template(variant)["sections"], labels=schemas.labels(lang), value=_value, display=_display,
        trail=service().audit_trail(target=view.urn, limit=100), invitation=invitation, qr=qr, error=error,
        credential_offer=credential_offer, offer_qr=offer_qr,
        today=date.today().isoformat(), actions=_actions_for(view.state),
    )  # fmt: skip


def _actions_for(state: str) -> list[str]:
    return {
        models.DRAFT: ["offer"], models.OFFERED: ["invite"], models.SIGNED: ["countersign"],
        models.ACTIVE: ["complete", "credential_offer", "terminate", "suspend", "revoke", "amend"],
        # a finished contract can still be suspended or revoked (with the career record it left)
        models.COMPLETED: ["credential_offer", "suspend", "revoke"], models.TERMINATED: ["credential_offer", "suspend", "revoke"],
        models.SUSPENDED: ["reinstate", "revoke"],
    }.get(state, [])  # fmt: skip


def _display(path: str, value: Any, labels: dict[str, str], lang: str) -> str:
    """A contract value in words: enum labels, yes/no, thousands separators, the day-by-day hours."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return ("Yes" if value else "No") if lang == "en" else ("예" if value else "아니요")
    if isinstance(value, int | float):
        return f"{value:,}"
    if isinstance(value, str):
        return labels.get(f"{path}.{value}", value)
    if isinstance(value, list):
        if path == "dailySchedule":
            return "; ".join(_schedule_row(row, labels, lang) for row in value if isinstance(row, dict))
        return ", ".join(_display(path, v, labels, lang) for v in value) or "—"
    if isinstance(value, dict):
        return ", ".join(f"{labels.get(f'{path}.{k}', k)}: {_display(f'{path}.{k}', v, labels, lang)}" for k, v in value.items())
    return str(value)


def _schedule_row(row: dict[str, Any], labels: dict[str, str], lang: str) -> str:
    day = labels.get(f"dailySchedule.day.{row.get('day')}", str(row.get("day")))
    if lang == "en":
        return f"{day} {row.get('startTime')}–{row.get('endTime')} (break {row.get('breakMinutes')} min, {row.get('hours')} h)"
    return f"{day} {row.get('startTime')}~{row.get('endTime')} (휴게 {row.get('breakMinutes')}분, {row.get('hours')}시간)"


def _value(subject: dict[str, Any], path: str) -> Any:
    obj: Any = subject
    for part in path.split("."):
        if not isinstance(obj, dict) or part not in obj:
            return None
        obj = obj[part]
    return obj


@bp.post("/contracts/<urn>/<action>")
@signed_in
def act(urn: str, action: str) -> Any:
    view = visible_contract(urn)
    if action not in ACTIONS:
        abort(404)
    svc, who, form = service(), actor(), request.form
    reason = form.get("reason", "").strip()
    try:
        if action == "offer":
            [offer] = svc.offer_contracts([view.urn], actor=who)
            return _render(view.urn, invitation=offer.invitation_url)
        if action == "credential_offer":  # OpenID4VCI for any wallet: QR here, the tx_code to the worker's phone
            from ..offers import open_offer
            from ..protocols import protocols

            made = open_offer(protocols(), view.urn, out_of_band=True)
            if made is None:
                raise InvalidInput("this contract has no issued credential yet", message_ko="이 계약은 아직 발급된 자격증명이 없습니다")
            return _render(view.urn, credential_offer=made.url)
        if action == "invite":
            return _render(view.urn, invitation=svc.reissue_invitation(view.participant_id, actor=who))
        if action == "countersign":
            result = svc.countersign([view.urn], actor=who)
            if result.failed:
                raise InvalidInput(result.failed[0][2], message_ko=result.failed[0][1])
        elif action == "complete":
            result = svc.complete([view.urn], actor=who)
            if result.failed:
                raise InvalidInput(result.failed[0][2], message_ko=result.failed[0][1])
        elif action == "terminate":
            try:
                end = date.fromisoformat(form.get("end_date", ""))
            except ValueError:
                raise InvalidInput("enter the last day worked as YYYY-MM-DD", message_ko="마지막 근무일을 YYYY-MM-DD로 입력하세요") from None
            svc.terminate(view.urn, end, reason, actor=who)
        else:
            svc.change_status([view.urn], action, reason, actor=who)
    except Error as e:
        return _render(view.urn, error=e.diagnostics(current_lang())), e.http_status
    return back(".contract", urn=view.urn)


@bp.post("/contracts/<urn>/amend")
@signed_in
def amend(urn: str) -> Any:
    view = visible_contract(urn)
    changes: dict[str, Any] = {}
    for path in ("duties", "workplace"):
        value = request.form.get(path, "").strip()
        if value:
            changes[path] = value
    wage = request.form.get("wage.amount", "").strip()
    try:
        if wage:
            if not wage.isdigit():
                raise InvalidInput("the wage is a whole number of won", message_ko="임금은 원 단위 정수로 입력하세요")
            changes["wage.amount"] = int(wage)
        if not changes:
            raise InvalidInput("change at least one term", message_ko="바꿀 조건을 하나 이상 입력하세요")
        new_urn = service().amend(view.urn, changes, actor=actor())
    except Error as e:
        return _render(view.urn, error=e.diagnostics(current_lang())), e.http_status
    return back(".contract", urn=new_urn)
