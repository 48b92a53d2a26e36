"""The project form: its plain fields and the template defaults a project may change, parsed into
the service's overrides (dotted credentialSubject paths), with each input error kept by field."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import schemas
from schemas import Violation

from ..service._projects import get_path

VARIANTS = ("regular", "fixed-term", "part-time", "minor")
DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
WAGE_TYPES = ("hourly", "daily", "monthly")


@dataclass(frozen=True)
class Field:
    path: str
    kind: str  # text | textarea | time | int | number | wage-type | days | day


#: the defaults a clerk edits per project (the rest of the standard form stays as the template has it)
DEFAULT_FIELDS = (
    Field("workplace", "text"),
    Field("duties", "textarea"),
    Field("workingHours.startTime", "time"),
    Field("workingHours.endTime", "time"),
    Field("workingHours.breakMinutes", "int"),
    Field("workingHours.dailyHours", "number"),
    Field("workingHours.weeklyHours", "number"),
    Field("workingDays.daysPerWeek", "int"),
    Field("workingDays.days", "days"),
    Field("workingDays.weeklyHoliday", "day"),
    Field("wage.type", "wage-type"),
    Field("wage.amount", "int"),
    Field("wage.payday", "int"),
)
SCHEDULE = "dailySchedule"  # the part-time per-day hours table (LSA art. 17, enforcement decree art. 8-2)


@dataclass
class ProjectForm:
    """What the clerk typed, the parsed overrides, and the input errors by field path."""

    values: dict[str, Any] = field(default_factory=dict)
    overrides: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, tuple[str, str]] = field(default_factory=dict)  # path -> (ko, en)

    def error(self, path: str, lang: str) -> str:
        pair = self.errors.get(path)
        return "" if pair is None else (pair[1] if lang == "en" else pair[0])


def fields_for(variant: str) -> list[Field]:
    allowed = set(schemas.template(variant)["projectFields"])
    return [f for f in DEFAULT_FIELDS if f.path in allowed]


def current_values(variant: str, overrides: Mapping[str, Any]) -> dict[str, Any]:
    """The value each editable field has now: the project's override, else the template default."""
    defaults = schemas.template(variant)["defaults"]
    out = {f.path: overrides.get(f.path, get_path(defaults, f.path)) for f in fields_for(variant)}
    if SCHEDULE in schemas.template(variant)["projectFields"]:
        out[SCHEDULE] = overrides.get(SCHEDULE, get_path(defaults, SCHEDULE)) or []
    return out


def parse_basics(form: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, tuple[str, str]]]:
    """Name, period, budget line, workplaces, position, variant."""
    errors: dict[str, tuple[str, str]] = {}
    out: dict[str, Any] = {
        "name": form.get("name", "").strip(),
        "budget_line": form.get("budget_line", "").strip(),
        "position": form.get("position", "").strip(),
        "workplaces": [w.strip() for w in form.get("workplaces", "").splitlines() if w.strip()],
        "template_variant": form.get("template_variant", ""),
    }
    if not out["name"]:
        errors["name"] = ("사업 이름을 입력하세요.", "Enter the project's name.")
    if out["template_variant"] not in VARIANTS:
        errors["template_variant"] = ("계약서 양식을 고르세요.", "Choose a contract template.")
    for key in ("start_date", "end_date"):
        try:
            out[key] = date.fromisoformat(form.get(key, "").strip())
        except ValueError:
            errors[key] = ("날짜를 YYYY-MM-DD 형식으로 입력하세요.", "Enter the date as YYYY-MM-DD.")
    if "start_date" in out and "end_date" in out and out["end_date"] < out["start_date"]:
        errors["end_date"] = ("종료일이 시작일보다 빠릅니다.", "The end date is before the start date.")
    return out, errors


def parse_defaults(variant: str, form: Mapping[str, Any]) -> ProjectForm:
    """The template defaults from the form (`d:<path>` inputs; the schedule as `s:<DAY>:<part>`)."""
    result = ProjectForm()
    for f in fields_for(variant):
        name = "d:" + f.path
        if f.kind == "days":
            raw: Any = [d for d in DAYS if form.get(f"{name}:{d}")]
        else:
            raw = str(form.get(name, "")).strip()
        result.values[f.path] = raw
        if raw in ("", []) and f.kind != "days":
            continue  # left empty: the template's default (or the project's own value) applies
        try:
            result.overrides[f.path] = _convert(f.kind, raw)
        except ValueError as e:
            ko, en = e.args
            result.errors[f.path] = (ko, en)
    if SCHEDULE in schemas.template(variant)["projectFields"]:
        rows = []
        for day in DAYS:
            if not form.get(f"s:{day}:on"):
                continue
            row: dict[str, Any] = {"day": day}
            for part, kind in (("startTime", "time"), ("endTime", "time"), ("breakMinutes", "int"), ("hours", "number")):
                raw = str(form.get(f"s:{day}:{part}", "")).strip()
                try:
                    row[part] = _convert(kind, raw)
                except ValueError as e:
                    result.errors[f"{SCHEDULE}.{day}"] = e.args
            rows.append(row)
        result.values[SCHEDULE] = rows
        result.overrides[SCHEDULE] = rows
    return result


def _convert(kind: str, raw: Any) -> Any:
    if kind in ("text", "textarea"):
        if not raw:
            raise ValueError("값을 입력하세요.", "Enter a value.")
        return raw
    if kind == "time":
        parts = raw.split(":")
        if len(parts) != 2 or not all(p.isdigit() for p in parts) or not (0 <= int(parts[0]) <= 24 and 0 <= int(parts[1]) < 60):
            raise ValueError("시각을 09:00 형식으로 입력하세요.", "Enter the time as 09:00.")
        return f"{int(parts[0]):02d}:{int(parts[1]):02d}"
    if kind == "int":
        if not raw.isdigit():
            raise ValueError("0 이상의 정수를 입력하세요.", "Enter a whole number (0 or more).")
        return int(raw)
    if kind == "number":
        try:
            value = float(raw)
        except ValueError:
            raise ValueError("숫자를 입력하세요.", "Enter a number.") from None
        if value < 0:
            raise ValueError("0 이상의 숫자를 입력하세요.", "Enter a number of 0 or more.")
        return int(value) if value.is_integer() else value
    if kind == "wage-type":
        if raw not in WAGE_TYPES:
            raise ValueError("임금 형태를 고르세요.", "Choose a wage type.")
        return raw
    if kind == "day":
        if raw not in DAYS:
            raise ValueError("요일을 고르세요.", "Choose a day.")
        return raw
    if kind == "days":
        if not raw:
            raise ValueError("근로요일을 하나 이상 고르세요.", "Choose at least one working day.")
        return raw
    raise AssertionError(kind)


def violations_by_field(violations: list[Violation], variant: str) -> tuple[dict[str, list[Violation]], list[Violation]]:
    """Legal findings placed next to the field they name; the rest (no editable field) listed on top."""
    paths = [f.path for f in fields_for(variant)] + [SCHEDULE]
    placed: dict[str, list[Violation]] = {}
    rest: list[Violation] = []
    for v in violations:
        target = next((p for p in paths if v.path == p or v.path.startswith(p + ".") or v.path.startswith(p + "[")), None)
        if target is None and v.path.startswith("workingHours"):
            target = "workingHours.dailyHours"
        if target is None:
            rest.append(v)
        else:
            placed.setdefault(target, []).append(v)
    return placed, rest
