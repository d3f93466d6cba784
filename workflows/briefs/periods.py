"""The periods a brief covers: a calendar month ("2026-11") or an ISO week ("2026-W45") in the city's time.

A period covers [its first day 00:00, the day after its last 00:00) in the city's zone (`core.city`), as UTC
datetimes for queries — the months of the rankings (`workflows.months`) and weeks alike. Each period knows the one
before it and the same period a year earlier (the same month; the same ISO week number, or week 52 when the
earlier year has no week 53).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import re

from minqing.core import city

from .. import months
from ..errors import FormInvalid

WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


@dataclasses.dataclass(frozen=True)
class Period:
    key: str                 # "2026-11" or "2026-W45"
    first_day: dt.date
    last_day: dt.date        # inclusive

    @property
    def kind(self) -> str:
        return "week" if "W" in self.key else "month"

    @property
    def start(self) -> dt.datetime:
        return city.midnight(self.first_day)

    @property
    def end(self) -> dt.datetime:
        return city.midnight(self.last_day + dt.timedelta(days=1))

    @property
    def title(self) -> str:
        if self.kind == "month":
            return months.title(self.key)
        year, week = self.key.split("-W")
        return f"{year}年第{int(week)}周（{self.first_day:%m月%d日}—{self.last_day:%m月%d日}）"

    @property
    def short_title(self) -> str:
        return months.title(self.key) if self.kind == "month" else f"{self.key[:4]}年第{int(self.key[6:])}周"

    def previous(self) -> Period:
        return parse(months.previous(self.key)) if self.kind == "month" else _week(self.first_day - dt.timedelta(7))

    def a_year_before(self) -> Period:
        if self.kind == "month":
            return parse(f"{int(self.key[:4]) - 1}{self.key[4:]}")
        year, week = int(self.key[:4]) - 1, int(self.key[6:])
        weeks_then = dt.date(year, 12, 28).isocalendar().week     # 28 December is always in the year's last week
        return parse(f"{year}-W{min(week, weeks_then):02d}")

    def back(self, count: int) -> list[Period]:
        """This period and the `count - 1` before it, the oldest first."""
        found = [self]
        while len(found) < count:
            found.append(found[-1].previous())
        return found[::-1]


def _week(day: dt.date) -> Period:
    year, week, _ = day.isocalendar()
    return parse(f"{year}-W{week:02d}")


def parse(key: str, field: str = "period") -> Period:
    """The period a key names; FormInvalid naming `field` (in Chinese) when it names none."""
    key = (key or "").strip()
    match = WEEK.match(key)
    if match:
        year, week = int(match.group(1)), int(match.group(2))
        if year >= 2000 and 1 <= week <= dt.date(year, 12, 28).isocalendar().week:
            first = dt.date.fromisocalendar(year, week, 1)
            return Period(f"{year}-W{week:02d}", first, first + dt.timedelta(days=6))
        raise FormInvalid({field: [f"统计周期“{key}”不存在：{year} 年没有第 {week} 周"]})
    try:
        month = months.parse(key, field)
    except FormInvalid:
        raise FormInvalid({field: [f"统计周期“{key[:20]}”格式不正确，应为月份（如 2026-11）或周（如 2026-W45）"]}) \
            from None
    year, number = int(month[:4]), int(month[5:])
    first = dt.date(year, number, 1)
    following = dt.date(year + (number == 12), number % 12 + 1, 1)
    return Period(month, first, following - dt.timedelta(days=1))


def last_month(today: dt.date) -> Period:
    """The month before `today`'s: what a monthly brief is usually about."""
    return parse(f"{(today.replace(day=1) - dt.timedelta(days=1)):%Y-%m}")


__all__ = ["Period", "last_month", "parse"]
