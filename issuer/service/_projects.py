"""Projects and their contract template: the MOEL standard form variant, the project's defaults and
overrides, and the legal check (`schemas.rules.check_contract`) a template must pass before offering."""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select

import schemas
from agents.errors import InvalidInput, LegalRuleViolation
from schemas import Violation

from .. import models
from ._base import SYSTEM, Actor, ServiceBase, dumps, not_found

#: paths the department and the project fill in themselves; a template override cannot change them
_FIXED = ("project.id", "project.name", "employer.")
#: filled from the roster row, so a template alone is not checked for them
_ROW_PATHS = ("employee.", "guardianConsent.")


def set_path(obj: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    for part in parents:
        child = obj.get(part)
        if not isinstance(child, dict):
            child = obj[part] = {}
        obj = child
    obj[last] = copy.deepcopy(value)


def get_path(obj: Any, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(obj, dict) or part not in obj:
            return None
        obj = obj[part]
    return obj


@dataclass(frozen=True)
class ProjectView:
    id: int
    urn: str
    department_id: int
    name: str
    start_date: date
    end_date: date
    budget_line: str
    workplaces: tuple[str, ...]
    template_variant: str
    template_overrides: Mapping[str, Any]
    position: str
    template_ready: bool  # the legal check passed with the current overrides

    @classmethod
    def of(cls, p: models.Project) -> ProjectView:
        return cls(p.id, p.urn, p.department_id, p.name, p.start_date, p.end_date, p.budget_line,
                   tuple(json.loads(p.workplaces)), p.template_variant, json.loads(p.template_overrides),
                   p.position, p.template_checked_at is not None)  # fmt: skip


def compose_subject(
    dept: models.Department, project: models.Project, row_fields: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The contract's credentialSubject without `id`: template defaults < project < overrides < roster row."""
    template = schemas.template(project.template_variant)
    subject: dict[str, Any] = copy.deepcopy(template["defaults"])
    subject["contractType"] = template["contractType"]
    subject["project"] = {"id": project.urn, "name": project.name}
    subject["employer"] = {"id": dept.did, "name": dept.name_ko}
    for key, value in (("representative", dept.representative), ("businessNumber", dept.business_number),
                       ("address", dept.address), ("phone", dept.phone)):  # fmt: skip
        if value:
            subject["employer"][key] = value
    subject["contractPeriod"] = {"startDate": project.start_date.isoformat(), "endDate": project.end_date.isoformat()}
    if template["contractType"] == "regular":
        del subject["contractPeriod"]["endDate"]  # open-ended (LSA): the project's end is not the contract's
    workplaces = json.loads(project.workplaces)
    if workplaces:
        subject["workplace"] = workplaces[0]
    for path, value in json.loads(project.template_overrides).items():
        set_path(subject, path, value)
    return apply_fields(subject, row_fields or {})


def apply_fields(subject: dict[str, Any], row_fields: Mapping[str, Any]) -> dict[str, Any]:
    """Put a roster row's values (subject paths) into a composed subject; empty cells keep the project's."""
    for path, value in row_fields.items():
        if value not in (None, ""):
            set_path(subject, path, value)
    return subject


def _placeholder_row(project: models.Project) -> dict[str, Any]:
    """A stand-in worker so the template is checked as a whole (a minor for the minor variant)."""
    age = 16 if project.template_variant == "minor" else 30
    birth = project.start_date - timedelta(days=365 * age + 30)
    return {"employee.name": "(근로자)", "employee.birthDate": birth.isoformat(), "employee.phone": "010-0000-0000"}


class ProjectsMixin(ServiceBase):
    def create_project(
        self, department_id: int, name: str, start_date: date, end_date: date, *, template_variant: str = "part-time",
        budget_line: str = "", workplaces: tuple[str, ...] | list[str] = (), position: str = "",
        overrides: Mapping[str, Any] | None = None, actor: Actor = SYSTEM,
    ) -> ProjectView:  # fmt: skip
        """A project of a department; its template is checked at once (see `set_template`)."""
        if not name.strip():
            raise InvalidInput("a project needs a name", message_ko="사업 이름을 입력하세요")
        if end_date < start_date:
            raise InvalidInput("the project ends before it starts", message_ko="사업 종료일이 시작일보다 빠릅니다")
        schemas.template(template_variant)  # UnknownEntry for an unknown variant
        with self.tx() as s:
            if s.get(models.Department, department_id) is None:
                raise not_found("department", "부서")
            row = models.Project(
                urn=f"urn:uuid:{uuid.uuid4()}", department_id=department_id, name=name.strip(), start_date=start_date,
                end_date=end_date, budget_line=budget_line, workplaces=dumps(list(workplaces)),
                template_variant=template_variant, template_overrides="{}", position=position,
            )  # fmt: skip
            s.add(row)
            s.flush()
            self.audit(s, actor, "project.create", "project", row.id, department_id=department_id, project_id=row.id)
            project_id = row.id
        self.set_template(project_id, template_variant, overrides or {}, actor=actor)
        return self.project(project_id)

    def project(self, project_id: int) -> ProjectView:
        with self.tx() as s:
            row = s.get(models.Project, project_id)
            if row is None:
                raise not_found("project", "사업")
            return ProjectView.of(row)

    def update_project(
        self, project_id: int, *, name: str, start_date: date, end_date: date, budget_line: str = "",
        workplaces: tuple[str, ...] | list[str] = (), position: str = "", actor: Actor = SYSTEM,
    ) -> ProjectView:  # fmt: skip
        """Change a project's name, period, budget line, workplaces or position (drafts made later use them)."""
        if not name.strip():
            raise InvalidInput("a project needs a name", message_ko="사업 이름을 입력하세요")
        if end_date < start_date:
            raise InvalidInput("the project ends before it starts", message_ko="사업 종료일이 시작일보다 빠릅니다")
        with self.tx() as s:
            row = s.get(models.Project, project_id)
            if row is None:
                raise not_found("project", "사업")
            row.name, row.start_date, row.end_date = name.strip(), start_date, end_date
            row.budget_line, row.workplaces, row.position = budget_line, dumps(list(workplaces)), position
            self.audit(s, actor, "project.update", "project", project_id, department_id=row.department_id,
                       project_id=project_id)  # fmt: skip
        return self.project(project_id)

    def projects(self, department_id: int | None = None) -> list[ProjectView]:
        with self.tx() as s:
            q = select(models.Project).order_by(models.Project.id)
            if department_id is not None:
                q = q.where(models.Project.department_id == department_id)
            return [ProjectView.of(p) for p in s.scalars(q)]

    def template_violations(self, project_id: int, overrides: Mapping[str, Any] | None = None,
                            variant: str | None = None) -> list[Violation]:  # fmt: skip
        """The legal check of the project's template (or of proposed `overrides`/`variant`), without
        the roster's own fields: each violation names the rule, the article and the field path."""
        with self.tx() as s:
            project = s.get(models.Project, project_id)
            if project is None:
                raise not_found("project", "사업")
            dept = s.get_one(models.Department, project.department_id)
            s.expunge(project)
        if overrides is not None:
            project.template_overrides = dumps(self._checked_overrides(variant or project.template_variant, overrides))
        if variant is not None:
            project.template_variant = variant
        subject = compose_subject(dept, project, _placeholder_row(project))
        return [v for v in schemas.check_contract(subject) if not v.path.startswith(_ROW_PATHS)]

    @staticmethod
    def _checked_overrides(variant: str, overrides: Mapping[str, Any]) -> dict[str, Any]:
        allowed = set(schemas.template(variant)["projectFields"])
        out = {}
        for path, value in overrides.items():
            if path.startswith(_FIXED) or path not in allowed:
                raise InvalidInput(f"the template has no project field {path!r}", message_ko=f"양식에 '{path}' 항목이 없습니다")
            out[path] = value
        return out

    def set_template(self, project_id: int, variant: str, overrides: Mapping[str, Any], *,
                     actor: Actor = SYSTEM) -> list[Violation]:  # fmt: skip
        """Save the project's template variant and overrides (dotted subject paths -> values). Saved
        even when unlawful, so the clerk can fix it; offering needs `template_ready` (no errors)."""
        schemas.template(variant)
        checked = self._checked_overrides(variant, overrides)
        violations = self.template_violations(project_id, checked, variant)
        errors = [v for v in violations if v.severity == "error"]
        with self.tx() as s:
            project = s.get_one(models.Project, project_id)
            project.template_variant = variant
            project.template_overrides = dumps(checked)
            project.template_checked_at = None if errors else self.now()
            self.audit(s, actor, "project.template", "project", project_id, department_id=project.department_id,
                       project_id=project_id, variant=variant, fields=sorted(checked), violations=[v.code for v in errors])  # fmt: skip
        return violations

    def require_template_ready(self, project_id: int) -> None:
        errors = [v for v in self.template_violations(project_id) if v.severity == "error"]
        if errors:
            raise LegalRuleViolation(
                "the project's contract template breaks a labor-law rule: "
                + "; ".join(f"{v.path}: {v.message_en} ({v.article})" for v in errors),
                message_ko="사업의 근로계약서 양식이 노동법 규칙에 맞지 않습니다: "
                + "; ".join(f"{v.path}: {v.message_ko} ({v.article})" for v in errors),
                violations=errors,
            )
