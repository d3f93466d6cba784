"""Working time: which days are workdays, which hours of them count, and deadlines counted in working hours.

The calendar comes from the `working_calendar` hook, like any plugin's answer: the workflow engine's built-in
plugin (`workflows/plugin.py`) answers last with China's calendar for 2026 (weekends, the official holidays and
the make-up workdays, from `calendars/china_2026.json`), so a plugin that answers replaces it, e.g. with next
year's holidays or a city's own office hours. Outside the years a calendar knows, Monday–Friday are workdays.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import json
import logging
from pathlib import Path
from zoneinfo import ZoneInfo

from minqing.core import city

DEFAULT_DATA = Path(__file__).parent / "calendars" / "china_2026.json"
MAX_DAYS = 3 * 366  # a deadline further than this is a mistake in a definition, not a time limit
log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class WorkingCalendar:
    timezone: str | None = None   # None: the city's zone (`core.city`), which is what a national calendar means
    periods: tuple[tuple[dt.time, dt.time], ...] = ((dt.time(8, 30), dt.time(12)), (dt.time(13, 30), dt.time(18)))
    holidays: frozenset[dt.date] = frozenset()
    workdays: frozenset[dt.date] = frozenset()   # make-up workdays (调休上班) that fall on a weekend

    @classmethod
    def from_dict(cls, data: dict) -> WorkingCalendar:
        periods = tuple((dt.time.fromisoformat(start), dt.time.fromisoformat(end))
                        for start, end in data.get("periods", [["08:30", "12:00"], ["13:30", "18:00"]]))
        return cls(timezone=data.get("timezone"), periods=periods,
                   holidays=frozenset(map(dt.date.fromisoformat, data.get("holidays", ()))),
                   workdays=frozenset(map(dt.date.fromisoformat, data.get("workdays", ()))))

    @property
    def hours_per_day(self) -> float:
        return sum(_hours(start, end) for start, end in self.periods)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone) if self.timezone else city.zone()

    def is_workday(self, day: dt.date) -> bool:
        if day in self.workdays:
            return True
        return day not in self.holidays and day.weekday() < 5

    def intervals(self, day: dt.date):
        """The working periods of `day` as aware (start, end) moments, whether or not it is a workday."""
        zone = self.zone
        for start, end in self.periods:
            yield dt.datetime.combine(day, start, zone), dt.datetime.combine(day, end, zone)

    def add_hours(self, start: dt.datetime, hours: float) -> dt.datetime:
        """The moment `hours` working hours after `start` (an aware datetime); the result is in UTC."""
        remaining = dt.timedelta(hours=hours)
        day = start.astimezone(self.zone).date()
        for _ in range(MAX_DAYS):
            if self.is_workday(day):
                for begin, end in self.intervals(day):
                    begin = max(begin, start)
                    if begin >= end:
                        continue
                    if begin + remaining <= end:
                        return (begin + remaining).astimezone(dt.UTC)
                    remaining -= end - begin
            day += dt.timedelta(days=1)
        raise ValueError(f"{hours} working hours is beyond the calendar's reach")

    def hours_between(self, start: dt.datetime, end: dt.datetime) -> float:
        """Working hours from `start` to `end` (0 when end is not after start)."""
        if end <= start:
            return 0.0
        total = dt.timedelta()
        day = start.astimezone(self.zone).date()
        last = end.astimezone(self.zone).date()
        while day <= last:
            if self.is_workday(day):
                for begin, finish in self.intervals(day):
                    overlap = min(finish, end) - max(begin, start)
                    if overlap > dt.timedelta():
                        total += overlap
            day += dt.timedelta(days=1)
        return total.total_seconds() / 3600


def _hours(start: dt.time, end: dt.time) -> float:
    return (dt.datetime.combine(dt.date.min, end) - dt.datetime.combine(dt.date.min, start)).total_seconds() / 3600


@functools.cache
def default_calendar() -> WorkingCalendar:
    """China's official calendar for 2026: the workflow engine plugin's answer to `working_calendar`."""
    return WorkingCalendar.from_dict(json.loads(DEFAULT_DATA.read_text(encoding="utf-8")))


def for_platform(platform) -> WorkingCalendar:
    """The calendar of the first plugin that answers the `working_calendar` hook (a WorkingCalendar or its dict).

    The workflow engine's own plugin always answers (last), so no answer at all means its call failed (the failure
    is recorded on it): deadlines then count plain Monday–Friday office hours rather than refusing every report."""
    answer = platform.plugins.call_first("working_calendar")
    if answer is None:
        log.error("no plugin answered working_calendar; counting Monday to Friday office hours without holidays")
        return WorkingCalendar()
    _plugin, calendar = answer
    return calendar if isinstance(calendar, WorkingCalendar) else WorkingCalendar.from_dict(calendar)


def deadline(calendar: WorkingCalendar, start: dt.datetime, hours: float, working: bool) -> dt.datetime:
    return calendar.add_hours(start, hours) if working else start + dt.timedelta(hours=hours)


def remaining(calendar: WorkingCalendar, now: dt.datetime, until: dt.datetime, working: bool) -> float:
    """Hours left until `until` on the same clock `deadline` used; negative when it has passed."""
    if working:
        return calendar.hours_between(now, until) if until > now else -calendar.hours_between(until, now)
    return (until - now).total_seconds() / 3600
