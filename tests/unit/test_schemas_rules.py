"""Labor-law rules of schemas.check_contract: each rule with a failing and a passing case."""

from __future__ import annotations

import copy
from datetime import date
from typing import Any

import pytest

from schemas import UnknownEntry, Violation, check_contract, example, minimum_wage, template

RATES = {2020: 8590, 2021: 8720, 2022: 9160, 2023: 9620, 2024: 9860, 2025: 10030, 2026: 10320}


def part_time() -> dict[str, Any]:
    subject: dict[str, Any] = example("labor-contract-part-time")["credentialSubject"]
    return subject


def full_time(year: int = 2026, *, wage_type: str = "hourly", amount: int | None = None) -> dict[str, Any]:
    """An adult fixed-term 40 h/week contract for the whole of `year`."""
    s = part_time()
    s["contractType"] = "fixed-term"
    s["contractPeriod"] = {"startDate": f"{year}-01-01", "endDate": f"{year}-12-31"}
    s["workingHours"] = {
        "startTime": "09:00",
        "endTime": "18:00",
        "breakMinutes": 60,
        "dailyHours": 8,
        "weeklyHours": 40,
    }
    del s["dailySchedule"]
    del s["wage"]["overtimeRate"]
    s["wage"]["type"] = wage_type
    s["wage"]["amount"] = amount if amount is not None else RATES.get(year, 10320)
    return s


def codes(violations: list[Violation], severity: str | None = None) -> set[str]:
    return {v.code for v in violations if severity is None or v.severity == severity}


def test_example_and_full_time_comply() -> None:
    assert check_contract(part_time()) == []
    assert check_contract(full_time()) == []


# -- minimum wage ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("year", "rate"), sorted(RATES.items()))
def test_minimum_wage_table(year: int, rate: int) -> None:
    assert minimum_wage(year) == rate
    assert check_contract(full_time(year, amount=rate)) == []
    found = check_contract(full_time(year, amount=rate - 1))
    assert codes(found) == {"below-minimum-wage"}
    (v,) = found
    assert v.path == "wage.amount" and v.article == "최저임금법 제6조"
    assert f"{rate:,}" in v.message_ko and f"{rate:,}" in v.message_en


@pytest.mark.parametrize("year", [2019, 2031])
def test_minimum_wage_unknown_year_is_a_clear_error(year: int) -> None:
    with pytest.raises(UnknownEntry, match=f"no minimum wage is recorded for {year}") as info:
        minimum_wage(year)
    assert "minimum-wage.json" in info.value.message_ko


def test_unknown_year_is_reported_not_raised() -> None:
    s = full_time()
    s["contractPeriod"] = {"startDate": "2031-01-01", "endDate": "2031-06-30"}
    assert codes(check_contract(s)) == {"minimum-wage-year-unknown"}


def test_year_boundary_uses_the_start_year() -> None:
    s = full_time(amount=10030)  # the 2025 rate
    s["contractPeriod"] = {"startDate": "2025-12-31", "endDate": "2025-12-31"}
    assert check_contract(s) == []
    s["contractPeriod"] = {"startDate": "2026-01-01", "endDate": "2026-01-31"}
    assert codes(check_contract(s)) == {"below-minimum-wage"}


def test_contract_into_next_year_warns_about_the_new_rate() -> None:
    s = full_time(amount=10030)
    s["contractPeriod"] = {"startDate": "2025-12-01", "endDate": "2026-02-28"}
    found = check_contract(s)
    assert codes(found) == {"minimum-wage-rises"}
    assert found[0].severity == "warning" and "2026" in found[0].message_en
    assert check_contract(s, on=date(2026, 1, 1))[0].code == "below-minimum-wage"


def test_daily_wage_is_converted_with_daily_hours() -> None:
    assert check_contract(full_time(wage_type="daily", amount=10320 * 8)) == []
    assert codes(check_contract(full_time(wage_type="daily", amount=10320 * 8 - 1))) == {"below-minimum-wage"}


def test_monthly_wage_uses_209_hours_for_40_hours() -> None:
    assert check_contract(full_time(wage_type="monthly", amount=2_156_880)) == []
    assert codes(check_contract(full_time(wage_type="monthly", amount=2_156_879))) == {"below-minimum-wage"}


def test_monthly_wage_is_pro_rata_for_part_time() -> None:
    s = part_time()  # 25 h/week -> 209 * 25 / 40 = 130.625 h -> 1,348,050 KRW in 2026
    s["wage"].update(type="monthly", amount=1_348_050)
    assert check_contract(s) == []
    s["wage"]["amount"] = 1_348_049
    assert codes(check_contract(s)) == {"below-minimum-wage"}


# -- hours and breaks -----------------------------------------------------------------------------


def test_break_for_eight_hours_is_one_hour() -> None:
    s = full_time()
    s["workingHours"].update(endTime="17:30", breakMinutes=30)
    found = check_contract(s)
    assert codes(found) == {"break-too-short"}
    assert found[0].article == "근로기준법 제54조제1항" and found[0].path == "workingHours.breakMinutes"


@pytest.mark.parametrize(
    ("end", "break_minutes", "hours", "ok"),
    [
        ("13:00", 0, 4, False),
        ("13:30", 30, 4, True),
        ("12:30", 0, 3.5, True),
        ("17:30", 30, 8, False),
        ("18:00", 60, 8, True),
    ],
)
def test_break_steps_on_the_per_day_schedule(end: str, break_minutes: int, hours: float, ok: bool) -> None:
    s = part_time()
    s["dailySchedule"][0].update(startTime="09:00", endTime=end, breakMinutes=break_minutes, hours=hours)
    found = [v for v in check_contract(s) if v.path.startswith("dailySchedule[0]")]
    assert codes(found) == (set() if ok else {"break-too-short"})


def test_adult_weekly_and_daily_limits() -> None:
    s = full_time()
    s["workingHours"].update(endTime="19:00", dailyHours=9, weeklyHours=45)
    assert {"daily-hours-exceeded", "weekly-hours-exceeded"} <= codes(check_contract(s))


def test_inconsistent_hours_are_reported() -> None:
    s = part_time()
    s["workingHours"]["dailyHours"] = 6
    s["dailySchedule"][4]["hours"] = 4
    found = codes(check_contract(s))
    assert "hours-inconsistent" in found


def test_weekly_holiday_on_a_working_day() -> None:
    s = part_time()
    s["workingDays"]["weeklyHoliday"] = "MO"
    assert "weekly-holiday-is-working-day" in codes(check_contract(s))


def test_under_15_hours_needs_no_weekly_holiday_or_annual_leave() -> None:
    s = part_time()
    for row in s["dailySchedule"]:
        row.update(endTime="13:00", breakMinutes=0, hours=3)
    s["workingHours"].update(endTime="13:00", breakMinutes=0, dailyHours=3, weeklyHours=15)
    del s["workingHours"]["breakStart"], s["workingHours"]["breakEnd"]
    del s["annualLeave"], s["workingDays"]["weeklyHoliday"]
    assert {v.path for v in check_contract(s)} == {"annualLeave", "workingDays.weeklyHoliday"}
    for row in s["dailySchedule"]:
        row.update(endTime="12:48", hours=2.8)
    s["workingHours"].update(endTime="12:48", dailyHours=2.8, weeklyHours=14)
    assert check_contract(s) == []


# -- minors ---------------------------------------------------------------------------------------


def minor(birth: str = "2009-05-01") -> dict[str, Any]:
    """A 16-year-old on the minor variant, 6 h a day, 30 a week, from 2026-03-02."""
    s = part_time()
    s["contractType"] = "minor"
    s["employee"]["birthDate"] = birth
    del s["dailySchedule"], s["wage"]["overtimeRate"]
    s["workingHours"].update(startTime="09:00", endTime="16:00", dailyHours=6, weeklyHours=30)
    s["guardianConsent"] = {
        "guardianName": "홍아버지",
        "relationship": "부",
        "consentDate": "2026-02-20",
        "familyCertificateKept": True,
    }
    return s


def test_minor_within_limits_complies() -> None:
    assert check_contract(minor()) == []


def test_minor_daily_and_weekly_hours() -> None:
    s = minor()
    s["workingHours"].update(endTime="17:00", dailyHours=7, weeklyHours=35)
    assert check_contract(s) == []
    s["workingHours"].update(endTime="18:00", dailyHours=8, weeklyHours=40)
    found = check_contract(s)
    assert codes(found) == {"minor-daily-hours-exceeded", "minor-weekly-hours-exceeded"}
    assert {v.article for v in found} == {"근로기준법 제69조"}


def test_minor_schedule_row_over_seven_hours() -> None:
    s = part_time()
    s["employee"]["birthDate"] = "2010-01-01"
    s["guardianConsent"] = minor()["guardianConsent"]
    s["dailySchedule"][0].update(endTime="19:00", hours=8)
    found = check_contract(s)
    assert "minor-daily-hours-exceeded" in codes(found)
    assert any(v.path == "dailySchedule[0].hours" for v in found)


def test_missing_guardian_consent() -> None:
    s = minor()
    del s["guardianConsent"]
    assert [(v.code, v.path) for v in check_contract(s)] == [("missing-item", "guardianConsent")]
    s["contractType"] = "fixed-term"  # the age, not the variant, decides
    found = check_contract(s)
    assert [(v.code, v.article) for v in found] == [("missing-guardian-consent", "근로기준법 제66조")]


def test_guardian_consent_details() -> None:
    s = minor()
    s["guardianConsent"].update(familyCertificateKept=False, consentDate="2026-03-03")
    assert codes(check_contract(s)) == {"family-certificate-missing", "guardian-consent-after-start"}


def test_age_is_counted_at_the_contract_start() -> None:
    assert codes(check_contract(minor("2008-03-03"))) == set()  # 17 on 2026-03-02: still a minor
    s = minor("2008-03-02")  # 18 on the start day
    assert [(v.code, v.severity) for v in check_contract(s)] == [("not-a-minor", "warning")]
    adult = minor("2008-03-02")
    adult["contractType"] = "fixed-term"
    del adult["guardianConsent"]
    adult["workingHours"].update(endTime="18:00", dailyHours=8, weeklyHours=40)
    assert check_contract(adult) == []


def test_under_minimum_age() -> None:
    s = minor("2011-06-01")  # 14 at the start
    found = check_contract(s)
    assert [(v.code, v.article) for v in found] == [("under-minimum-age", "근로기준법 제64조제1항")]
    s["guardianConsent"]["employmentPermitNumber"] = "서울-2026-0001"
    assert check_contract(s) == []


# -- part-time, fixed term, required items ----------------------------------------------------------


@pytest.mark.parametrize(("rate", "ok"), [(1.0, False), (1.25, False), (1.49, False), (1.5, True), (2, True)])
def test_part_time_overtime_rate(rate: float, ok: bool) -> None:
    s = part_time()
    s["wage"]["overtimeRate"] = rate
    found = check_contract(s)
    assert (found == []) is ok
    if not ok:
        assert [(v.code, v.article) for v in found] == [
            ("part-time-overtime-rate", "기간제 및 단시간근로자 보호 등에 관한 법률 제6조제3항")
        ]


def test_part_time_overtime_rate_is_required() -> None:
    s = part_time()
    del s["wage"]["overtimeRate"]
    assert [(v.code, v.path) for v in check_contract(s)] == [("missing-item", "wage.overtimeRate")]


def test_fixed_term_over_two_years_warns() -> None:
    s = full_time()
    s["contractPeriod"] = {"startDate": "2026-01-01", "endDate": "2027-12-31"}
    assert check_contract(s) == []
    s["contractPeriod"]["endDate"] = "2028-01-01"
    found = check_contract(s)
    assert [(v.code, v.severity) for v in found] == [("fixed-term-over-two-years", "warning")]


def test_inverted_period_and_regular_end_date() -> None:
    s = full_time()
    s["contractPeriod"]["endDate"] = "2025-12-31"
    assert "period-inverted" in codes(check_contract(s))
    s = full_time()
    s["contractType"] = "regular"
    assert codes(check_contract(s)) == {"regular-has-end-date"}
    del s["contractPeriod"]["endDate"]
    assert check_contract(s) == []


@pytest.mark.parametrize(
    ("variant", "path"),
    [
        ("part-time", "contractPeriod.startDate"),
        ("part-time", "contractPeriod.endDate"),
        ("part-time", "workplace"),
        ("part-time", "duties"),
        ("part-time", "workingHours.weeklyHours"),
        ("part-time", "workingDays.weeklyHoliday"),
        ("part-time", "dailySchedule"),
        ("part-time", "wage.amount"),
        ("part-time", "wage.payday"),
        ("part-time", "annualLeave"),
        ("part-time", "contractDelivery"),
        ("part-time", "socialInsurance"),
        ("fixed-term", "contractPeriod.endDate"),
        ("regular", "wage.type"),
    ],
)
def test_each_missing_item_is_reported(variant: str, path: str) -> None:
    s = full_time() if variant != "part-time" else part_time()
    s["contractType"] = variant
    if variant == "regular":
        del s["contractPeriod"]["endDate"]
    *parents, leaf = path.split(".")
    node = s
    for p in parents:
        node = node[p]
    del node[leaf]
    assert ("missing-item", path) in {(v.code, v.path) for v in check_contract(s)}


@pytest.mark.parametrize("variant", ["regular", "fixed-term", "part-time", "minor"])
def test_template_defaults_comply(variant: str) -> None:
    t = template(variant)
    s = copy.deepcopy(t["defaults"])
    s.update(
        id="did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
        workplace="서울특별시청",
        duties="자료 정리",
        employer={
            "id": "did:web:example.org",
            "name": "서울특별시 예시과",
            "representative": "김예시",
            "address": "서울특별시 중구 예시대로 1",
        },
        employee={"name": "홍길동", "birthDate": "2009-05-01" if variant == "minor" else "1990-01-01"},
    )
    s["contractPeriod"] = {"startDate": "2026-03-02"}
    if variant != "regular":
        s["contractPeriod"]["endDate"] = "2026-12-31"
    if variant == "minor":
        s["guardianConsent"].update(guardianName="홍부모", relationship="모", consentDate="2026-02-01")
    assert check_contract(s) == []


@pytest.mark.parametrize(
    "bad",
    [
        "not a dict",
        [],
        {},
        {"wage": {"amount": "abc", "type": "hourly"}},
        {"workingHours": {"dailyHours": float("nan"), "weeklyHours": float("inf"), "startTime": "25:99"}},
        {"contractPeriod": {"startDate": "2026-02-30"}, "employee": {"birthDate": 19900101}},
        {"contractType": "minor", "dailySchedule": [None, {"hours": True}, {"hours": 3, "day": "XX"}]},
    ],
)
def test_malformed_input_is_reported_never_raised(bad: Any) -> None:
    found = check_contract(bad)
    assert found and all(isinstance(v, Violation) and v.message_ko and v.message_en for v in found)


def test_violation_is_frozen() -> None:
    v = check_contract({})[0]
    with pytest.raises(AttributeError):
        v.code = "x"  # type: ignore[misc]
    assert v.message("en") == v.message_en and v.message() == v.message_ko
