"""Career view arithmetic (holder_wallet/career.py): overlaps once, month arithmetic, filters."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pytest

from holder_wallet import career
from holder_wallet.career import Span

TODAY = date(2027, 1, 15)


@dataclass(frozen=True)
class Item:
    credential_id: str
    kind: str
    start: str
    end: str
    project: str = "2026 서울 데이터 서포터즈"
    contract_id: str | None = None
    status: str = "completed"
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def summary(self) -> dict[str, Any]:
        return {"project": self.project, "projectId": f"urn:p:{self.project}", "department": "디지털정책과",
                "duties": "데이터 점검", "position": "서포터즈", "startDate": self.start, "endDate": self.end, **self.extra}  # fmt: skip


@pytest.mark.parametrize(
    "start, end, expected",
    [
        ("2026-03-02", "2026-04-01", Span(1, 0)),  # one whole month, both ends included
        ("2026-03-02", "2026-11-30", Span(8, 29)),
        ("2026-01-01", "2026-12-31", Span(12, 0)),
        ("2026-01-31", "2026-02-27", Span(0, 28)),  # a month from 31 Jan ends on 28 Feb (Civil Act art. 160)
        ("2026-01-31", "2026-02-28", Span(1, 0)),
        ("2024-01-31", "2024-02-28", Span(0, 29)),  # leap year: the month ends on 29 Feb
        ("2024-01-31", "2024-02-29", Span(1, 0)),
        ("2026-05-10", "2026-05-10", Span(0, 1)),
        ("2026-05-10", "2026-05-09", Span(0, 0)),
        ("2025-12-15", "2026-01-14", Span(1, 0)),  # across the new year
    ],
)
def test_span_is_calendar_month_arithmetic(start: str, end: str, expected: Span) -> None:
    assert career.span(date.fromisoformat(start), date.fromisoformat(end)) == expected


def test_month_end_follows_the_civil_act() -> None:
    assert career.month_end(date(2026, 3, 2), 1) == date(2026, 4, 1)
    assert career.month_end(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert career.month_end(date(2026, 1, 30), 1) == date(2026, 2, 28)
    assert career.month_end(date(2026, 3, 1), 1) == date(2026, 3, 31)
    assert career.month_end(date(2026, 3, 1), 0) == date(2026, 2, 28)


def test_add_months_clamps_to_the_end_of_month() -> None:
    assert career.add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert career.add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert career.add_months(date(2026, 11, 30), 3) == date(2027, 2, 28)
    assert career.add_months(date(2026, 3, 15), -3) == date(2025, 12, 15)


def test_overlapping_and_touching_periods_count_once() -> None:
    items = [
        Item("c1", "career", "2026-03-02", "2026-06-30", project="A"),
        Item("c2", "career", "2026-05-01", "2026-08-31", project="B"),  # overlaps c1 by two months
        Item("c3", "career", "2026-09-01", "2026-09-30", project="C"),  # touches c2: one stretch
    ]
    got = career.build(items, today=TODAY)
    # 2 March .. 30 September: 213 days, 6 months and 29 days (2 Sep .. 30 Sep)
    assert got.total_days == (date(2026, 9, 30) - date(2026, 3, 2)).days + 1 == 213
    assert got.total == Span(6, 29)
    assert [w.credential_id for w in got.works] == ["c3", "c2", "c1"]
    assert sum(w.days for w in got.works) > got.total_days  # each entry keeps its own days


def test_separate_stretches_carry_thirty_days_into_a_month() -> None:
    items = [
        Item("a", "career", "2025-03-01", "2025-03-20"),  # 20 days
        Item("b", "career", "2025-07-01", "2025-07-15"),  # 15 days
        Item("c", "career", "2025-10-01", "2025-11-30"),  # 2 months
    ]
    got = career.build(items, today=TODAY)
    assert got.total_days == 20 + 15 + 61
    assert got.total == Span(3, 5)  # 2 months + 35 days -> 3 months 5 days


def test_a_career_record_replaces_its_contract_and_revoked_ones_are_left_out() -> None:
    items = [
        Item("k1", "contract", "2026-03-02", "2026-12-31"),
        Item("r1", "career", "2026-03-02", "2026-06-30", contract_id="k1"),  # ended early
        Item("k0", "contract", "2025-01-01", "2025-12-31", status="revoked"),  # superseded amendment
    ]
    got = career.build(items, today=TODAY)
    assert [w.credential_id for w in got.works] == ["r1"]
    assert got.total == Span(3, 29)


def test_a_running_contract_counts_up_to_today() -> None:
    items = [
        Item("k", "contract", "2026-12-01", "2027-06-30", status="active"),
        Item("future", "contract", "2027-03-01", "2027-04-30", status="active"),  # not started: nothing worked
    ]
    got = career.build(items, today=TODAY)
    (work,) = got.works
    assert work.ongoing and work.end == date(2027, 6, 30)
    assert work.days == got.total_days == 46  # 1 Dec .. 15 Jan
    assert got.total == Span(1, 15)


def test_filters_by_year_and_project() -> None:
    items = [
        Item("a", "career", "2025-11-01", "2026-02-28", project="A"),
        Item("b", "career", "2026-06-01", "2026-06-30", project="B"),
        Item("c", "career", "2024-05-01", "2024-05-31", project="A"),
    ]
    all_ = career.build(items, today=TODAY)
    assert all_.years == (2026, 2025, 2024)
    assert [name for _id, name in all_.projects] == ["A", "B"]
    y2026 = career.build(items, today=TODAY, year=2026)
    assert [w.credential_id for w in y2026.works] == ["b", "a"]
    assert y2026.total_days == 59 + 30  # only Jan and Feb of "a" fall in 2026
    assert {w.credential_id: w.days for w in y2026.works} == {"a": 59, "b": 30}
    only_a = career.build(items, today=TODAY, project="urn:p:A")
    assert [w.credential_id for w in only_a.works] == ["a", "c"]
    assert only_a.years == all_.years  # choices stay complete
    assert career.build(items, today=TODAY, year=2023).works == ()


def test_certificates_and_broken_summaries_are_ignored() -> None:
    items = [
        Item("cert", "certificate", "2026-03-02", "2026-11-30"),
        Item("bad", "career", "not a date", "2026-11-30"),
        Item("ok", "career", "2026-03-02", "2026-03-31"),
    ]
    got = career.build(items, today=TODAY)
    # one 30-day stretch: its 30 remaining days carry into a month
    assert [w.credential_id for w in got.works] == ["ok"] and got.total == Span(1, 0) and got.total_days == 30


def test_format_span_in_both_languages() -> None:
    assert career.format_span(Span(8, 29), "ko") == "8개월 29일"
    assert career.format_span(Span(1, 1), "en") == "1 month 1 day"
    assert career.format_span(Span(12, 0), "en") == "12 months"
    assert career.format_span(Span(0, 0), "ko") == "0일"


def test_total_days_match_a_day_by_day_count() -> None:
    import random

    rng = random.Random(39)
    for _ in range(200):
        items, days = [], set()
        for n in range(rng.randint(1, 8)):
            start = date(2024, 1, 1).toordinal() + rng.randint(0, 900)
            end = start + rng.randint(0, 200)
            items.append(Item(f"c{n}", "career", date.fromordinal(start).isoformat(), date.fromordinal(end).isoformat()))
            days.update(d for d in range(start, end + 1) if d <= TODAY.toordinal())
        assert career.build(items, today=TODAY).total_days == len(days)
