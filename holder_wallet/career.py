"""Career management (경력 관리): the worker's work from every contract and career record, and the totals.

Pure computation, no database and no Flask: the career page passes in the held credentials'
summaries and `today`, and renders what comes out.

Rules (README "Career view"):

* one entry per piece of work: a career record when the city issued one for a contract (it holds
  the period actually worked, e.g. a contract ended early), else the contract itself; revoked
  credentials (a superseded amendment, a cancelled contract) are left out;
* a contract still running counts up to `today` (inclusive), not to its planned end;
* total days are calendar days with any work: overlapping periods count once;
* months: each continuous stretch of work gives its whole calendar months, counted as the Civil Act
  (art. 160) counts them (2 March to 1 April is one month; a month from 31 January ends on the last
  day of February) and its remaining days; the remaining
  days of all stretches are added up and every 30 of them make one more month.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Protocol

__all__ = ["Career", "Span", "Work", "add_months", "build", "month_end", "format_span", "merge", "span"]

DAYS_PER_MONTH = 30  # remaining days of separate stretches: 30 of them count as one month


class HeldSummary(Protocol):
    """What the career view needs of a held credential (`holder_wallet.store.Held` has it)."""

    credential_id: str
    kind: str
    contract_id: str | None
    status: str
    summary: dict[str, Any]


@dataclass(frozen=True)
class Span:
    """A length of time worked, as people say it: N months and D days."""

    months: int
    days: int

    def __add__(self, other: Span) -> Span:
        return Span(self.months + other.months, self.days + other.days)

    def carried(self) -> Span:
        """Every 30 remaining days as one more month."""
        return Span(self.months + self.days // DAYS_PER_MONTH, self.days % DAYS_PER_MONTH)


@dataclass(frozen=True)
class Work:
    """One piece of work on the timeline."""

    credential_id: str
    kind: str  # contract | career
    project: str
    project_id: str
    department: str
    duties: str
    position: str
    start: date
    end: date  # the last day as written (a running contract: its planned last day)
    ongoing: bool  # a contract that has started and not ended by `today`
    status: str
    days: int  # days worked in this period up to `today` (within the year filter, if any)


@dataclass(frozen=True)
class Career:
    works: tuple[Work, ...]  # newest start first
    total_days: int  # calendar days with any work, overlaps once
    total: Span  # whole months and remaining days
    years: tuple[int, ...]  # years with work, newest first: the year filter's choices
    projects: tuple[tuple[str, str], ...]  # (project id, name), by name: the project filter's choices


def add_months(day: date, months: int) -> date:
    """`day` moved by whole calendar months; a day the target month lacks becomes its last day."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def month_end(start: date, months: int) -> date:
    """The last day of `months` whole months from `start` (Civil Act art. 160: the day before the
    corresponding day, or the month's last day when it has no corresponding day)."""
    target = add_months(start, months)
    if target.day != start.day:  # no corresponding day (31 Jan -> February): the month's last day
        return target
    return target - timedelta(days=1)


def span(start: date, end: date) -> Span:
    """Whole months and remaining days from `start` to `end`, both days included."""
    if end < start:
        return Span(0, 0)
    months = max((end.year - start.year) * 12 + end.month - start.month + 1, 0)
    while months > 0 and month_end(start, months) > end:
        months -= 1
    return Span(months, (end - month_end(start, months)).days)


def merge(periods: Iterable[tuple[date, date]]) -> list[tuple[date, date]]:
    """Periods (both ends included) joined where they overlap or touch, in order."""
    out: list[tuple[date, date]] = []
    for start, end in sorted(p for p in periods if p[0] <= p[1]):
        if out and start <= out[-1][1] + timedelta(days=1):
            if end > out[-1][1]:
                out[-1] = (out[-1][0], end)
        else:
            out.append((start, end))
    return out


def _date(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def _work(item: HeldSummary, today: date) -> Work | None:
    s: Mapping[str, Any] = item.summary or {}
    start = _date(s.get("startDate"))
    if start is None or start > today:
        return None  # not started yet: nothing worked
    planned = _date(s.get("endDate"))
    ongoing = item.kind == "contract" and (planned is None or planned >= today)
    end = planned or today
    worked_to = min(end, today)
    return Work(
        credential_id=item.credential_id,
        kind=item.kind,
        project=str(s.get("project") or ""),
        project_id=str(s.get("projectId") or s.get("project") or ""),
        department=str(s.get("department") or ""),
        duties=str(s.get("duties") or ""),
        position=str(s.get("position") or ""),
        start=start,
        end=end,
        ongoing=ongoing,
        status=item.status,
        days=(worked_to - start).days + 1,
    )


def _clip(work: Work, first: date, last: date, today: date) -> tuple[date, date] | None:
    start, end = max(work.start, first), min(work.end, today, last)
    return (start, end) if start <= end else None


def build(items: Iterable[HeldSummary], *, today: date, year: int | None = None, project: str | None = None) -> Career:
    """The timeline and totals of the worker's contracts and career records.

    `year` keeps the work within that calendar year (and counts only its days there); `project`
    keeps one project (by id). The filter choices (`years`, `projects`) always cover all the work.
    """
    rows = [i for i in items if i.kind in ("contract", "career") and i.status != "revoked"]
    # a career record replaces the contract it is about: it says what was actually worked
    recorded = {r.contract_id for r in rows if r.kind == "career" and r.contract_id}
    works = [w for i in rows if not (i.kind == "contract" and i.credential_id in recorded) if (w := _work(i, today))]
    years = sorted({y for w in works for y in range(w.start.year, min(w.end, today).year + 1)}, reverse=True)
    projects = sorted({(w.project_id, w.project) for w in works}, key=lambda p: (p[1], p[0]))

    first, last = (date(year, 1, 1), date(year, 12, 31)) if year is not None else (date.min, date.max)
    chosen: list[Work] = []
    periods: list[tuple[date, date]] = []
    for w in works:
        if project is not None and w.project_id != project:
            continue
        clipped = _clip(w, first, last, today)
        if clipped is None:
            continue
        periods.append(clipped)
        chosen.append(w if year is None else _with_days(w, (clipped[1] - clipped[0]).days + 1))
    merged = merge(periods)
    total = sum((span(a, b) for a, b in merged), Span(0, 0)).carried()
    chosen.sort(key=lambda w: (w.start, w.end, w.credential_id), reverse=True)
    return Career(
        works=tuple(chosen),
        total_days=sum((b - a).days + 1 for a, b in merged),
        total=total,
        years=tuple(years),
        projects=tuple(projects),
    )


def _with_days(work: Work, days: int) -> Work:
    from dataclasses import replace

    return replace(work, days=days)


def format_span(value: Span, lang: str) -> str:
    """"8개월 29일" / "8 months 29 days" (a zero part is left out, except for 0 days)."""
    parts: Sequence[tuple[int, str, str, str]] = ((value.months, "개월", "month", "months"), (value.days, "일", "day", "days"))
    shown = [(n, ko, one, many) for n, ko, one, many in parts if n] or [(0, "일", "day", "days")]
    if lang == "ko":
        return " ".join(f"{n}{ko}" for n, ko, _one, _many in shown)
    return " ".join(f"{n} {one if n == 1 else many}" for n, _ko, one, many in shown)
