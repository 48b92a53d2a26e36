"""Korean labor-law checks on a LaborContract credentialSubject, driven by the tables in rules/*.json."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction
from typing import Any, Literal

from ._data import UnknownEntry, load

__all__ = ["UnknownEntry", "Violation", "check_contract", "minimum_wage"]

Severity = Literal["error", "warning"]
_DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_MISSING = object()


@dataclass(frozen=True, slots=True)
class Violation:
    """One finding of `check_contract`: `path` is dotted, relative to credentialSubject."""

    code: str
    path: str
    message_ko: str
    message_en: str
    article: str
    severity: Severity = "error"

    def message(self, lang: str = "ko") -> str:
        return self.message_en if lang == "en" else self.message_ko


def _table(name: str) -> dict[str, Any]:
    data: dict[str, Any] = load("rules", f"{name}.json")
    return data


def minimum_wage(year: int) -> int:
    """The hourly minimum wage (KRW) for `year`; UnknownEntry when the table has no such year."""
    rates: dict[str, int] = _table("minimum-wage")["rates"]
    try:
        return int(rates[str(int(year))])
    except KeyError:
        known = f"{min(rates)}–{max(rates)}"
        raise UnknownEntry(
            f"no minimum wage is recorded for {year} (known years: {known}); "
            "add it to schemas/rules/minimum-wage.json",
            f"{year}년 최저임금이 등록되어 있지 않습니다 (등록된 연도: {known}). "
            "schemas/rules/minimum-wage.json 에 추가하세요.",
        ) from None


# -- reading the subject defensively: check_contract must never raise on bad input ---------------


def _get(obj: Any, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(obj, dict) or part not in obj:
            return _MISSING
        obj = obj[part]
    return obj


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _present(value: Any) -> bool:
    return value is not _MISSING and value is not None and value != "" and value != [] and value != {}


def _number(value: Any) -> Fraction | None:
    """An exact number, or None for anything that is not a JSON number (bools excluded)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, float) and not math.isfinite(value):  # json.loads accepts NaN and Infinity
        return None
    return Fraction(str(value)) if isinstance(value, float) else Fraction(value)


def _date(value: Any) -> date | None:
    if not isinstance(value, str) or len(value) != 10:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def _minutes(value: Any) -> int | None:
    """Minutes since midnight for an "HH:MM" string."""
    if not isinstance(value, str) or len(value) != 5 or value[2] != ":":
        return None
    hh, mm = value[:2], value[3:]
    if not (hh.isdigit() and mm.isdigit()) or int(hh) > 23 or int(mm) > 59:
        return None
    return int(hh) * 60 + int(mm)


def _span_hours(start: Any, end: Any, break_minutes: Any) -> Fraction | None:
    """Working hours between start and end less the break; an end before the start crosses midnight."""
    s, e, b = _minutes(start), _minutes(end), _number(break_minutes)
    if s is None or e is None or b is None:
        return None
    span = e - s if e > s else e + 24 * 60 - s
    return (Fraction(span) - b) / 60


def _age_on(birth: date, on: date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def _add_years(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February in a non-leap year
        return d.replace(year=d.year + years, day=28)


def _won(n: Fraction | int) -> str:
    return f"{int(n):,}"


def _hours(n: Fraction) -> str:
    return f"{float(n):g}"


# -- the checks -----------------------------------------------------------------------------------


def check_contract(subject: dict[str, Any], *, on: date | None = None) -> list[Violation]:
    """Check a LaborContract credentialSubject against the labor-law rules; [] when it complies.

    `on` is the date the rules are evaluated at (minimum-wage year, the worker's age); it defaults to
    the contract start date. Warnings (severity "warning") do not make a contract unlawful by
    themselves but need a clerk's attention. Malformed input yields violations, never an exception.
    """
    if not isinstance(subject, dict):
        return [
            Violation(
                "invalid-value",
                "",
                "근로계약 내용이 객체 형식이 아닙니다.",
                "The contract subject is not a JSON object.",
                "근로기준법 제17조",
            )
        ]
    return list(_check(subject, on))


def _check(s: dict[str, Any], on: date | None) -> Iterator[Violation]:
    limits = _table("limits")
    contract_type = s.get("contractType")
    weekly = _number(_get(s, "workingHours.weeklyHours"))
    daily = _number(_get(s, "workingHours.dailyHours"))
    start = _date(_get(s, "contractPeriod.startDate"))
    end = _date(_get(s, "contractPeriod.endDate"))
    at = on or start
    birth = _date(_get(s, "employee.birthDate"))
    minor = bool(birth and at and _age_on(birth, at) < _table("limits")["minor"]["underAge"])

    yield from _required_items(s, contract_type, weekly)
    yield from _period(s, contract_type, start, end, limits)
    yield from _hours_and_breaks(s, contract_type, daily, weekly, minor, limits)
    yield from _minimum_wage(s, at, start, end, daily, weekly, on is None)
    yield from _minor(s, contract_type, at, start, daily, weekly, limits)
    yield from _part_time(s, contract_type, weekly, limits)


def _required_items(s: dict[str, Any], contract_type: Any, weekly: Fraction | None) -> Iterator[Violation]:
    for item in _table("required-items")["items"]:
        variants = item["variants"]
        if "*" not in variants and contract_type not in variants:
            continue
        exempt_below = item.get("exemptBelowWeeklyHours")
        if exempt_below is not None and weekly is not None and weekly < exempt_below:
            continue
        if not _present(_get(s, item["path"])):
            yield Violation(
                "missing-item",
                item["path"],
                f"근로계약서 필수 기재사항이 빠졌습니다: {item['path']}",
                f"A required contract item is missing: {item['path']}",
                item["article"],
            )
    if contract_type is not None and contract_type not in ("regular", "fixed-term", "part-time", "minor"):
        yield Violation(
            "invalid-value",
            "contractType",
            f"알 수 없는 계약 유형입니다: {contract_type}",
            f"Unknown contract type: {contract_type}",
            "표준근로계약서",
        )


def _period(
    s: dict[str, Any], contract_type: Any, start: date | None, end: date | None, limits: dict[str, Any]
) -> Iterator[Violation]:
    for path, raw, parsed in (
        ("contractPeriod.startDate", _get(s, "contractPeriod.startDate"), start),
        ("contractPeriod.endDate", _get(s, "contractPeriod.endDate"), end),
    ):
        if _present(raw) and parsed is None:
            yield Violation(
                "invalid-value",
                path,
                "날짜 형식(YYYY-MM-DD)이 올바르지 않습니다.",
                "Not a valid date (YYYY-MM-DD).",
                "근로기준법 제17조",
            )
    if contract_type == "regular" and _present(_get(s, "contractPeriod.endDate")):
        yield Violation(
            "regular-has-end-date",
            "contractPeriod.endDate",
            "기간의 정함이 없는 근로계약에는 종료일을 적지 않습니다. 기간제 계약으로 작성하세요.",
            "An open-ended (regular) contract has no end date; use the fixed-term variant.",
            "기간제 및 단시간근로자 보호 등에 관한 법률 제17조제1호",
        )
    if start and end:
        if end < start:
            yield Violation(
                "period-inverted",
                "contractPeriod.endDate",
                "계약 종료일이 시작일보다 앞섭니다.",
                "The contract ends before it starts.",
                "기간제 및 단시간근로자 보호 등에 관한 법률 제17조제1호",
            )
        rule = limits["fixedTerm"]
        if end > _add_years(start, rule["maxYears"]) - timedelta(days=1):
            yield Violation(
                "fixed-term-over-two-years",
                "contractPeriod.endDate",
                f"기간제 근로계약 기간이 {rule['maxYears']}년을 넘습니다. 예외 사유가 없으면 기간의 정함이 없는 "
                "근로계약을 체결한 것으로 봅니다.",
                f"The fixed term exceeds {rule['maxYears']} years; unless an exception applies the worker "
                "is deemed employed without a fixed term.",
                rule["article"],
                "warning",
            )


def _break_violation(
    path: str, hours: Fraction, break_minutes: Fraction, limits: dict[str, Any]
) -> Violation | None:
    needed = 0
    for step in limits["breaks"]["steps"]:
        if hours >= step["minWorkingHours"]:
            needed = max(needed, step["minBreakMinutes"])
    if break_minutes >= needed:
        return None
    return Violation(
        "break-too-short",
        path,
        f"근로시간 {_hours(hours)}시간에는 휴게시간이 {needed}분 이상이어야 합니다 "
        f"(현재 {_hours(break_minutes)}분).",
        f"{_hours(hours)} working hours require a break of at least {needed} minutes "
        f"(stated: {_hours(break_minutes)}).",
        limits["breaks"]["article"],
    )


def _hours_and_breaks(
    s: dict[str, Any],
    contract_type: Any,
    daily: Fraction | None,
    weekly: Fraction | None,
    minor: bool,
    limits: dict[str, Any],
) -> Iterator[Violation]:
    wh = _obj(s.get("workingHours"))
    brk = _number(wh.get("breakMinutes"))
    for key in ("startTime", "endTime", "breakStart", "breakEnd"):
        if key in wh and _minutes(wh[key]) is None:
            yield Violation(
                "invalid-value",
                f"workingHours.{key}",
                "시각 형식(HH:MM)이 올바르지 않습니다.",
                "Not a valid time (HH:MM).",
                "근로기준법 제17조제1항제2호",
            )
    span = _span_hours(wh.get("startTime"), wh.get("endTime"), wh.get("breakMinutes"))
    if span is not None and daily is not None and span != daily:
        yield Violation(
            "hours-inconsistent",
            "workingHours.dailyHours",
            f"시업·종업 시각과 휴게시간으로 계산한 근로시간({_hours(span)}시간)이 1일 소정근로시간"
            f"({_hours(daily)}시간)과 다릅니다.",
            f"Start, end and break give {_hours(span)} hours, but the daily hours state {_hours(daily)}.",
            "근로기준법 제17조제1항제2호",
        )
    if daily is not None and brk is not None:
        v = _break_violation("workingHours.breakMinutes", daily, brk, limits)
        if v:
            yield v
    if daily is not None and not minor and daily > limits["dailyHours"]["max"]:
        yield Violation(
            "daily-hours-exceeded",
            "workingHours.dailyHours",
            f"1일 소정근로시간은 {limits['dailyHours']['max']}시간을 넘을 수 없습니다.",
            f"Contracted daily hours may not exceed {limits['dailyHours']['max']}.",
            limits["dailyHours"]["article"],
        )
    if weekly is not None and not minor and weekly > limits["weeklyHours"]["max"]:
        yield Violation(
            "weekly-hours-exceeded",
            "workingHours.weeklyHours",
            f"1주 소정근로시간은 {limits['weeklyHours']['max']}시간을 넘을 수 없습니다.",
            f"Contracted weekly hours may not exceed {limits['weeklyHours']['max']}.",
            limits["weeklyHours"]["article"],
        )

    wd = _obj(s.get("workingDays"))
    days = wd.get("days") if isinstance(wd.get("days"), list) else None
    if days is not None and isinstance(wd.get("daysPerWeek"), int) and wd["daysPerWeek"] != len(days):
        yield Violation(
            "days-inconsistent",
            "workingDays.daysPerWeek",
            "주 근로일수와 근로요일 수가 다릅니다.",
            "The number of working days per week does not match the listed days.",
            "근로기준법 제17조제1항제2호",
        )
    if days is not None and wd.get("weeklyHoliday") in days:
        yield Violation(
            "weekly-holiday-is-working-day",
            "workingDays.weeklyHoliday",
            "주휴일이 근로일과 겹칩니다.",
            "The weekly holiday is also a working day.",
            "근로기준법 제55조제1항",
        )
    if days is not None and daily is not None and weekly is not None and contract_type != "part-time":
        if daily * len(days) != weekly:
            yield Violation(
                "hours-inconsistent",
                "workingHours.weeklyHours",
                f"1일 {_hours(daily)}시간 × {len(days)}일이 1주 소정근로시간({_hours(weekly)}시간)과 다릅니다.",
                f"{_hours(daily)} hours × {len(days)} days differs from the weekly hours ({_hours(weekly)}).",
                "근로기준법 제17조제1항제2호",
                "warning",
            )

    schedule = s.get("dailySchedule")
    if not isinstance(schedule, list):
        return
    total = Fraction(0)
    seen: list[str] = []
    for i, row in enumerate(schedule):
        if not isinstance(row, dict):
            continue
        base = f"dailySchedule[{i}]"
        hours = _number(row.get("hours"))
        brk_i = _number(row.get("breakMinutes"))
        if row.get("day") in _DAYS:
            seen.append(row["day"])
        if hours is None:
            continue
        total += hours
        span_i = _span_hours(row.get("startTime"), row.get("endTime"), row.get("breakMinutes"))
        if span_i is not None and span_i != hours:
            yield Violation(
                "hours-inconsistent",
                f"{base}.hours",
                f"시업·종업 시각과 휴게시간으로 계산한 근로시간({_hours(span_i)}시간)이 "
                f"기재된 시간({_hours(hours)}시간)과 다릅니다.",
                f"Start, end and break give {_hours(span_i)} hours, not the stated {_hours(hours)}.",
                "기간제 및 단시간근로자 보호 등에 관한 법률 제17조제6호",
            )
        if brk_i is not None:
            v = _break_violation(f"{base}.breakMinutes", hours, brk_i, limits)
            if v:
                yield v
        if not minor and hours > limits["dailyHours"]["max"]:
            yield Violation(
                "daily-hours-exceeded",
                f"{base}.hours",
                f"1일 소정근로시간은 {limits['dailyHours']['max']}시간을 넘을 수 없습니다.",
                f"Contracted daily hours may not exceed {limits['dailyHours']['max']}.",
                limits["dailyHours"]["article"],
            )
    if weekly is not None and total != weekly:
        yield Violation(
            "hours-inconsistent",
            "workingHours.weeklyHours",
            f"근로일별 근로시간의 합({_hours(total)}시간)이 1주 소정근로시간({_hours(weekly)}시간)과 다릅니다.",
            f"The per-day hours add up to {_hours(total)}, not the weekly {_hours(weekly)}.",
            "기간제 및 단시간근로자 보호 등에 관한 법률 제17조제6호",
        )
    if days is not None and sorted(seen, key=_DAYS.index) != sorted(
        (d for d in days if d in _DAYS), key=_DAYS.index
    ):
        yield Violation(
            "days-inconsistent",
            "dailySchedule",
            "근로일별 근로시간표의 요일이 근로요일과 다릅니다.",
            "The days in the per-day schedule differ from the working days.",
            "기간제 및 단시간근로자 보호 등에 관한 법률 제17조제6호",
        )


def _monthly_hours(weekly: Fraction) -> Fraction:
    """Monthly paid hours: 209 for 40 h/week pro rata (weekly paid holiday included from 15 h/week)."""
    table = _table("minimum-wage")
    if weekly >= _table("limits")["shortHours"]["weeklyHoursBelow"]:
        return Fraction(table["fullTimeMonthlyHours"]) * weekly / Fraction(table["fullTimeWeeklyHours"])
    return weekly * Fraction(365, 7 * 12)  # no weekly paid holiday under 15 h/week (LSA art. 18(3))


def _hourly_equivalent(
    s: dict[str, Any], daily: Fraction | None, weekly: Fraction | None
) -> tuple[Fraction, str, str] | None:
    """The wage as KRW per hour and how it was derived (ko, en), or None when it cannot be computed."""
    kind = _get(s, "wage.type")
    amount = _number(_get(s, "wage.amount"))
    if amount is None:
        return None
    if kind == "hourly":
        return amount, "시급", "hourly wage"
    if kind == "daily" and daily:
        return amount / daily, f"일급 ÷ {_hours(daily)}시간", f"daily wage / {_hours(daily)} h"
    if kind == "monthly" and weekly:
        hours = _monthly_hours(weekly)
        return amount / hours, f"월급 ÷ {_hours(hours)}시간", f"monthly wage / {_hours(hours)} h"
    return None


def _minimum_wage(
    s: dict[str, Any],
    at: date | None,
    start: date | None,
    end: date | None,
    daily: Fraction | None,
    weekly: Fraction | None,
    check_later_years: bool,
) -> Iterator[Violation]:
    article = _table("minimum-wage")["article"]
    hourly = _hourly_equivalent(s, daily, weekly)
    if at is None or hourly is None:
        return
    rate, how_ko, how_en = hourly
    try:
        floor = minimum_wage(at.year)
    except UnknownEntry as e:
        yield Violation("minimum-wage-year-unknown", "wage.amount", e.message_ko, e.message_en, article)
        return
    if rate < floor:
        yield Violation(
            "below-minimum-wage",
            "wage.amount",
            f"{how_ko} 기준 시간당 {_won(rate)}원으로 {at.year}년 최저임금(시간급 {_won(floor)}원)보다 낮습니다.",
            f"The {how_en} gives {_won(rate)} KRW per hour, below the {at.year} minimum wage of "
            f"{_won(floor)} KRW.",
            article,
        )
        return
    if not (check_later_years and start and end):
        return
    # A contract running into a later year must pay that year's rate from 1 January.
    for year in range(start.year + 1, end.year + 1):
        try:
            later = minimum_wage(year)
        except UnknownEntry:
            break
        if rate < later:
            yield Violation(
                "minimum-wage-rises",
                "wage.amount",
                f"{year}년 1월 1일부터는 최저임금(시간급 {_won(later)}원) 이상으로 임금을 올려야 합니다.",
                f"From 1 January {year} the wage must be raised to at least the minimum wage of "
                f"{_won(later)} KRW per hour.",
                article,
                "warning",
            )
            break


def _birth_date(s: dict[str, Any]) -> date | None:
    return _date(_get(s, "employee.birthDate"))


def _minor(
    s: dict[str, Any],
    contract_type: Any,
    at: date | None,
    start: date | None,
    daily: Fraction | None,
    weekly: Fraction | None,
    limits: dict[str, Any],
) -> Iterator[Violation]:
    birth = _birth_date(s)
    if _present(_get(s, "employee.birthDate")) and birth is None:
        yield Violation(
            "invalid-value",
            "employee.birthDate",
            "생년월일 형식(YYYY-MM-DD)이 올바르지 않습니다.",
            "Not a valid birth date (YYYY-MM-DD).",
            "근로기준법 제66조",
        )
    if birth is None or at is None:
        return
    rule = limits["minor"]
    age = _age_on(birth, at)
    if age >= rule["underAge"]:
        if contract_type == "minor":
            yield Violation(
                "not-a-minor",
                "contractType",
                f"근로자가 계약 시작일에 만 {age}세로 연소근로자가 아닙니다.",
                f"The worker is {age} at the contract start and not a minor.",
                rule["article"],
                "warning",
            )
        return
    consent = s.get("guardianConsent")
    permit = _get(s, "guardianConsent.employmentPermitNumber")
    if age < limits["minimumAge"]["age"] and not _present(permit):
        yield Violation(
            "under-minimum-age",
            "employee.birthDate",
            f"만 {limits['minimumAge']['age']}세 미만(만 {age}세)은 취직인허증이 있어야 근로자로 사용할 수 있습니다.",
            f"A worker under {limits['minimumAge']['age']} (age {age}) may be employed only with an "
            "employment permit.",
            limits["minimumAge"]["article"],
        )
    if not isinstance(consent, dict) or not consent:
        if contract_type != "minor":  # for the minor variant the required-items check already says so
            yield Violation(
                "missing-guardian-consent",
                "guardianConsent",
                f"만 18세 미만(만 {age}세) 근로자는 친권자 또는 후견인의 동의서가 필요합니다.",
                f"A worker under 18 (age {age}) needs the written consent of a parent or guardian.",
                rule["guardianConsentArticle"],
            )
    else:
        if consent.get("familyCertificateKept") is not True:
            yield Violation(
                "family-certificate-missing",
                "guardianConsent.familyCertificateKept",
                "연소근로자의 가족관계기록사항 증명서를 사업장에 갖추어 두어야 합니다.",
                "The family-relation certificate of a minor must be kept at the workplace.",
                rule["guardianConsentArticle"],
            )
        consent_date = _date(consent.get("consentDate"))
        if consent_date and start and consent_date > start:
            yield Violation(
                "guardian-consent-after-start",
                "guardianConsent.consentDate",
                "친권자(후견인) 동의일이 근로 시작일보다 늦습니다.",
                "The guardian consented after the work started.",
                rule["guardianConsentArticle"],
            )
    if daily is not None and daily > rule["dailyHours"]:
        yield Violation(
            "minor-daily-hours-exceeded",
            "workingHours.dailyHours",
            f"연소근로자의 1일 소정근로시간은 {rule['dailyHours']}시간을 넘을 수 없습니다.",
            f"A minor's contracted daily hours may not exceed {rule['dailyHours']}.",
            rule["article"],
        )
    if weekly is not None and weekly > rule["weeklyHours"]:
        yield Violation(
            "minor-weekly-hours-exceeded",
            "workingHours.weeklyHours",
            f"연소근로자의 1주 소정근로시간은 {rule['weeklyHours']}시간을 넘을 수 없습니다.",
            f"A minor's contracted weekly hours may not exceed {rule['weeklyHours']}.",
            rule["article"],
        )
    schedule = s.get("dailySchedule")
    for i, row in enumerate(schedule if isinstance(schedule, list) else []):
        hours = _number(row.get("hours")) if isinstance(row, dict) else None
        if hours is not None and hours > rule["dailyHours"]:
            yield Violation(
                "minor-daily-hours-exceeded",
                f"dailySchedule[{i}].hours",
                f"연소근로자의 1일 소정근로시간은 {rule['dailyHours']}시간을 넘을 수 없습니다.",
                f"A minor's contracted daily hours may not exceed {rule['dailyHours']}.",
                rule["article"],
            )


def _part_time(
    s: dict[str, Any], contract_type: Any, weekly: Fraction | None, limits: dict[str, Any]
) -> Iterator[Violation]:
    if contract_type != "part-time":
        return
    rule = limits["partTimeOvertime"]
    raw = _get(s, "wage.overtimeRate")
    rate = _number(raw)
    if raw is not _MISSING and (rate is None or rate < Fraction(str(rule["minRate"]))):
        yield Violation(
            "part-time-overtime-rate",
            "wage.overtimeRate",
            f"단시간근로자의 초과근로에는 통상임금의 {int(rule['minRate'] * 100 - 100)}% 이상을 가산해야 합니다 "
            f"(가산율 {rule['minRate']}배 이상).",
            f"Part-time work beyond contracted hours must be paid at least {rule['minRate']} times "
            "the ordinary wage.",
            rule["article"],
        )
    if weekly is not None and weekly >= limits["weeklyHours"]["max"]:
        yield Violation(
            "not-part-time",
            "workingHours.weeklyHours",
            "단시간근로자의 소정근로시간은 통상근로자보다 짧아야 합니다.",
            "A part-time worker's contracted hours must be shorter than a full-time worker's.",
            "근로기준법 제2조제1항제9호",
            "warning",
        )
